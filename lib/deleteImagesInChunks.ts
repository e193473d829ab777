import type { ChunkDeleter } from './deleteChunk.js';
import type { ImageRef, OutcomeRecord } from './outcome.js';

/** Input of {@link deleteImagesInChunks}. */
export interface DeleteImagesInChunksInput {
  /** Chunks of IDs to delete, read lazily: no more are pulled while `maxInFlight` are running. */
  chunks: AsyncIterable<readonly ImageRef[]>;
  deleteChunk: ChunkDeleter;
  /** Most chunks (and so requests) in flight at once. */
  maxInFlight: number;
  /** Receives each chunk's outcomes as soon as the chunk is settled. */
  onOutcomes: (records: OutcomeRecord[]) => void;
}

/**
 * Runs the chunk deleter over a stream of chunks with at most `maxInFlight` running at once.
 * Pulling the next chunk waits for a free slot, so a reader upstream is paused (back-pressure).
 * Every ID of every chunk pulled gets exactly one outcome, even if the deleter has a bug.
 */
export async function deleteImagesInChunks(input: DeleteImagesInChunksInput): Promise<void> {
  const { chunks, deleteChunk, maxInFlight, onOutcomes } = input;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive whole number, got ${maxInFlight}`);
  const running = new Set<Promise<void>>();

  for await (const chunk of chunks) {
    while (running.size >= maxInFlight) await Promise.race(running);
    const task: Promise<void> = deleteChunk(chunk)
      .catch((error: unknown) => chunk.map((ref): OutcomeRecord => ({
        imageId: ref.id,
        position: ref.position,
        outcome: 'failed',
        errorCode: 'INTERNAL_ERROR',
        errorMessage: error instanceof Error ? error.message : String(error),
      })))
      .then(onOutcomes)
      .finally(() => running.delete(task));
    running.add(task);
  }
  await Promise.all(running);
}
