import { describe, expect, it } from 'vitest';
import { classifyNetworkError, classifyResponse, parseRetryAfter, readErrorBody, type FailureClass } from '../../../lib/modelarts/classifyFailure.js';

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
