import type { CleanupTarget } from './CleanupTarget.js';
import { classifyAnswer, isKnownCode, TIME_BUDGET_SPENT, UNCONFIRMED_RESULTS, type ExtraErrorCodes, type ServiceFailure } from './classifyFailure.js';
import { classifyNetworkError } from './classifyNetworkError.js';
import { parseRetryAfter } from './parseRetryAfter.js';
import { readErrorBody } from './readErrorBody.js';
import { CredentialsError } from '../core/errors.js';

/** The result of one batch-delete request, normalised across v1 and v2. */
export type DeleteBatchResult = (
  /** The request was answered with a result per ID, in request order (v1 success sets all to ok). */
  | { kind: 'per_item'; items: Array<{ ok: true } | { ok: false; failure: ServiceFailure }>; requestId?: string }
  /** The request failed as a whole: no ID in it was deleted (v1 is all-or-nothing). */
  | { kind: 'batch_failed'; failure: ServiceFailure; requestId?: string }
) & {
  /**
   * HTTP requests this call sent: 0 when credentials could not be had, 2 when they were renewed
   * and the request repeated once. @default 1
   */
  requestsSent?: number;
};

/** Talks to the annotation service's batch-delete calls. */
export interface ModelArtsClient {
  /**
   * Sends one batch-delete request for `imageIds` and classifies the answer. Never throws for
   * service or network failures: they come back as data. No IDs, no request (`requestsSent: 0`):
   * `samples` is optional in DeleteSamples, so an empty list must never reach the service.
   */
  deleteBatch(target: CleanupTarget, imageIds: readonly string[], options?: DeleteBatchOptions): Promise<DeleteBatchResult>;
}

/** Per-call options of {@link ModelArtsClient.deleteBatch}. */
export interface DeleteBatchOptions {
  /**
   * End of the time budget, epoch ms on the client's clock (`now`): at or after it nothing is sent
   * (the result is a `TIME_BUDGET_SPENT` failure with `requestsSent: 0`), and a request in flight
   * is abandoned when it comes. Checked when the request is about to go out, so time spent
   * waiting before (e.g. for a concurrency permit) counts.
   */
  deadline?: number;
}

/**
 * Called when the service refused a request's credentials; resolves true when one more attempt
 * with renewed credentials (a fresh token, a fresh signature date) is worthwhile. `request` is the
 * refused request, with the headers it carried.
 */
export type CredentialRenewer = (failure: ServiceFailure, request: { url: URL; headers: Readonly<Record<string, string>> }) => Promise<boolean> | boolean;

/** Adds authentication headers to a request just before it is sent (token or AK/SK signature). */
export type RequestAuthorizer = (request: { method: string; url: URL; headers: Record<string, string>; body: string }) => Promise<void> | void;

/** Dependencies and settings of {@link createModelArtsClient}. */
export interface ModelArtsClientOptions {
  /** Base URL, e.g. `https://modelarts.cn-north-4.myhuaweicloud.com`. */
  endpoint: string;
  /** Abandon a request after this long; counted as a transient failure. */
  requestTimeoutMs: number;
  /** Authentication; none on the local emulator. */
  authorize?: RequestAuthorizer;
  /** Decides whether a request refused for its credentials is repeated, once, after renewing them. */
  renewCredentials?: CredentialRenewer;
  /** Removes credentials from the service's error messages (a gateway may quote the access key) before they reach reports and logs. */
  redact?: (text: string) => string;
  /** Error codes the deployment adds to the classifier's table (`EXTRA_ERROR_CODES`). */
  extraErrorCodes?: ExtraErrorCodes;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch, for `Retry-After` dates. @default Date.now */
  now?: () => number;
}

/** Builds the request path of a batch delete for a target. */
export function deletePath(target: CleanupTarget): string {
  const project = encodeURIComponent(target.projectId);
  return target.api === 'v1'
    ? `/v1/${project}/data-annotations/${encodeURIComponent(target.dataAnnotationId)}/images/delete`
    : `/v2/${project}/datasets/${encodeURIComponent(target.datasetId)}/data-annotations/samples/delete`;
}

/**
 * Builds the JSON body of a batch delete for a target, exactly as documented.
 *
 * @throws {RangeError} for an empty list: `samples` is optional in DeleteSamples, and what the
 *   service does with an empty or missing one is not documented; it must never be sent.
 */
export function deleteBody(target: CleanupTarget, imageIds: readonly string[]): string {
  if (imageIds.length === 0) throw new RangeError('deleteBody: refusing to build a delete request without IDs');
  return target.api === 'v1'
    ? JSON.stringify({ image_id: imageIds })
    : JSON.stringify({ samples: imageIds, delete_source: target.deleteSource });
}

/**
 * Creates a client for the batch-delete calls (v1 labelling jobs and v2 datasets).
 *
 * @example
 * const client = createModelArtsClient({ endpoint: 'http://127.0.0.1:8080', requestTimeoutMs: 30_000 });
 * const result = await client.deleteBatch(target, ['0123456789abcdef0123456789abcdef']);
 */
export function createModelArtsClient(options: ModelArtsClientOptions): ModelArtsClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const base = options.endpoint.replace(/\/+$/, '');
  const extra = options.extraErrorCodes;
  const redact = options.redact ?? ((text: string) => text);

  return {
    async deleteBatch(target, imageIds, callOptions = {}) {
      const { deadline } = callOptions;
      if (imageIds.length === 0) return { kind: 'per_item', items: [], requestsSent: 0 };
      const first = await sendOnce(target, imageIds, deadline);
      if (!first.sent) return { ...first.result, requestsSent: 0 };
      const { result } = first;
      if (result.kind === 'per_item' || result.failure.failureClass !== 'credentials_expired' || options.renewCredentials === undefined) {
        return { ...result, requestsSent: 1 };
      }
      // Credentials are renewed at most once per call: a second refusal is final.
      if (!(await options.renewCredentials(result.failure, first.request))) return { ...result, requestsSent: 1 };
      const second = await sendOnce(target, imageIds, deadline);
      return { ...second.result, requestsSent: second.sent ? 2 : 1 };
    },
  };

  async function sendOnce(target: CleanupTarget, imageIds: readonly string[], deadline: number | undefined): Promise<{ result: DeleteBatchResult; sent: boolean; request: { url: URL; headers: Record<string, string> } }> {
    const url = new URL(base + deletePath(target));
    const body = deleteBody(target, imageIds);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const request = { url, headers };
    try {
      await options.authorize?.({ method: 'POST', url, headers, body });
    } catch (error) {
      // No credentials, no request: the failure is data like any other (never a secret, see CredentialsError).
      if (!(error instanceof CredentialsError)) throw error;
      const failure: ServiceFailure = { failureClass: error.retryable ? 'transient' : 'permanent', code: error.code, message: redact(error.message) };
      return { result: { kind: 'batch_failed', failure }, sent: false, request };
    }
    // Checked last, after authorization (which may have waited for a token): no request past the budget.
    const budgetLeft = deadline === undefined ? Infinity : deadline - now();
    if (budgetLeft <= 0) {
      const failure: ServiceFailure = { failureClass: 'permanent', code: TIME_BUDGET_SPENT, message: 'not sent: the time budget of this invocation was spent' };
      return { result: { kind: 'batch_failed', failure }, sent: false, request };
    }
    const result = await send(target, imageIds, url, headers, body, Math.min(options.requestTimeoutMs, budgetLeft));
    return { result: redactResult(result, redact), sent: true, request };
  }

  async function send(target: CleanupTarget, imageIds: readonly string[], url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<DeleteBatchResult> {
    let response: Response;
    let text: string;
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      response = await doFetch(url, { method: 'POST', headers, body, signal });
      text = await response.text();
    } catch (error) {
      return { kind: 'batch_failed', failure: classifyNetworkError(error) };
    }
    const requestId = response.headers.get('x-request-id') ?? undefined;
    const withId = requestId === undefined ? {} : { requestId };
    const json = parseJson(text);

    if (!response.ok) {
      const { code, message } = readErrorBody(json);
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
      // Redacted before it is cut: a credential straddling the cut would survive in part.
      const quoted = message ?? (redact(text).slice(0, 200) || response.statusText);
      const failure = classifyAnswer({ status: response.status, code, fallbackCode: `HTTP_${response.status}`, message: quoted, retryAfterMs }, extra);
      return { kind: 'batch_failed', failure, ...withId };
    }
    return target.api === 'v1' ? readV1(json, imageIds.length, response.status, withId, extra) : readV2(json, imageIds.length, response.status, withId, extra);
  }
}

function redactResult(result: DeleteBatchResult, redact: (text: string) => string): DeleteBatchResult {
  const clean = (failure: ServiceFailure): ServiceFailure => ({ ...failure, message: redact(failure.message) });
  if (result.kind === 'batch_failed') return { ...result, failure: clean(result.failure) };
  return { ...result, items: result.items.map((item) => (item.ok ? item : { ok: false as const, failure: clean(item.failure) })) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function malformed(status: number, what: string): ServiceFailure {
  // A 2xx answer we cannot read may still have deleted images: never retry it blindly.
  return { failureClass: 'permanent', status, code: 'MALFORMED_RESPONSE', message: `unreadable response: ${what}` };
}

function readV1(json: unknown, count: number, status: number, withId: { requestId?: string }, extra: ExtraErrorCodes | undefined): DeleteBatchResult {
  const body = json as { is_success?: unknown } | undefined;
  if (typeof body?.is_success !== 'boolean') return { kind: 'batch_failed', failure: malformed(status, 'no is_success'), ...withId };
  if (body.is_success) return { kind: 'per_item', items: Array.from({ length: count }, () => ({ ok: true as const })), ...withId };
  const { code, message } = readErrorBody(json);
  return { kind: 'batch_failed', failure: classifyAnswer({ status, code, fallbackCode: 'UNKNOWN', message: message ?? 'is_success is false' }, extra), ...withId };
}

// Some samples may be gone and others not: retried as a whole, the answer to the repeat settles each.
function unconfirmed(status: number, what: string, extra: ExtraErrorCodes | undefined): ServiceFailure {
  return classifyAnswer({ status, code: UNCONFIRMED_RESULTS, fallbackCode: UNCONFIRMED_RESULTS, message: `not confirmed per sample: ${what}` }, extra);
}

function readV2(json: unknown, count: number, status: number, withId: { requestId?: string }, extra: ExtraErrorCodes | undefined): DeleteBatchResult {
  const body = json as { success?: unknown; results?: unknown } | undefined;
  if (typeof body?.success !== 'boolean') return { kind: 'batch_failed', failure: malformed(status, 'no success field'), ...withId };
  if (body.success && (body.results === undefined || body.results === null)) {
    return { kind: 'per_item', items: Array.from({ length: count }, () => ({ ok: true as const })), ...withId };
  }
  if (!Array.isArray(body.results)) {
    // success: false and no per-sample results (the documented response table allows it). A code
    // we know says what happened to the request (throttled, no such dataset); otherwise nothing
    // says which samples are gone.
    const { code, message } = readErrorBody(json);
    if (code !== undefined && isKnownCode(code, extra)) {
      return { kind: 'batch_failed', failure: classifyAnswer({ status, code, fallbackCode: 'UNKNOWN', message: message ?? 'success is false' }, extra), ...withId };
    }
    const said = code === undefined ? '' : ` (${code}${message === undefined ? '' : `: ${message}`})`;
    return { kind: 'batch_failed', failure: unconfirmed(status, `success is false with no results${said}`, extra), ...withId };
  }
  if (body.results.length !== count) {
    // Results carry no ID: mapped by position they could call a sample deleted that was not.
    return { kind: 'batch_failed', failure: unconfirmed(status, `${body.results.length} results for ${count} samples`, extra), ...withId };
  }
  // One result per sample: matched to the request by position (see docs/limits.md).
  const items = body.results.map((result: unknown) => {
    const item = result as { success?: unknown };
    if (item?.success === true) return { ok: true as const };
    const { code, message } = readErrorBody(result);
    return { ok: false as const, failure: classifyAnswer({ status, code, fallbackCode: 'UNKNOWN', message: message ?? 'item failed' }, extra) };
  });
  return { kind: 'per_item', items, ...withId };
}
