import { describe, expect, it } from 'vitest';
import {
  classifyAnswer, classifyResponse, isAlreadyGone, isBisectable, isKnownCode, isRenewable, isRetryable, isThrottled,
  TIME_BUDGET_SPENT, UNCONFIRMED_RESULTS, type FailureClass, type ServiceFailure,
} from '../../../lib/modelarts/classifyFailure.js';

describe('classifyResponse', () => {
  it.each<{ status: number; code: string | undefined; expected: FailureClass }>([
    { status: 400, code: 'ModelArts.4420', expected: 'already_gone' },
    { status: 404, code: 'ModelArts.4420', expected: 'already_gone' },
    { status: 429, code: undefined, expected: 'throttled' },
    { status: 429, code: 'APIG.0308', expected: 'throttled' },
    { status: 400, code: 'APIG.0308', expected: 'throttled' },
    { status: 400, code: 'ModelArts.4395', expected: 'throttled' },
    { status: 400, code: 'ModelArts.6101', expected: 'throttled' },
    { status: 400, code: 'ModelArts.4424', expected: 'transient' },
    { status: 500, code: undefined, expected: 'transient' },
    { status: 502, code: undefined, expected: 'transient' },
    { status: 504, code: 'SOMETHING.ELSE', expected: 'transient' },
    { status: 401, code: 'APIG.0301', expected: 'credentials_expired' },
    { status: 401, code: 'APIG.0307', expected: 'credentials_expired' },
    { status: 403, code: 'ModelArts.4504', expected: 'credentials_expired' },
    { status: 400, code: 'ModelArts.9999', expected: 'permanent' },
    { status: 400, code: undefined, expected: 'permanent' },
    { status: 503, code: 'ModelArts.9999', expected: 'transient' },
    { status: 200, code: 'ModelArts.0104', expected: 'permanent' },
    { status: 429, code: 'ModelArts.72060075', expected: 'throttled' },
    { status: 400, code: 'ModelArts.4712', expected: 'transient' },
    { status: 400, code: 'ModelArts.4204', expected: 'permanent' },
    { status: 503, code: 'ModelArts.4204', expected: 'permanent' },
    { status: 200, code: UNCONFIRMED_RESULTS, expected: 'transient' },
  ])('classifies status $status with code $code as $expected', ({ status, code, expected }) => {
    // Act
    const failureClass = classifyResponse(status, code);

    // Assess
    expect(failureClass).toBe(expected);
  });

  it('lets a known code win over a 5xx status', () => {
    // Act
    const failureClass = classifyResponse(500, 'ModelArts.4420');

    // Assess
    expect(failureClass).toBe('already_gone');
  });
});

// Moved from isRenewableCredentialFailure.test.ts with the function, now the classifier's isRenewable.
describe('isRenewable', () => {
  const cases: Array<['none' | 'aksk' | 'token', FailureClass, string, boolean]> = [
    ['token', 'credentials_expired', 'APIG.0301', true],
    ['token', 'credentials_expired', 'APIGW.0301', true],
    ['token', 'credentials_expired', 'APIG.0307', true],
    ['token', 'credentials_expired', 'ModelArts.4504', true],
    ['token', 'credentials_expired', 'APIG.0303', false],
    ['aksk', 'credentials_expired', 'APIG.0303', true],
    // A bad signature stays bad; five in a row lock the access key.
    ['aksk', 'credentials_expired', 'APIG.0301', false],
    ['aksk', 'credentials_expired', 'APIG.0307', false],
    ['none', 'credentials_expired', 'APIG.0301', false],
    ['token', 'permanent', 'APIG.0301', false],
  ];

  it.each(cases)('mode %s, class %s, code %s: %s', (mode, failureClass, code, expected) => {
    // Act
    const renewable = isRenewable(mode, { failureClass, code, message: 'refused', status: 401 });

    // Assess
    expect(renewable).toBe(expected);
  });

  it.each(['none', 'aksk', 'token'] as const)('mode %s: renews no code the classifier does not know', (mode) => {
    // Act
    const renewable = isRenewable(mode, { failureClass: 'credentials_expired', code: 'toString', message: 'refused', status: 401 });

    // Assess
    expect(renewable).toBe(false);
  });
});

describe('isRetryable, isThrottled, isAlreadyGone', () => {
  it.each<{ failureClass: FailureClass; retryable: boolean; throttled: boolean; alreadyGone: boolean }>([
    { failureClass: 'throttled', retryable: true, throttled: true, alreadyGone: false },
    { failureClass: 'transient', retryable: true, throttled: false, alreadyGone: false },
    { failureClass: 'credentials_expired', retryable: false, throttled: false, alreadyGone: false },
    { failureClass: 'already_gone', retryable: false, throttled: false, alreadyGone: true },
    { failureClass: 'permanent', retryable: false, throttled: false, alreadyGone: false },
  ])('$failureClass: retryable $retryable, throttled $throttled, already gone $alreadyGone', ({ failureClass, retryable, throttled, alreadyGone }) => {
    // Prepare
    const failure: ServiceFailure = { failureClass, status: 400, code: 'ModelArts.9999', message: 'refused' };

    // Act
    const decisions = { retryable: isRetryable(failure), throttled: isThrottled(failure), alreadyGone: isAlreadyGone(failure) };

    // Assess
    expect(decisions).toEqual({ retryable, throttled, alreadyGone });
  });
});

describe('isBisectable', () => {
  it.each<{ what: string; failure: ServiceFailure; expected: boolean }>([
    { what: 'an unknown permanent code', failure: { failureClass: 'permanent', status: 400, code: 'ModelArts.0104', message: 'invalid' }, expected: true },
    { what: 'a gone image (400)', failure: { failureClass: 'already_gone', status: 400, code: 'ModelArts.4420', message: 'not found' }, expected: true },
    { what: 'a gone image answered with 404', failure: { failureClass: 'already_gone', status: 404, code: 'ModelArts.4420', message: 'not found' }, expected: false },
    { what: 'status 401', failure: { failureClass: 'permanent', status: 401, code: 'HTTP_401', message: 'unauthorized' }, expected: false },
    { what: 'status 403', failure: { failureClass: 'permanent', status: 403, code: 'HTTP_403', message: 'forbidden' }, expected: false },
    { what: 'status 404', failure: { failureClass: 'permanent', status: 404, code: 'HTTP_404', message: 'no such job' }, expected: false },
    { what: 'a missing dataset', failure: { failureClass: 'permanent', status: 400, code: 'ModelArts.4352', message: 'no dataset' }, expected: false },
    { what: 'unfinished label tasks', failure: { failureClass: 'permanent', status: 400, code: 'ModelArts.4803', message: 'busy' }, expected: false },
    { what: 'an API not subscribed', failure: { failureClass: 'permanent', status: 400, code: 'ModelArts.4204', message: 'not subscribed' }, expected: false },
    { what: 'a busy dataset, given up', failure: { failureClass: 'permanent', status: 400, code: 'ModelArts.4712', message: 'busy' }, expected: false },
    { what: 'an answer that confirms nothing', failure: { failureClass: 'permanent', status: 200, code: UNCONFIRMED_RESULTS, message: 'unconfirmed' }, expected: false },
    { what: 'a failure the classifier marked whole-request', failure: { failureClass: 'permanent', status: 400, code: 'X.1', message: 'target', wholeRequest: true }, expected: false },
    { what: 'the spent time budget', failure: { failureClass: 'permanent', code: TIME_BUDGET_SPENT, message: 'not sent' }, expected: false },
    { what: 'an unreadable answer', failure: { failureClass: 'permanent', status: 200, code: 'MALFORMED_RESPONSE', message: 'unreadable' }, expected: false },
    { what: 'a client error', failure: { failureClass: 'permanent', code: 'CLIENT_ERROR', message: 'bug' }, expected: false },
    { what: 'refused credentials', failure: { failureClass: 'permanent', code: 'CREDENTIALS_REFUSED', message: 'refused' }, expected: false },
    { what: 'unavailable credentials', failure: { failureClass: 'permanent', code: 'CREDENTIALS_UNAVAILABLE', message: 'unreachable' }, expected: false },
    { what: 'invalid credentials', failure: { failureClass: 'permanent', code: 'INVALID_CREDENTIALS', message: 'malformed' }, expected: false },
    { what: 'expired credentials', failure: { failureClass: 'credentials_expired', status: 401, code: 'APIG.0301', message: 'expired' }, expected: false },
    { what: 'throttling', failure: { failureClass: 'throttled', status: 429, code: 'APIG.0308', message: 'slow down' }, expected: false },
    { what: 'server trouble', failure: { failureClass: 'transient', status: 503, code: 'HTTP_503', message: 'unavailable' }, expected: false },
  ])('$what: $expected', ({ failure, expected }) => {
    // Act
    const bisectable = isBisectable(failure);

    // Assess
    expect(bisectable).toBe(expected);
  });
});

describe('classifyAnswer', () => {
  it('makes a busy dataset (ModelArts.4712) wait at least 30 s before its retry, unless Retry-After asks for longer', () => {
    // Act
    const plain = classifyAnswer({ status: 400, code: 'ModelArts.4712', fallbackCode: 'HTTP_400', message: 'busy' });
    const shortHeader = classifyAnswer({ status: 400, code: 'ModelArts.4712', fallbackCode: 'HTTP_400', message: 'busy', retryAfterMs: 2_000 });
    const longHeader = classifyAnswer({ status: 400, code: 'ModelArts.4712', fallbackCode: 'HTTP_400', message: 'busy', retryAfterMs: 120_000 });

    // Assess
    expect(plain).toEqual({ failureClass: 'transient', status: 400, code: 'ModelArts.4712', message: 'busy', retryAfterMs: 30_000, wholeRequest: true });
    expect(shortHeader.retryAfterMs).toBe(30_000);
    expect(longHeader.retryAfterMs).toBe(120_000);
  });

  it('keeps Retry-After as it is for other codes, and names a missing code by its fallback', () => {
    // Act
    const failure = classifyAnswer({ status: 429, code: undefined, fallbackCode: 'HTTP_429', message: 'slow down', retryAfterMs: 4_000 });

    // Assess
    expect(failure).toEqual({ failureClass: 'throttled', status: 429, code: 'HTTP_429', message: 'slow down', retryAfterMs: 4_000 });
  });

  it('puts no floor on a busy code that arrives as a final answer (not retried anyway)', () => {
    // Act: a deployment re-classified 4712 as permanent.
    const failure = classifyAnswer({ status: 400, code: 'ModelArts.4712', fallbackCode: 'HTTP_400', message: 'busy' }, new Map([['ModelArts.4712', 'permanent']]));

    // Assess
    expect(failure).toEqual({ failureClass: 'permanent', status: 400, code: 'ModelArts.4712', message: 'busy' });
  });
});

describe('isKnownCode', () => {
  it('knows the table and the extra codes, nothing else (not even Object.prototype names)', () => {
    // Act
    const known = ['ModelArts.4420', 'ModelArts.4204', 'X.1', 'ModelArts.9999', 'toString', '__proto__'].map((code) => isKnownCode(code, new Map([['X.1', 'busy']])));

    // Assess
    expect(known).toEqual([true, true, true, false, false, false]);
  });
});
