import { describe, expect, it } from 'vitest';
import {
  classifyNetworkError, classifyResponse, isAlreadyGone, isBisectable, isRenewable, isRetryable, isThrottled, parseRetryAfter, readErrorBody,
  TIME_BUDGET_SPENT, type FailureClass, type ServiceFailure,
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

describe('readErrorBody', () => {
  it('reads the flat {error_code, error_msg} shape', () => {
    // Act
    const read = readErrorBody({ error_code: 'ModelArts.4420', error_msg: 'image not found' });

    // Assess
    expect(read).toEqual({ code: 'ModelArts.4420', message: 'image not found' });
  });

  it('reads the nested {error: {code, message}} shape', () => {
    // Act
    const read = readErrorBody({ error: { code: 'APIG.0308', message: 'too many requests' } });

    // Assess
    expect(read).toEqual({ code: 'APIG.0308', message: 'too many requests' });
  });

  it('reads a flat code without a message', () => {
    // Act
    const read = readErrorBody({ error_code: 'ModelArts.4352', error_msg: 42 });

    // Assess
    expect(read).toEqual({ code: 'ModelArts.4352' });
  });

  it.each([undefined, null, 'error', 42, [], {}, { error_code: 7 }, { error: 'x' }, { error: null }])('returns nothing from junk (%j)', (body) => {
    // Act
    const read = readErrorBody(body);

    // Assess
    expect(read).toEqual({});
  });
});

describe('parseRetryAfter', () => {
  const NOW = Date.parse('2024-05-01T12:00:00Z');

  it.each([
    { header: '5', expected: 5000 },
    { header: ' 2 ', expected: 2000 },
    { header: '0', expected: 0 },
    { header: '1.5', expected: 1500 },
  ])('reads seconds: $header -> $expected ms', ({ header, expected }) => {
    // Act
    const ms = parseRetryAfter(header, NOW);

    // Assess
    expect(ms).toBe(expected);
  });

  it('reads an HTTP date as the milliseconds from now', () => {
    // Prepare
    const header = new Date(NOW + 30_000).toUTCString();

    // Act
    const ms = parseRetryAfter(header, NOW);

    // Assess
    expect(ms).toBe(30_000);
  });

  it('reads an HTTP date in the past as zero', () => {
    // Prepare
    const header = new Date(NOW - 60_000).toUTCString();

    // Act
    const ms = parseRetryAfter(header, NOW);

    // Assess
    expect(ms).toBe(0);
  });

  it.each([null, undefined, '', '   ', 'soon', 'in five minutes', '5 minutes'])('returns undefined for %j', (header) => {
    // Act
    const ms = parseRetryAfter(header, NOW);

    // Assess
    expect(ms).toBeUndefined();
  });
});

describe('classifyNetworkError', () => {
  it('classifies a timeout (DOMException TimeoutError) as transient TIMEOUT', () => {
    // Prepare
    const error = new DOMException('The operation was aborted due to timeout', 'TimeoutError');

    // Act
    const failure = classifyNetworkError(error);

    // Assess
    expect(failure).toEqual({ failureClass: 'transient', code: 'TIMEOUT', message: 'the request timed out' });
  });

  it('classifies fetch failed with a connection-reset cause as transient with that code', () => {
    // Prepare
    const error = new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });

    // Act
    const failure = classifyNetworkError(error);

    // Assess
    expect(failure).toEqual({ failureClass: 'transient', code: 'ECONNRESET', message: 'network error: ECONNRESET' });
  });

  it('classifies a bare fetch failed TypeError as transient NETWORK_ERROR', () => {
    // Prepare
    const error = new TypeError('fetch failed');

    // Act
    const failure = classifyNetworkError(error);

    // Assess
    expect(failure).toEqual({ failureClass: 'transient', code: 'NETWORK_ERROR', message: 'network error: fetch failed' });
  });

  it('finds a transient code nested deeper in the cause chain', () => {
    // Prepare
    const error = new TypeError('fetch failed', { cause: new Error('socket', { cause: { code: 'UND_ERR_SOCKET' } }) });

    // Act
    const failure = classifyNetworkError(error);

    // Assess
    expect(failure.failureClass).toBe('transient');
    expect(failure.code).toBe('UND_ERR_SOCKET');
  });

  it('classifies a plain Error as permanent CLIENT_ERROR with its message', () => {
    // Prepare
    const error = new Error('something broke');

    // Act
    const failure = classifyNetworkError(error);

    // Assess
    expect(failure).toEqual({ failureClass: 'permanent', code: 'CLIENT_ERROR', message: 'something broke' });
  });

  it('classifies an error with an unknown code as permanent, keeping the code', () => {
    // Prepare
    const error = Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL' });

    // Act
    const failure = classifyNetworkError(error);

    // Assess
    expect(failure).toEqual({ failureClass: 'permanent', code: 'ERR_INVALID_URL', message: 'Invalid URL' });
  });

  it('classifies a thrown non-error as permanent', () => {
    // Act
    const failure = classifyNetworkError('oops');

    // Assess
    expect(failure).toEqual({ failureClass: 'permanent', code: 'CLIENT_ERROR', message: 'oops' });
  });
});
