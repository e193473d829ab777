import type { AuthMode } from './modelArtsCredentials.js';

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

/** Error code of IDs not sent because the time budget (the Lambda deadline minus a margin) was spent. */
export const TIME_BUDGET_SPENT = 'TIME_BUDGET_SPENT';

/** What the classifier knows about one error code; a property left out is false (or, for `class`, up to the status). */
interface CodeRule {
  /** The class of a response carrying this code, whatever its status; without one, the status decides. */
  class?: FailureClass;
  /** Whether one more attempt with renewed credentials may be accepted, per authentication mode. */
  renewable?: { token: boolean; aksk: boolean };
  /** The code is about the target or the credentials, not an ID: splitting a batch would only repeat it. */
  wholeRequest?: true;
}

/**
 * Every error code the classifier knows, with its class and its properties; the last column says
 * how sure we are of the code (see /work/shared/reference/modelarts-api.md §5 and §8):
 * - documented by Huawei (its API reference, its gateway's error codes, the old v1 SDK): APIG.0301,
 *   APIGW.0301, APIG.0303, APIG.0307, APIG.0308, APIGW.0308, ModelArts.0114, 0202, 0203, 4352, 4420;
 * - inferred, found in no public source (§8): ModelArts.4395, 4424, 4504, 4803, 6101, and 4206,
 *   which Huawei documents only as the inference services' traffic limit; they stay handled as
 *   the reference advises, but nothing confirms the service sends them;
 * - ours: never sent by the service, set by this client when there is no usable answer.
 * §8 also names ModelArts.4204 (API not subscribed), 4712 (dataset busy) and 72060075 (throttled,
 * newer APIs); they are not in the table, so their status decides, as before the table existed.
 */
const CODE_RULES: ReadonlyMap<string, CodeRule> = new Map<string, CodeRule>([
  // code                      rule                                                                        // source
  ['ModelArts.4420',           { class: 'already_gone' }],                                                 // documented: sample not found (that deleting a gone ID answers it is inferred, §7)
  ['ModelArts.4395',           { class: 'throttled' }],                                                    // inferred: too many requests
  ['ModelArts.4206',           { class: 'throttled' }],                                                    // inferred here: documented only as the inference services' traffic limit
  ['ModelArts.6101',           { class: 'throttled' }],                                                    // inferred: system busy
  ['APIG.0308',                { class: 'throttled' }],                                                    // documented: gateway throttling
  ['APIGW.0308',               { class: 'throttled' }],                                                    // documented: gateway throttling
  ['ModelArts.0114',           { class: 'throttled' }],                                                    // documented: old v1 SDK, requests too frequent
  ['APIG.0301',                { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // documented: bad signature, bad or expired token
  ['APIGW.0301',               { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // documented: bad signature, bad or expired token
  ['APIG.0303',                { class: 'credentials_expired', renewable: { token: false, aksk: true } }], // documented: signature expired (clock skew)
  ['APIG.0307',                { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // documented: token must be updated
  ['ModelArts.4504',           { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // inferred: IAM error
  ['ModelArts.0202',           { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // documented: old v1 SDK, token missing, expired or invalid (0201–0205)
  ['ModelArts.0203',           { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // documented: old v1 SDK, token missing, expired or invalid (0201–0205)
  ['ModelArts.4424',           { class: 'transient' }],                                                    // inferred: delete failed while an import or sync runs
  ['ModelArts.4352',           { wholeRequest: true }],                                                    // documented: dataset does not exist (its HTTP 400 seen in Huawei's Terraform provider)
  ['ModelArts.4803',           { wholeRequest: true }],                                                    // inferred: dataset has unfinished label tasks
  [TIME_BUDGET_SPENT,          { wholeRequest: true }],                                                    // ours: not sent, the invocation's time budget was spent
  ['MALFORMED_RESPONSE',       { wholeRequest: true }],                                                    // ours: an answer we could not read (modelArtsClient.ts)
  ['CLIENT_ERROR',             { wholeRequest: true }],                                                    // ours: fetch threw something that is no network error
  ['CREDENTIALS_REFUSED',      { wholeRequest: true }],                                                    // ours (CredentialsError): IAM refused to issue a token
  ['CREDENTIALS_UNAVAILABLE',  { wholeRequest: true }],                                                    // ours (CredentialsError): IAM or the secret store could not be reached
  ['INVALID_CREDENTIALS',      { wholeRequest: true }],                                                    // ours (CredentialsError): the stored credentials are malformed
]);

// 401/403/404 refuse the credentials or the target (labelling job, dataset), not one of the IDs.
const WHOLE_REQUEST_STATUSES = new Set([401, 403, 404]);

/** What each class means for the request that failed: whether to send it again, whether to split its batch. */
const CLASS_RULES: Readonly<Record<FailureClass, { retryable: boolean; bisectable: boolean }>> = {
  throttled: { retryable: true, bisectable: false },
  transient: { retryable: true, bisectable: false },
  // Renewed inside the client, once and only for the codes and mode that allow it; never retried as such.
  credentials_expired: { retryable: false, bisectable: false },
  // In a v1 batch, one gone ID fails all the others: the halves isolate it.
  already_gone: { retryable: false, bisectable: true },
  permanent: { retryable: false, bisectable: true },
};

/**
 * Classifies a failure from the HTTP status and the service's error code. The code wins where it
 * is known; an unknown code is permanent unless the status says throttled (429) or server
 * trouble (5xx).
 *
 * @param status - HTTP status of the response (200 for a failed item inside a v2 response).
 * @param code - The `error_code`, if the body had one.
 */
export function classifyResponse(status: number, code: string | undefined): FailureClass {
  const known = code === undefined ? undefined : CODE_RULES.get(code)?.class;
  if (known !== undefined) return known;
  if (status === 429) return 'throttled';
  if (status >= 500) return 'transient';
  return 'permanent';
}

/**
 * Whether the same request is worth sending again after a backoff: throttled and transient failures are.
 *
 * @param failure - The classified failure.
 */
export function isRetryable(failure: ServiceFailure): boolean {
  return CLASS_RULES[failure.failureClass].retryable;
}

/**
 * Whether the service or its gateway asked us to slow down (counted in the job's stats).
 *
 * @param failure - The classified failure.
 */
export function isThrottled(failure: ServiceFailure): boolean {
  return failure.failureClass === 'throttled';
}

/**
 * Whether the failure means the image does not exist, which for a delete is success (`already_deleted`).
 *
 * @param failure - The classified failure.
 */
export function isAlreadyGone(failure: ServiceFailure): boolean {
  return failure.failureClass === 'already_gone';
}

/**
 * Whether a request refused for its credentials is worth one more attempt with renewed
 * credentials: in token mode a fresh token (for any token refusal); in AK/SK mode a signature
 * with a fresh `X-Sdk-Date`, for "signature expired" only, since a bad signature stays bad and
 * five in a row lock the access key for five minutes.
 *
 * @param mode - The authentication in use; without any (`none`) nothing can be renewed.
 * @param failure - The classified failure; only `credentials_expired` failures can be renewable.
 */
export function isRenewable(mode: AuthMode, failure: ServiceFailure): boolean {
  if (failure.failureClass !== 'credentials_expired' || mode === 'none') return false;
  return CODE_RULES.get(failure.code)?.renewable?.[mode] ?? false;
}

// About the target or the credentials rather than one of the IDs, by its status or its code, so
// every ID of the request would get it again. (A credentials_expired failure is not bisected
// whatever its status, by its class.)
function isWholeRequestFailure(failure: ServiceFailure): boolean {
  if (failure.status !== undefined && WHOLE_REQUEST_STATUSES.has(failure.status)) return true;
  return CODE_RULES.get(failure.code)?.wholeRequest ?? false;
}

/**
 * Whether an all-or-nothing (v1) batch that failed this way may be split in halves to isolate the
 * IDs that caused it: only for a final answer about an ID (permanent, or already gone), never for
 * one about the whole request.
 *
 * @param failure - The failure of the whole batch, after any retries.
 */
export function isBisectable(failure: ServiceFailure): boolean {
  return CLASS_RULES[failure.failureClass].bisectable && !isWholeRequestFailure(failure);
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
