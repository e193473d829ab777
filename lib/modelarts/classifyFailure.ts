/**
 * The closed set of failure classes; retries are decided from the class alone.
 * - `throttled`: the service or its gateway asked us to slow down;
 * - `transient`: may succeed if repeated (5xx, network error, timeout);
 * - `credentials_expired`: a token or signature was refused; new credentials may help, once;
 * - `already_gone`: the image does not exist (ModelArts.4420): for a delete, that is done;
 * - `permanent`: repeating the same request will fail the same way.
 */
export type FailureClass = 'throttled' | 'transient' | 'credentials_expired' | 'already_gone' | 'permanent';

/** A classified failure of one request (or of one item in a v2 response). */
export interface ServiceFailure {
  failureClass: FailureClass;
  /** HTTP status, when there was a response. */
  status?: number;
  /** The service's error code (`ModelArts.4420`), or ours for network errors (`ECONNRESET`, `TIMEOUT`). */
  code: string;
  message: string;
  /** Wait asked for by `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
}

const THROTTLING_CODES = new Set(['ModelArts.4395', 'ModelArts.4206', 'ModelArts.6101', 'APIG.0308', 'APIGW.0308', 'ModelArts.0114']);
const CREDENTIAL_CODES = new Set(['APIG.0301', 'APIGW.0301', 'APIG.0303', 'APIG.0307', 'ModelArts.4504', 'ModelArts.0202', 'ModelArts.0203']);
const TRANSIENT_CODES = new Set(['ModelArts.4424']);
const ALREADY_GONE_CODES = new Set(['ModelArts.4420']);

/**
 * Classifies a failure from the HTTP status and the service's error code. The code wins where it
 * is known; an unknown code is permanent unless the status says throttled (429) or server
 * trouble (5xx).
 *
 * @param status - HTTP status of the response (200 for a failed item inside a v2 response).
 * @param code - The `error_code`, if the body had one.
 */
export function classifyResponse(status: number, code: string | undefined): FailureClass {
  if (code !== undefined) {
    if (ALREADY_GONE_CODES.has(code)) return 'already_gone';
    if (THROTTLING_CODES.has(code)) return 'throttled';
    if (CREDENTIAL_CODES.has(code)) return 'credentials_expired';
    if (TRANSIENT_CODES.has(code)) return 'transient';
  }
  if (status === 429) return 'throttled';
  if (status >= 500) return 'transient';
  return 'permanent';
}

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

/**
 * Reads the error code and message from either error body the service family uses:
 * `{"error_code","error_msg"}` or `{"error":{"code","message"}}`.
 */
export function readErrorBody(body: unknown): { code?: string; message?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const flat = body as { error_code?: unknown; error_msg?: unknown; error?: unknown };
  if (typeof flat.error_code === 'string') {
    return { code: flat.error_code, ...(typeof flat.error_msg === 'string' ? { message: flat.error_msg } : {}) };
  }
  if (typeof flat.error === 'object' && flat.error !== null) {
    const nested = flat.error as { code?: unknown; message?: unknown };
    return {
      ...(typeof nested.code === 'string' ? { code: nested.code } : {}),
      ...(typeof nested.message === 'string' ? { message: nested.message } : {}),
    };
  }
  return {};
}

/**
 * Parses a `Retry-After` header (seconds, or an HTTP date) into milliseconds from `now`.
 * Returns undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
