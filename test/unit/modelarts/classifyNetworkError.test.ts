import { describe, expect, it } from 'vitest';
import { classifyNetworkError } from '../../../lib/modelarts/classifyNetworkError.js';

// Moved from classifyFailure.test.ts with the function.
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
