import type { ChunkDeleter } from './deleteChunk.js';
import type { ImageRef, OutcomeRecord } from './outcome.js';

/** Input of {@link deleteImagesInChunks}. */
export interface DeleteImagesInChunksInput {
  /** Chunks of IDs to delete, read lazily: no chunk is pulled while `maxChunksInProgress` are in progress. */
  chunks: AsyncIterable<readonly ImageRef[]>;
  deleteChunk: ChunkDeleter;
  /**
   * Most chunks in progress at once: sending, waiting for the job's limiter, or sleeping before a
   * retry. The requests in flight are limited by the limiter inside the deleter's client; this
   * bounds the IDs held in memory, and must be large enough to keep the limiter busy.
   */
  maxChunksInProgress: number;
  /** Receives each chunk's outcomes (with the chunk) as soon as it is settled; may wait (back-pressure). */
  onOutcomes: (records: OutcomeRecord[], chunk: readonly ImageRef[]) => unknown;
}

/**
 * Runs the chunk deleter over a stream of chunks with at most `maxChunksInProgress` in progress at
 * once. The next chunk is pulled only when a slot is free, so a reader upstream is paused
 * (back-pressure). Every ID of every chunk pulled gets exactly one outcome, even if the deleter
 * has a bug (throws, or rejects).
 *
 * @throws {RangeError} when `maxChunksInProgress` is not a positive whole number.
 */
export async function deleteImagesInChunks(input: DeleteImagesInChunksInput): Promise<void> {
  const { chunks, deleteChunk, maxChunksInProgress, onOutcomes } = input;
  if (!Number.isInteger(maxChunksInProgress) || maxChunksInProgress < 1) {
    throw new RangeError(`maxChunksInProgress must be a positive whole number, got ${maxChunksInProgress}`);
  }
  const running = new Set<Promise<void>>();
  const iterator = chunks[Symbol.asyncIterator]();
  let reportingError: { error: unknown } | undefined;

  try {
    for (;;) {
      // Wait for a free slot before pulling: reading ahead would hold a chunk no one works on.
      while (running.size >= maxChunksInProgress) await Promise.race(running);
      if (reportingError !== undefined) {
        await iterator.return?.();
        break;
      }
      const next = await iterator.next();
      if (next.done === true) break;
      const chunk = next.value;
      const task: Promise<void> = settleChunk(deleteChunk, chunk)
        .then(async (records) => {
          await onOutcomes(records, chunk);
        })
        .catch((error: unknown) => {
          // onOutcomes failed: the outcomes may be lost, so the run fails (after the others settle).
          reportingError ??= { error };
        })
        .finally(() => running.delete(task));
      running.add(task);
    }
  } finally {
    // Even when the source fails, the chunks already sent are settled and reported first.
    await Promise.all(running);
  }
  if (reportingError !== undefined) throw reportingError.error;
}

// The deleter's outcomes, or failed INTERNAL_ERROR outcomes when it throws or rejects.
async function settleChunk(deleteChunk: ChunkDeleter, chunk: readonly ImageRef[]): Promise<OutcomeRecord[]> {
  try {
    return await deleteChunk(chunk);
  } catch (error) {
    return chunk.map((ref): OutcomeRecord => ({
      imageId: ref.id,
      position: ref.position,
      outcome: 'failed',
      errorCode: 'INTERNAL_ERROR',
      errorMessage: error instanceof Error ? error.message : String(error),
    }));
  }
}
