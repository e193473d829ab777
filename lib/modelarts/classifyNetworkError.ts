import type { ServiceFailure } from './classifyFailure.js';

/** Network error codes that mean the request may not have reached the service, or its answer got lost. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/**
 * Classifies an error thrown by `fetch` (no response at all): timeouts and connection errors are
 * transient; anything else (a bug, a malformed URL) is permanent.
 */
export function classifyNetworkError(error: unknown): ServiceFailure {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError') return { failureClass: 'transient', code: 'TIMEOUT', message: 'the request timed out' };
  const code = networkErrorCode(error);
  if (code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) {
    return { failureClass: 'transient', code, message: `network error: ${code}` };
  }
  const message = error instanceof Error ? error.message : String(error);
  // undici reports most socket trouble as a bare "fetch failed" TypeError; treat it as transient.
  if (name === 'TypeError' && message === 'fetch failed') {
    return { failureClass: 'transient', code: code ?? 'NETWORK_ERROR', message: `network error: ${code ?? message}` };
  }
  return { failureClass: 'permanent', code: code ?? 'CLIENT_ERROR', message };
}

function networkErrorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
