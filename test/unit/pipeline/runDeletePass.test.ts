import { describe, expect, it } from 'vitest';
import type { ChunkDeleter } from '../../../lib/pipeline/deleteChunk.js';
import { EntryScreen } from '../../../lib/pipeline/EntryScreen.js';
import type { JobEntry } from '../../../lib/pipeline/JobEntry.js';
import type { OutcomeRecord } from '../../../lib/pipeline/outcome.js';
import { runDeletePass, type PassStop } from '../../../lib/pipeline/runDeletePass.js';

const id = (n: number): string => n.toString(16).padStart(32, '0');

// Entries as a manifest gives them: valid IDs, with an invalid one and a repeat among them.
function entries(values: readonly unknown[]): AsyncIterable<JobEntry> {
  return {
    async *[Symbol.asyncIterator]() {
      for (const [index, value] of values.entries()) {
        await Promise.resolve();
        yield { position: index + 1, value };
      }
    },
  };
}

// A deleter that deletes everything and remembers what it was asked.
function deleter(): { deleteChunk: ChunkDeleter; chunks: string[][] } {
  const chunks: string[][] = [];
  return {
    chunks,
    deleteChunk: (refs) => {
      chunks.push(refs.map((ref) => ref.id));
      return Promise.resolve(refs.map((ref) => ({ imageId: ref.id, position: ref.position, outcome: 'deleted' as const })));
    },
  };
}

async function run(values: readonly unknown[], options: { resumeAfter?: number; stopAfterChunks?: number; stopWith?: PassStop; dryRun?: boolean } = {}) {
  const recorded: OutcomeRecord[] = [];
  const fake = deleter();
  let started = 0;
  const result = await runDeletePass({
    entries: entries(values),
    ...(options.resumeAfter === undefined ? {} : { resumeAfter: options.resumeAfter }),
    screen: new EntryScreen(values.length),
    chunkSize: 2,
    maxChunksInProgress: 1,
    deleteChunk: options.dryRun === true ? 'dry_run' : fake.deleteChunk,
    record: (records) => {
      recorded.push(...records);
      return Promise.resolve();
    },
    shouldStop: () => {
      if (options.stopAfterChunks !== undefined && started >= options.stopAfterChunks) return options.stopWith ?? 'deadline';
      started += 1;
      return undefined;
    },
  });
  return { result, recorded, chunks: fake.chunks };
}

describe('runDeletePass', () => {
  const values = [id(1), 'not-an-id', id(2), id(1), id(3), id(4), id(5)];

  it('gives every entry exactly one outcome, screened entries with their chunk', async () => {
    // Act
    const { result, recorded, chunks } = await run(values);

    // Assess
    expect(result).toEqual({ settledThrough: 7 });
    expect(recorded.map((r) => [r.position, r.outcome])).toEqual([[2, 'invalid'], [1, 'deleted'], [3, 'deleted'], [4, 'duplicate'], [5, 'deleted'], [6, 'deleted'], [7, 'deleted']]);
    expect(chunks).toEqual([[id(1), id(2)], [id(3), id(4)], [id(5)]]);
  });

  it('settles valid IDs as would_delete in a dry run, with no delete', async () => {
    const { recorded, chunks } = await run(values, { dryRun: true });
    expect(chunks).toEqual([]);
    expect(recorded.filter((r) => r.outcome === 'would_delete').map((r) => r.position)).toEqual([1, 3, 5, 6, 7]);
  });

  it('at the deadline, settles every entry up to settledThrough and none after', async () => {
    // Act: one chunk may start.
    const { result, recorded } = await run(values, { stopAfterChunks: 1, stopWith: 'deadline' });

    // Assess
    expect(result.stoppedBy).toBe('deadline');
    expect(result.settledThrough).toBe(3);
    expect(recorded.map((r) => r.position).sort()).toEqual([1, 2, 3]);
  });

  it('past the failure threshold, settles the rest at once: valid IDs skipped', async () => {
    const { result, recorded, chunks } = await run(values, { stopAfterChunks: 1, stopWith: 'failure_threshold' });
    expect(result.stoppedBy).toBe('failure_threshold');
    expect(chunks).toHaveLength(1);
    expect(recorded).toHaveLength(7);
    expect(recorded.filter((r) => r.outcome === 'skipped').map((r) => [r.position, r.errorCode])).toEqual([[5, 'FAILURE_THRESHOLD'], [6, 'FAILURE_THRESHOLD'], [7, 'FAILURE_THRESHOLD']]);
    expect(recorded.find((r) => r.position === 4)?.outcome).toBe('duplicate');
  });

  it('past the not-found threshold, settles the rest at once: valid IDs skipped, saying which threshold', async () => {
    const { result, recorded, chunks } = await run(values, { stopAfterChunks: 1, stopWith: 'not_found_threshold' });
    expect(result).toEqual({ settledThrough: Number.POSITIVE_INFINITY, stoppedBy: 'not_found_threshold' });
    expect(chunks).toHaveLength(1);
    expect(recorded).toHaveLength(7);
    const skipped = recorded.filter((r) => r.outcome === 'skipped');
    expect(skipped.map((r) => [r.position, r.errorCode])).toEqual([[5, 'NOT_FOUND_THRESHOLD'], [6, 'NOT_FOUND_THRESHOLD'], [7, 'NOT_FOUND_THRESHOLD']]);
    expect(skipped[0]?.errorMessage).toMatch(/not-found threshold/);
  });

  it('once the service refused the job as a whole, settles the rest at once: valid IDs skipped SERVICE_REFUSED', async () => {
    const { result, recorded, chunks } = await run(values, { stopAfterChunks: 1, stopWith: 'service_refused' });
    expect(result).toEqual({ settledThrough: Number.POSITIVE_INFINITY, stoppedBy: 'service_refused' });
    expect(chunks).toHaveLength(1);
    expect(recorded).toHaveLength(7);
    const skipped = recorded.filter((r) => r.outcome === 'skipped');
    expect(skipped.map((r) => [r.position, r.errorCode])).toEqual([[5, 'SERVICE_REFUSED'], [6, 'SERVICE_REFUSED'], [7, 'SERVICE_REFUSED']]);
    expect(skipped[0]?.errorMessage).toMatch(/refused the job as a whole/);
  });

  it('resumed, reports nothing before resumeAfter but still knows its IDs (a repeat after it is a duplicate)', async () => {
    const { recorded, chunks } = await run(values, { resumeAfter: 3 });
    expect(recorded.map((r) => [r.position, r.outcome])).toEqual([[4, 'duplicate'], [5, 'deleted'], [6, 'deleted'], [7, 'deleted']]);
    expect(chunks).toEqual([[id(3), id(4)], [id(5)]]);
  });
});
