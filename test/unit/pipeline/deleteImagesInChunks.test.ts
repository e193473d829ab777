import { describe, expect, it } from 'vitest';
import type { ChunkDeleter } from '../../../lib/pipeline/deleteChunk.js';
import { deleteImagesInChunks } from '../../../lib/pipeline/deleteImagesInChunks.js';
import type { ImageRef, OutcomeRecord } from '../../../lib/pipeline/outcome.js';
import { seededRandom as seeded } from '../../../local/emulator/seededRandom.js';

// The chunk deleter is faked: the unit under test is the scheduling (concurrency, back-pressure,
// outcome bookkeeping); the integration tests run the real deleter against the emulator.

const hexId = (n: number) => n.toString(16).padStart(32, '0');

function chunksOf(count: number, size: number): ImageRef[][] {
  return Array.from({ length: count }, (_, c) => Array.from({ length: size }, (_, i) => ({ id: hexId(c * size + i + 1), position: c * size + i + 1 })));
}

/** The items as an async source (what the pipeline reads chunks from), calling `onPull` as each one is pulled. */
// eslint-disable-next-line @typescript-eslint/require-await -- the source must be async and has nothing to await; these tests count microtasks, so it stays a plain async generator
async function* fromArray<T>(items: readonly T[], onPull: () => void = () => {}): AsyncGenerator<T> {
  for (const item of items) {
    onPull();
    yield item;
  }
}

const deletedAll = (refs: readonly ImageRef[]): OutcomeRecord[] => refs.map((ref) => ({ imageId: ref.id, position: ref.position, outcome: 'deleted' }));

// Lets pending promise callbacks run, without timers.
async function flushMicrotasks(rounds = 200): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await Promise.resolve();
}


interface Deferred {
  refs: readonly ImageRef[];
  resolve: (records: OutcomeRecord[]) => void;
  reject: (error: unknown) => void;
}

/** A deleter whose calls stay pending until the test settles them. */
function controllableDeleter(): { deleteChunk: ChunkDeleter; pending: Deferred[] } {
  const pending: Deferred[] = [];
  const deleteChunk: ChunkDeleter = (refs) =>
    new Promise<OutcomeRecord[]>((resolve, reject) => {
      pending.push({ refs, resolve, reject });
    });
  return { deleteChunk, pending };
}

describe('deleteImagesInChunks', () => {
  for (const [maxInFlight, seed] of [[1, 1], [3, 2], [4, 3], [16, 4]] as const) {
    it(`never runs more than maxInFlight=${maxInFlight} chunks at once, under random delays`, async () => {
      // Prepare
      const random = seeded(seed);
      const chunks = chunksOf(60, 3);
      let running = 0;
      let maxRunning = 0;
      const deleteChunk: ChunkDeleter = async (refs) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        const ticks = 50 + Math.floor(random() * 150);
        for (let i = 0; i < ticks; i += 1) await Promise.resolve();
        running -= 1;
        return deletedAll(refs);
      };
      const received: OutcomeRecord[] = [];

      // Act
      await deleteImagesInChunks({ chunks: fromArray(chunks), deleteChunk, maxChunksInProgress: maxInFlight, onOutcomes: (records) => received.push(...records) });

      // Assess
      expect(maxRunning).toBeLessThanOrEqual(maxInFlight);
      expect(maxRunning).toBe(maxInFlight);
      expect(running).toBe(0);
      expect(received.map((r) => r.position).sort((a, b) => a - b)).toEqual(chunks.flat().map((ref) => ref.position));
    });
  }

  it('keeps the bound when chunks settle out of order', async () => {
    // Prepare
    const { deleteChunk, pending } = controllableDeleter();
    const chunks = chunksOf(20, 2);
    const received: OutcomeRecord[] = [];
    const random = seeded(42);
    let maxPending = 0;

    // Act
    const done = deleteImagesInChunks({ chunks: fromArray(chunks), deleteChunk, maxChunksInProgress: 3, onOutcomes: (records) => received.push(...records) });
    for (let settled = 0; settled < chunks.length; settled += 1) {
      await flushMicrotasks();
      maxPending = Math.max(maxPending, pending.length);
      const [next] = pending.splice(Math.floor(random() * pending.length), 1);
      next?.resolve(deletedAll(next.refs));
    }
    await done;

    // Assess
    expect(maxPending).toBe(3);
    expect(pending).toHaveLength(0);
    expect(received).toHaveLength(40);
  });

  it('gives every ID exactly one outcome', async () => {
    // Prepare
    const chunks = chunksOf(25, 4);
    const deleteChunk: ChunkDeleter = (refs) => Promise.resolve(deletedAll(refs));
    const received: OutcomeRecord[] = [];

    // Act
    await deleteImagesInChunks({ chunks: fromArray(chunks), deleteChunk, maxChunksInProgress: 4, onOutcomes: (records) => received.push(...records) });

    // Assess
    const ids = received.map((r) => r.imageId);
    expect(ids).toHaveLength(100);
    expect(new Set(ids).size).toBe(100);
    expect(new Set(ids)).toEqual(new Set(chunks.flat().map((ref) => ref.id)));
  });

  it('turns a chunk whose deleter rejects into failed INTERNAL_ERROR outcomes and carries on', async () => {
    // Prepare
    const chunks = chunksOf(3, 2);
    const deleteChunk: ChunkDeleter = (refs) => {
      if (refs[0]?.position === 3) return Promise.reject(new Error('bug in the deleter'));
      return Promise.resolve(deletedAll(refs));
    };
    const received: OutcomeRecord[] = [];

    // Act
    await deleteImagesInChunks({ chunks: fromArray(chunks), deleteChunk, maxChunksInProgress: 2, onOutcomes: (records) => received.push(...records) });

    // Assess
    const byPosition = [...received].sort((a, b) => a.position - b.position);
    expect(byPosition).toEqual<OutcomeRecord[]>([
      { imageId: hexId(1), position: 1, outcome: 'deleted' },
      { imageId: hexId(2), position: 2, outcome: 'deleted' },
      { imageId: hexId(3), position: 3, outcome: 'failed', errorCode: 'INTERNAL_ERROR', errorMessage: 'bug in the deleter' },
      { imageId: hexId(4), position: 4, outcome: 'failed', errorCode: 'INTERNAL_ERROR', errorMessage: 'bug in the deleter' },
      { imageId: hexId(5), position: 5, outcome: 'deleted' },
      { imageId: hexId(6), position: 6, outcome: 'deleted' },
    ]);
  });

  it('renders a non-Error rejection as the message', async () => {
    // Prepare
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the point of the test: a deleter that rejects with something other than an Error
    const deleteChunk: ChunkDeleter = () => Promise.reject('plain string');
    const received: OutcomeRecord[] = [];

    // Act
    await deleteImagesInChunks({ chunks: fromArray(chunksOf(1, 1)), deleteChunk, maxChunksInProgress: 1, onOutcomes: (records) => received.push(...records) });

    // Assess
    expect(received).toEqual([{ imageId: hexId(1), position: 1, outcome: 'failed', errorCode: 'INTERNAL_ERROR', errorMessage: 'plain string' }]);
  });

  // Was a bug (a deleter that throws synchronously made deleteImagesInChunks reject); fixed with issue 7.
  it('turns a deleter that throws synchronously into failed INTERNAL_ERROR outcomes', async () => {
    // Prepare
    const deleteChunk: ChunkDeleter = () => {
      throw new Error('sync bug');
    };
    const received: OutcomeRecord[] = [];

    // Act
    await deleteImagesInChunks({ chunks: fromArray(chunksOf(2, 1)), deleteChunk, maxChunksInProgress: 1, onOutcomes: (records) => received.push(...records) });

    // Assess
    expect(received.map((r) => [r.position, r.errorCode])).toEqual([[1, 'INTERNAL_ERROR'], [2, 'INTERNAL_ERROR']]);
  });

  it('pauses the source while every slot is busy, and resumes when one frees up', async () => {
    // Prepare
    const maxInFlight = 3;
    let pulled = 0;
    const source = () => fromArray(chunksOf(50, 1), () => { pulled += 1; });
    const { deleteChunk, pending } = controllableDeleter();
    const done = deleteImagesInChunks({ chunks: source(), deleteChunk, maxChunksInProgress: maxInFlight, onOutcomes: () => {} });

    // Act
    await flushMicrotasks();
    const pulledWhileFull = pulled;
    await flushMicrotasks();
    const pulledLater = pulled;
    pending.shift()?.resolve([]);
    await flushMicrotasks();

    // Assess
    expect(pending).toHaveLength(maxInFlight);
    expect(pulledLater).toBe(pulledWhileFull);
    expect(pulledWhileFull).toBeLessThan(10);
    expect(pulled).toBe(pulledWhileFull + 1);

    // Let the rest run so the promise settles.
    for (let settled = 0; settled < 50 && pending.length > 0; settled += 1) {
      pending.shift()?.resolve([]);
      await flushMicrotasks();
    }
    await done;
    expect(pulled).toBe(50);
  });

  // Was a bug (one chunk more than the bound was read ahead while every slot was busy); fixed with issue 7.
  it('pulls exactly maxInFlight chunks while the first maxInFlight are pending', async () => {
    // Prepare
    const maxInFlight = 3;
    let pulled = 0;
    const source = () => fromArray(chunksOf(10, 1), () => { pulled += 1; });
    const { deleteChunk, pending } = controllableDeleter();

    // Act
    const done = deleteImagesInChunks({ chunks: source(), deleteChunk, maxChunksInProgress: maxInFlight, onOutcomes: () => {} });
    await flushMicrotasks();
    const pulledWhileFull = pulled;
    while (pending.length > 0) {
      pending.shift()?.resolve([]);
      await flushMicrotasks();
    }
    await done;

    // Assess
    expect(pulledWhileFull).toBe(maxInFlight);
  });

  it('passes each chunk outcome to onOutcomes as soon as that chunk settles', async () => {
    // Prepare
    const { deleteChunk, pending } = controllableDeleter();
    const batches: number[][] = [];
    const done = deleteImagesInChunks({
      chunks: fromArray(chunksOf(2, 2)),
      deleteChunk,
      maxChunksInProgress: 2,
      onOutcomes: (records) => batches.push(records.map((r) => r.position)),
    });
    await flushMicrotasks();

    // Act
    const second = pending[1]!;
    second.resolve(deletedAll(second.refs));
    await flushMicrotasks();
    const afterSecond = batches.map((batch) => [...batch]);
    const first = pending[0]!;
    first.resolve(deletedAll(first.refs));
    await done;

    // Assess
    expect(afterSecond).toEqual([[3, 4]]);
    expect(batches).toEqual([[3, 4], [1, 2]]);
  });

  it('resolves without calling anything for no chunks', async () => {
    // Prepare
    let calls = 0;
    const deleteChunk: ChunkDeleter = (refs) => {
      calls += 1;
      return Promise.resolve(deletedAll(refs));
    };

    // Act
    await deleteImagesInChunks({ chunks: fromArray([]), deleteChunk, maxChunksInProgress: 2, onOutcomes: () => { calls += 1; } });

    // Assess
    expect(calls).toBe(0);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses maxInFlight=%s with a RangeError', async (maxInFlight) => {
    // Prepare
    const deleteChunk: ChunkDeleter = (refs) => Promise.resolve(deletedAll(refs));

    // Act
    const running = deleteImagesInChunks({ chunks: fromArray(chunksOf(1, 1)), deleteChunk, maxChunksInProgress: maxInFlight, onOutcomes: () => {} });

    // Assess
    await expect(running).rejects.toThrow(RangeError);
  });
});
