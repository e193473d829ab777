import { backoffDelay, type RetryPolicy } from './backoff.js';
import type { CleanupTarget } from '../modelarts/CleanupTarget.js';
import { isAlreadyGone, isBisectable, isRetryable, isThrottled, TIME_BUDGET_SPENT, type ServiceFailure } from '../modelarts/classifyFailure.js';
import type { Clock } from '../core/clock.js';
import type { JobStats } from './jobStats.js';
import type { DeleteBatchResult, ModelArtsClient } from '../modelarts/modelArtsClient.js';
import type { ImageRef, OutcomeRecord } from './outcome.js';

/** Dependencies of {@link createChunkDeleter}. */
export interface ChunkDeleterDeps {
  client: ModelArtsClient;
  target: CleanupTarget;
  retry: RetryPolicy;
  clock: Clock;
  stats: JobStats;
  /** No retry is started (and no backoff slept) past this epoch-ms instant, so the report can still be written. */
  stopRetryingAt?: number;
}

/** Deletes one chunk of IDs and returns exactly one outcome per ID, in the chunk's order. Never throws. */
export type ChunkDeleter = (refs: readonly ImageRef[]) => Promise<OutcomeRecord[]>;

/**
 * Creates the function that deletes one chunk: it retries throttled and transient failures with
 * capped, jittered backoff; and when an all-or-nothing (v1) batch fails permanently, it splits the
 * batch in halves (bisection) until the IDs that cause the failure stand alone, so every other ID
 * is still deleted. For k bad IDs in a chunk of n this costs at most about 2·k·log2(n) extra
 * requests. A lone ID the service calls not found (ModelArts.4420) ends `already_deleted`. Which
 * failure is retried, bisected or already gone is the classifier's call (`classifyFailure.ts`).
 */
export function createChunkDeleter(deps: ChunkDeleterDeps): ChunkDeleter {
  const { client, target, retry, clock, stats } = deps;

  async function sendWithRetries(ids: readonly string[]): Promise<DeleteBatchResult> {
    for (let attempt = 1; ; attempt += 1) {
      // No request at all once the budget is spent (chunks not started yet included), and none
      // may outlive it (the client checks again when it sends, and abandons a request at the
      // deadline): the report must still be written before the Lambda deadline.
      if (deps.stopRetryingAt !== undefined && clock.now() >= deps.stopRetryingAt) {
        const message = attempt === 1 ? 'not sent: the time budget of this invocation was spent' : `not retried: the time budget was spent after ${attempt - 1} attempts`;
        return { kind: 'batch_failed', failure: { failureClass: 'permanent', code: TIME_BUDGET_SPENT, message } };
      }
      const result = await client.deleteBatch(target, ids, deps.stopRetryingAt === undefined ? undefined : { deadline: deps.stopRetryingAt });
      const sent = result.requestsSent ?? 1;
      stats.requests += sent;
      // A request repeated once with renewed credentials (inside the client) is a retry too.
      stats.retries += Math.max(0, sent - 1);
      if (result.kind === 'per_item') return result;
      const { failure } = result;
      if (isThrottled(failure)) stats.throttled += 1;
      if (!isRetryable(failure)) return result;
      if (attempt >= retry.maxAttempts) {
        return { ...result, failure: { ...failure, message: `${failure.message} (gave up after ${attempt} attempts)` } };
      }
      const delay = backoffDelay(attempt, retry, clock.random, failure.retryAfterMs);
      if (deps.stopRetryingAt !== undefined && clock.now() + delay >= deps.stopRetryingAt) {
        return { ...result, failure: { ...failure, message: `${failure.message} (time budget spent after ${attempt} attempts)` } };
      }
      stats.retries += 1;
      await clock.sleep(delay);
    }
  }

  async function settle(refs: readonly ImageRef[]): Promise<OutcomeRecord[]> {
    const result = await sendWithRetries(refs.map((ref) => ref.id));
    if (result.kind === 'per_item') {
      return refs.map((ref, index) => {
        const item = result.items[index];
        // A missing item confirms nothing: never report an ID deleted without the service saying so.
        if (item === undefined) return { imageId: ref.id, position: ref.position, outcome: 'failed', errorCode: 'MALFORMED_RESPONSE', errorMessage: 'no result for this ID in the response' };
        if (item.ok) return { imageId: ref.id, position: ref.position, outcome: 'deleted' };
        return fromFailure(ref, item.failure);
      });
    }
    const { failure } = result;
    if (refs.length > 1 && isBisectable(failure)) {
      const middle = Math.ceil(refs.length / 2);
      // Halves run one after the other: bisection must not multiply the load on the service.
      const left = await settle(refs.slice(0, middle));
      const right = await settle(refs.slice(middle));
      return [...left, ...right];
    }
    return refs.map((ref) => fromFailure(ref, failure));
  }

  return async (refs) => (refs.length === 0 ? [] : settle(refs));
}

function fromFailure(ref: ImageRef, failure: ServiceFailure): OutcomeRecord {
  if (isAlreadyGone(failure)) return { imageId: ref.id, position: ref.position, outcome: 'already_deleted' };
  return { imageId: ref.id, position: ref.position, outcome: 'failed', errorCode: failure.code, errorMessage: failure.message };
}
