import type { ChunkDeleter } from './deleteChunk.js';
import { deleteImagesInChunks } from './deleteImagesInChunks.js';
import type { EntryScreen } from './EntryScreen.js';
import type { JobEntry } from './JobEntry.js';
import type { ImageRef, OutcomeRecord } from './outcome.js';

/** Why a deleting pass stopped before the end of its entries. */
export type PassStop = 'deadline' | 'failure_threshold' | 'not_found_threshold' | 'service_refused' | 'cancelled';

// What a skipped entry says, per threshold that stopped the pass.
const SKIPPED_BY: Readonly<Record<Exclude<PassStop, 'deadline'>, { errorCode: string; errorMessage: string }>> = {
  failure_threshold: { errorCode: 'FAILURE_THRESHOLD', errorMessage: 'not attempted: the job stopped at its failure threshold' },
  not_found_threshold: { errorCode: 'NOT_FOUND_THRESHOLD', errorMessage: 'not attempted: the job stopped at its not-found threshold (most IDs attempted were not found: a wrong target, or a list deleted already)' },
  service_refused: { errorCode: 'SERVICE_REFUSED', errorMessage: 'not attempted: the service refused the job as a whole (e.g. ModelArts.4204, the API not subscribed in this account or region); see the summary\'s stop' },
  cancelled: { errorCode: 'CANCELLED', errorMessage: 'not attempted: the job was cancelled (image-cleanup cancel); see the summary\'s stop' },
};

/** Input of {@link runDeletePass}. */
export interface DeletePassInput {
  /** The job's entries, read from the start, in order. */
  entries: AsyncIterable<JobEntry>;
  /** Entries up to this position were settled by earlier invocations: screened again (to know repeats), not re-reported. @default 0 */
  resumeAfter?: number;
  screen: EntryScreen;
  chunkSize: number;
  maxChunksInProgress: number;
  /** Deletes a chunk; `'dry_run'` settles every valid ID as `would_delete` without a request. */
  deleteChunk: ChunkDeleter | 'dry_run';
  /** Receives every outcome, exactly once per entry; may wait (back-pressure on the reader). */
  record: (records: readonly OutcomeRecord[]) => Promise<void>;
  /** Asked before each new chunk is started: a reason to stop, or undefined to go on. */
  shouldStop: () => PassStop | undefined;
}

/** How a deleting pass ended. */
export interface DeletePassResult {
  /** Every entry up to this position has its outcome: where a later invocation resumes. */
  settledThrough: number;
  stoppedBy?: PassStop;
}

/** A chunk of IDs with the entries screened out while it was filled, and the last position in it. */
interface Batch {
  refs: ImageRef[];
  settled: OutcomeRecord[];
  lastPosition: number;
}

/**
 * The deleting pass: screens the entries (settling invalid ones and repeats), groups valid IDs in
 * chunks, and deletes them with at most `maxChunksInProgress` chunks at once, pulling the next
 * chunk only when a slot is free (reading pauses while deletes are in flight).
 *
 * It stops starting chunks when `shouldStop` says so. At the deadline it leaves the rest for a
 * later invocation: every entry up to `settledThrough` has its outcome and none after it does.
 * Past the failure or not-found threshold, once the service refused the job as a whole, or once
 * the job was cancelled, it settles the rest at once: valid IDs as `skipped`, with the code of what stopped it.
 */
export async function runDeletePass(input: DeletePassInput): Promise<DeletePassResult> {
  const { screen, chunkSize, record } = input;
  const resumeAfter = input.resumeAfter ?? 0;
  const meta = new WeakMap<readonly ImageRef[], Batch>();
  let settledThrough = resumeAfter;
  let stoppedBy: PassStop | undefined;
  let held: Batch | undefined;
  const iterator = input.entries[Symbol.asyncIterator]();

  async function* batches(): AsyncGenerator<readonly ImageRef[]> {
    let batch: Batch = { refs: [], settled: [], lastPosition: resumeAfter };
    const release = (): Batch | undefined => {
      stoppedBy = input.shouldStop();
      if (stoppedBy !== undefined) return batch;
      meta.set(batch.refs, batch);
      settledThrough = batch.lastPosition;
      return undefined;
    };
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      const entry = next.value;
      const screened = screen.screen(entry.value, entry.position);
      if (entry.position <= resumeAfter) continue;
      if (screened.kind === 'valid') batch.refs.push(screened.ref);
      else batch.settled.push(screened.record);
      batch.lastPosition = entry.position;
      if (batch.refs.length === chunkSize) {
        held = release();
        if (held !== undefined) return;
        yield batch.refs;
        batch = { refs: [], settled: [], lastPosition: batch.lastPosition };
      }
    }
    if (batch.refs.length > 0 || batch.settled.length > 0) {
      held = release();
      if (held !== undefined) return;
      yield batch.refs;
    }
  }

  const deleteChunk: ChunkDeleter =
    input.deleteChunk === 'dry_run' ? (refs) => Promise.resolve(refs.map((ref) => ({ imageId: ref.id, position: ref.position, outcome: 'would_delete' }))) : input.deleteChunk;

  await deleteImagesInChunks({
    chunks: batches(),
    deleteChunk,
    maxChunksInProgress: input.maxChunksInProgress,
    onOutcomes: async (records, chunk) => {
      const batch = meta.get(chunk);
      // Screened entries first: they came before the chunk's last ID in the input.
      await record(batch === undefined ? records : [...batch.settled, ...records]);
    },
  });

  if (stoppedBy !== undefined && stoppedBy !== 'deadline') {
    // The rest is settled now, each entry once: valid IDs skipped, the others as screened.
    const why = SKIPPED_BY[stoppedBy];
    const skip = (refs: readonly ImageRef[]): OutcomeRecord[] => refs.map((ref) => ({ imageId: ref.id, position: ref.position, outcome: 'skipped', ...why }));
    if (held !== undefined) await record([...held.settled, ...skip(held.refs)]);
    let pending: OutcomeRecord[] = [];
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      const screened = screen.screen(next.value.value, next.value.position);
      pending.push(screened.kind === 'valid' ? skip([screened.ref])[0]! : screened.record);
      if (pending.length >= 1000) {
        await record(pending);
        pending = [];
      }
    }
    if (pending.length > 0) await record(pending);
    return { settledThrough: Number.POSITIVE_INFINITY, stoppedBy };
  }
  if (stoppedBy === 'deadline') await iterator.return?.();
  return { settledThrough, ...(stoppedBy === undefined ? {} : { stoppedBy }) };
}
