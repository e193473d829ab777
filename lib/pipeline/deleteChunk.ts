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
  /**
   * The bisection budget of one chunk (BISECT_MAX_REFUSALS): a part of a refused batch is sent only
   * while the chunk's refused requests are fewer than this plus the IDs it deleted. A chunk whose
   * IDs are all gone then costs exactly this many requests; every request beyond it was paid for by
   * a deleted ID. @default Infinity
   */
  maxRefusals?: number;
}

/**
 * Error code of an ID whose batch the service answered "not found" but that the bisection budget
 * did not reach alone: it was not deleted, and whether it still exists is unknown, so it is
 * `failed` (and listed in failed.csv for a re-run), never `already_deleted`.
 */
export const NOT_FOUND_UNRESOLVED = 'NOT_FOUND_UNRESOLVED';

/** Deletes one chunk of IDs and returns exactly one outcome per ID, in the chunk's order. Never throws. */
export type ChunkDeleter = (refs: readonly ImageRef[]) => Promise<OutcomeRecord[]>;

/** A part of a chunk still to settle, during bisection. */
interface Group {
  refs: readonly ImageRef[];
  /** Index of its first ID in the chunk. */
  start: number;
  /** The refusal of the batch it was split from; none for the chunk itself. */
  parent?: ServiceFailure;
  /** Its right sibling, which follows it in the queue. */
  sibling?: Group;
  /** Known to hold an ID the service does not find: its parent was refused "not found" and its left sibling was deleted whole. */
  holdsGone?: boolean;
}

/**
 * Creates the function that deletes one chunk: it retries throttled and transient failures with
 * capped, jittered backoff; and when an all-or-nothing (v1) batch fails permanently, it splits the
 * batch in halves (bisection) until the IDs that cause the failure stand alone, so every other ID
 * is still deleted. For k bad IDs in a chunk of n this costs at most about 2·k·log2(n) extra
 * requests. A lone ID the service calls not found (ModelArts.4420) ends `already_deleted`. Which
 * failure is retried, bisected or already gone is the classifier's call (`classifyFailure.ts`).
 *
 * Bisection is breadth-first, one request at a time: a clean half is deleted whole before the
 * budget is spent on the other. "Not found" is about an ID, so when a batch refused that way has
 * its left half deleted, the right half holds the gone ID: it is split without being sent (a lone
 * ID is always sent: only the service's word makes it `already_deleted`). The budget (`maxRefusals`) bounds the refusals:
 * when it is spent, the IDs not isolated end `failed` (`NOT_FOUND_UNRESOLVED` under a not-found
 * refusal, else the refusal's own code), never `already_deleted` (docs/report-format.md).
 */
export function createChunkDeleter(deps: ChunkDeleterDeps): ChunkDeleter {
  const { client, target, retry, clock, stats } = deps;
  const maxRefusals = deps.maxRefusals ?? Number.POSITIVE_INFINITY;
  if (!(maxRefusals >= 1)) throw new RangeError(`maxRefusals must be at least 1, got ${maxRefusals}`);

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
    const outcomes: OutcomeRecord[] = [];
    let refused = 0;
    let deleted = 0;
    // Breadth-first, and one request at a time: bisection must not multiply the load on the service.
    const queue: Group[] = [{ refs, start: 0 }];
    const split = (group: Group, failure: ServiceFailure): void => {
      const middle = Math.ceil(group.refs.length / 2);
      const right: Group = { refs: group.refs.slice(middle), start: group.start + middle, parent: failure };
      queue.push({ refs: group.refs.slice(0, middle), start: group.start, parent: failure, sibling: right }, right);
    };
    for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
      const { parent, start } = group;
      const place = (records: readonly OutcomeRecord[]): void => records.forEach((record, index) => (outcomes[start + index] = record));
      // Its own request would be refused "not found" as its parent was: split it at once. A lone ID
      // is still sent: it is `already_deleted` only when the service says so of it alone.
      if (group.holdsGone === true && parent !== undefined && group.refs.length > 1) {
        split(group, parent);
        continue;
      }
      if (parent !== undefined && refused >= maxRefusals + deleted) {
        place(group.refs.map((ref) => unresolved(ref, parent, maxRefusals)));
        continue;
      }
      const result = await sendWithRetries(group.refs.map((ref) => ref.id));
      if (result.kind === 'per_item') {
        const records = fromItems(group.refs, result.items);
        place(records);
        const deletedHere = records.filter((record) => record.outcome === 'deleted').length;
        deleted += deletedHere;
        if (parent !== undefined && isAlreadyGone(parent) && group.sibling !== undefined && deletedHere === records.length) group.sibling.holdsGone = true;
        continue;
      }
      refused += 1;
      const { failure } = result;
      if (group.refs.length > 1 && isBisectable(failure)) split(group, failure);
      else if (group.refs.length > 1 && isAlreadyGone(failure)) place(group.refs.map((ref) => wholeBatchNotFound(ref, failure, group.refs.length)));
      else place(group.refs.map((ref) => fromFailure(ref, failure)));
    }
    return outcomes;
  }

  return async (refs) => (refs.length === 0 ? [] : settle(refs));
}

function fromItems(refs: readonly ImageRef[], items: Extract<DeleteBatchResult, { kind: 'per_item' }>['items']): OutcomeRecord[] {
  return refs.map((ref, index) => {
    const item = items[index];
    // A missing item confirms nothing: never report an ID deleted without the service saying so.
    if (item === undefined) return { imageId: ref.id, position: ref.position, outcome: 'failed', errorCode: 'MALFORMED_RESPONSE', errorMessage: 'no result for this ID in the response' };
    if (item.ok) return { imageId: ref.id, position: ref.position, outcome: 'deleted' };
    return fromFailure(ref, item.failure);
  });
}

function fromFailure(ref: ImageRef, failure: ServiceFailure): OutcomeRecord {
  if (isAlreadyGone(failure)) return { imageId: ref.id, position: ref.position, outcome: 'already_deleted' };
  return { imageId: ref.id, position: ref.position, outcome: 'failed', errorCode: failure.code, errorMessage: failure.message };
}

// An ID of a batch refused "not found" as a whole, not to be split: the answer names no ID, so only
// a lone ID may be called gone; each of a bigger batch is unresolved (a re-run settles it).
function wholeBatchNotFound(ref: ImageRef, refusal: ServiceFailure, size: number): OutcomeRecord {
  return { imageId: ref.id, position: ref.position, outcome: 'failed', errorCode: NOT_FOUND_UNRESOLVED, errorMessage: `state unknown: its batch of ${size} was refused as not found as a whole (${refusal.code}: ${refusal.message}), which names no ID; it was not deleted and may still exist: re-run it` };
}

// An ID of a refused batch that the budget did not reach alone: not deleted (a refused v1 batch
// deletes nothing), and under a "not found" refusal not known to be gone either.
function unresolved(ref: ImageRef, refusal: ServiceFailure, maxRefusals: number): OutcomeRecord {
  const budget = `the chunk's bisection budget (${maxRefusals} refused requests beyond the IDs it deleted) was spent before this ID was sent alone`;
  if (isAlreadyGone(refusal)) {
    return {
      imageId: ref.id,
      position: ref.position,
      outcome: 'failed',
      errorCode: NOT_FOUND_UNRESOLVED,
      errorMessage: `state unknown: its batch was refused as not found (${refusal.code}: ${refusal.message}) and ${budget}; it was not deleted and may still exist: re-run it`,
    };
  }
  return { imageId: ref.id, position: ref.position, outcome: 'failed', errorCode: refusal.code, errorMessage: `${refusal.message} (not isolated: ${budget})` };
}
