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
  /** Least wait before a retry, in milliseconds: what `Retry-After` asked for, or what the code calls for (a busy dataset). */
  retryAfterMs?: number;
  /** Set by the classifier when the code is about the target or the credentials, not an ID (never bisected). */
  wholeRequest?: true;
}

/** Error code of IDs not sent because the time budget (the Lambda deadline minus a margin) was spent. */
export const TIME_BUDGET_SPENT = 'TIME_BUDGET_SPENT';

/**
 * Error code of a v2 answer that confirms nothing per sample: `results` not one per sample sent,
 * or `success: false` with no `results` and no code we know. Results carry no ID, so they are
 * never mapped by position then; some samples may be gone, others not.
 */
export const UNCONFIRMED_RESULTS = 'UNCONFIRMED_RESULTS';

/** Least wait before retrying a request refused because the dataset is busy (an import or a sync runs for minutes, not seconds). */
const BUSY_RETRY_FLOOR_MS = 30_000;

/** What the classifier knows about one error code; a property left out is false (or, for `class`, up to the status). */
interface CodeRule {
  /** The class of a response carrying this code, whatever its status; without one, the status decides. */
  class?: FailureClass;
  /** Whether one more attempt with renewed credentials may be accepted, per authentication mode. */
  renewable?: { token: boolean; aksk: boolean };
  /** The code is about the target or the credentials, not an ID: splitting a batch would only repeat it. */
  wholeRequest?: true;
  /** Least wait before a retry, whatever `Retry-After` says. */
  retryFloorMs?: number;
  /** No request of the job can pass (the account or region refuses the API): the job stops at once. */
  wholeJob?: true;
}

/**
 * How a deployment may classify a code the table below does not know (or re-classify one it
 * does), through `EXTRA_ERROR_CODES`: as a failure class, or as `busy` (transient, retried after
 * at least 30 s, never bisected) or `whole_request` (permanent and about the target or the
 * credentials: never bisected, so the failure threshold ends the job).
 */
export type ErrorCodeKind = 'throttled' | 'transient' | 'busy' | 'already_gone' | 'permanent' | 'whole_request';

/** Error codes a deployment adds, each with its kind; they win over the built-in table. */
export type ExtraErrorCodes = ReadonlyMap<string, ErrorCodeKind>;

const KIND_RULES: Readonly<Record<ErrorCodeKind, CodeRule>> = {
  throttled: { class: 'throttled' },
  transient: { class: 'transient' },
  busy: { class: 'transient', wholeRequest: true, retryFloorMs: BUSY_RETRY_FLOOR_MS },
  already_gone: { class: 'already_gone' },
  permanent: { class: 'permanent' },
  whole_request: { class: 'permanent', wholeRequest: true },
};

/** Every {@link ErrorCodeKind}, in the order the documentation lists them. */
export const ERROR_CODE_KINDS = Object.keys(KIND_RULES) as readonly ErrorCodeKind[];

/**
 * Every error code the classifier knows, with its class and its properties; the last column says
 * how sure we are of the code (see /work/shared/reference/modelarts-api.md §5 and §8, and
 * docs/limits.md "Error codes" for the sources):
 * - documented by Huawei (its API reference, its gateway's error codes, the old v1 SDK, its FAQs):
 *   APIG.0301, APIGW.0301, APIG.0303, APIG.0307, APIG.0308, APIGW.0308, ModelArts.0114, 0202,
 *   0203, 4204, 4352, 4420, 4712, 72060075 (for 4204, 4712 and 72060075 the meaning is
 *   documented for sibling APIs; that DeleteSamples answers them is inferred);
 * - inferred, found in no public source (§8): ModelArts.4395, 4424, 4504, 4803, 6101, and 4206,
 *   which Huawei documents only as the inference services' traffic limit; they stay handled as
 *   the reference advises, but nothing confirms the service sends them;
 * - ours: never sent by the service, set by this client when there is no usable answer.
 * A deployment adds or re-classifies codes with `EXTRA_ERROR_CODES` ({@link ExtraErrorCodes}).
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
  ['ModelArts.72060075',       { class: 'throttled' }],                                                    // documented (429): the data-preparation APIs' "Too Many Requests"
  ['APIG.0301',                { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // documented: bad signature, bad or expired token
  ['APIGW.0301',               { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // documented: bad signature, bad or expired token
  ['APIG.0303',                { class: 'credentials_expired', renewable: { token: false, aksk: true } }], // documented: signature expired (clock skew)
  ['APIG.0307',                { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // documented: token must be updated
  ['ModelArts.4504',           { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // inferred: IAM error
  ['ModelArts.0202',           { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // documented: old v1 SDK, token missing, expired or invalid (0201–0205)
  ['ModelArts.0203',           { class: 'credentials_expired', renewable: { token: true, aksk: false } }], // documented: old v1 SDK, token missing, expired or invalid (0201–0205)
  ['ModelArts.4424',           { class: 'transient' }],                                                    // inferred: delete failed while an import or sync runs
  ['ModelArts.4712',           KIND_RULES.busy],                                                           // documented: dataset being imported or synchronized (retry later)
  ['ModelArts.4204',           { ...KIND_RULES.whole_request, wholeJob: true }],                           // documented: API not subscribed (service not enabled in the region or account)
  ['ModelArts.4352',           { wholeRequest: true }],                                                    // documented: dataset does not exist (its HTTP 400 seen in Huawei's Terraform provider)
  ['ModelArts.4803',           { wholeRequest: true }],                                                    // inferred: dataset has unfinished label tasks
  [TIME_BUDGET_SPENT,          { wholeRequest: true }],                                                    // ours: not sent, the invocation's time budget was spent
  ['MALFORMED_RESPONSE',       { wholeRequest: true }],                                                    // ours: an answer we could not read (modelArtsClient.ts)
  [UNCONFIRMED_RESULTS,        { class: 'transient', wholeRequest: true }],                                // ours: sent again, which re-checks (a sample already deleted answers 4420)
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

function ruleFor(code: string | undefined, extra: ExtraErrorCodes | undefined): CodeRule | undefined {
  if (code === undefined) return undefined;
  const kind = extra?.get(code);
  return kind === undefined ? CODE_RULES.get(code) : KIND_RULES[kind];
}

/**
 * Classifies a failure from the HTTP status and the service's error code. The code wins where it
 * is known (a deployment's extra codes first); an unknown code is permanent unless the status
 * says throttled (429) or server trouble (5xx).
 *
 * @param status - HTTP status of the response (200 for a failed item inside a v2 response).
 * @param code - The `error_code`, if the body had one.
 * @param extra - The deployment's extra codes (`EXTRA_ERROR_CODES`).
 */
export function classifyResponse(status: number, code: string | undefined, extra?: ExtraErrorCodes): FailureClass {
  const known = ruleFor(code, extra)?.class;
  if (known !== undefined) return known;
  if (status === 429) return 'throttled';
  if (status >= 500) return 'transient';
  return 'permanent';
}

/**
 * Whether the classifier knows `code` (its table, or the deployment's extra codes), so that it says
 * more than its status does.
 */
export function isKnownCode(code: string, extra?: ExtraErrorCodes): boolean {
  return ruleFor(code, extra) !== undefined;
}

/**
 * The classified failure of a refused request, or of one item of a v2 answer: its class
 * ({@link classifyResponse}), whether it is about the whole request, and the least wait before a
 * retry (the longer of `Retry-After` and what the code calls for).
 *
 * @param answer - What the answer said; `fallbackCode` stands for a missing `error_code`.
 * @param extra - The deployment's extra codes (`EXTRA_ERROR_CODES`).
 */
export function classifyAnswer(
  answer: { status: number; code: string | undefined; fallbackCode: string; message: string; retryAfterMs?: number | undefined },
  extra?: ExtraErrorCodes,
): ServiceFailure {
  const rule = ruleFor(answer.code, extra);
  const failureClass = classifyResponse(answer.status, answer.code, extra);
  const floor = CLASS_RULES[failureClass].retryable ? rule?.retryFloorMs : undefined;
  const retryAfterMs = floor === undefined ? answer.retryAfterMs : Math.max(floor, answer.retryAfterMs ?? 0);
  return {
    failureClass,
    status: answer.status,
    code: answer.code ?? answer.fallbackCode,
    message: answer.message,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(rule?.wholeRequest === true ? { wholeRequest: true as const } : {}),
  };
}

/** Whether the same request (`failure`, classified) is worth sending again after a backoff: throttled and transient failures are. */
export function isRetryable(failure: ServiceFailure): boolean {
  return CLASS_RULES[failure.failureClass].retryable;
}

/** Whether the service or its gateway asked us to slow down (counted in the job's stats); `failure` is classified. */
export function isThrottled(failure: ServiceFailure): boolean {
  return failure.failureClass === 'throttled';
}

/** Whether the (classified) failure means the image does not exist, which for a delete is success (`already_deleted`). */
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
  if (failure.wholeRequest === true) return true;
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

/**
 * Whether a failed outcome's `code` means no request of the job can pass, so the job stops after the
 * chunk that met it: only ModelArts.4204, unless `extra` (`EXTRA_ERROR_CODES`) re-classifies it.
 * Credential refusals are left to the failure threshold on purpose (docs/report-format.md, "whole job").
 */
export function isWholeJobFailure(code: string | undefined, extra?: ExtraErrorCodes): boolean {
  return ruleFor(code, extra)?.wholeJob === true;
}
