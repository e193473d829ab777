import { describe, expect, it } from 'vitest';
import { backoffDelay, type RetryPolicy } from '../../../lib/pipeline/backoff.js';
import type { CleanupTarget } from '../../../lib/modelarts/CleanupTarget.js';
import { classifyResponse, type ServiceFailure } from '../../../lib/modelarts/classifyFailure.js';
import type { Clock } from '../../../lib/core/clock.js';
import { createChunkDeleter, NOT_FOUND_UNRESOLVED, type ChunkDeleterDeps } from '../../../lib/pipeline/deleteChunk.js';
import { createJobStats, type JobStats } from '../../../lib/pipeline/jobStats.js';
import type { DeleteBatchResult, ModelArtsClient } from '../../../lib/modelarts/modelArtsClient.js';
import type { ImageRef, OutcomeRecord } from '../../../lib/pipeline/outcome.js';
import { seededRandom as seeded } from '../../../local/emulator/seededRandom.js';

// A fake client is used on purpose: the unit under test is the retry and bisection logic; the
// integration tests cover the real client against the annotation service emulator.

const V1_TARGET: CleanupTarget = { api: 'v1', projectId: 'p1', dataAnnotationId: '282' };
const V2_TARGET: CleanupTarget = { api: 'v2', projectId: 'p1', datasetId: 'd1', deleteSource: false };
const POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 20_000 };
const START = Date.parse('2024-05-01T12:00:00Z');

/** A clock whose time only moves when the code under test sleeps; records every sleep. */
function fakeClock(randomValue = 0.5): Clock & { sleeps: number[] } {
  let now = START;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms: number) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    random: () => randomValue,
  };
}

/** A client that answers each request with the next scripted result (the last one repeats), recording the IDs sent. */
function scriptedClient(...results: DeleteBatchResult[]): ModelArtsClient & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    deleteBatch(_target, imageIds) {
      calls.push([...imageIds]);
      const result = results[Math.min(calls.length - 1, results.length - 1)];
      if (result === undefined) return Promise.reject(new Error('no scripted result'));
      return Promise.resolve(result);
    },
  };
}

/** A v1-like, all-or-nothing client: the whole batch fails with ModelArts.4420 if it holds any "gone" ID. */
function v1LikeClient(gone: ReadonlySet<string>): ModelArtsClient & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    deleteBatch(_target, imageIds) {
      calls.push([...imageIds]);
      if (imageIds.some((id) => gone.has(id))) {
        return Promise.resolve(batchFailed({ failureClass: classifyResponse(400, 'ModelArts.4420'), status: 400, code: 'ModelArts.4420', message: 'image not found' }));
      }
      return Promise.resolve(allOk(imageIds.length));
    },
  };
}

const allOk = (count: number): DeleteBatchResult => ({ kind: 'per_item', items: Array.from({ length: count }, () => ({ ok: true as const })) });
const batchFailed = (failure: ServiceFailure): DeleteBatchResult => ({ kind: 'batch_failed', failure });
const transient503: ServiceFailure = { failureClass: 'transient', status: 503, code: 'HTTP_503', message: 'service unavailable' };

const hexId = (n: number) => n.toString(16).padStart(32, '0');
const refsOf = (count: number): ImageRef[] => Array.from({ length: count }, (_, i) => ({ id: hexId(i + 1), position: i + 1 }));

function deleterWith(client: ModelArtsClient, overrides: Partial<ChunkDeleterDeps> = {}) {
  const stats: JobStats = createJobStats();
  const clock = fakeClock();
  const deps: ChunkDeleterDeps = { client, target: V1_TARGET, retry: POLICY, clock, stats, ...overrides };
  return { deleteChunk: createChunkDeleter(deps), stats: deps.stats, clock: deps.clock as ReturnType<typeof fakeClock> };
}


describe('createChunkDeleter', () => {
  it('maps every ID to deleted when the batch succeeds, in order, with one request', async () => {
    // Prepare
    const client = scriptedClient(allOk(3));
    const { deleteChunk, stats } = deleterWith(client);
    const refs = refsOf(3);

    // Act
    const outcomes = await deleteChunk(refs);

    // Assess
    expect(outcomes).toEqual(refs.map((ref): OutcomeRecord => ({ imageId: ref.id, position: ref.position, outcome: 'deleted' })));
    expect(client.calls).toEqual([refs.map((ref) => ref.id)]);
    expect(stats).toEqual({ requests: 1, retries: 0, throttled: 0 });
  });

  it('sends nothing for an empty chunk', async () => {
    // Prepare
    const client = scriptedClient(allOk(0));
    const { deleteChunk, stats } = deleterWith(client);

    // Act
    const outcomes = await deleteChunk([]);

    // Assess
    expect(outcomes).toEqual([]);
    expect(client.calls).toHaveLength(0);
    expect(stats.requests).toBe(0);
  });

  it('retries a transient failure after sleeping the backoff, then succeeds', async () => {
    // Prepare
    const client = scriptedClient(batchFailed(transient503), allOk(2));
    const { deleteChunk, stats, clock } = deleterWith(client);

    // Act
    const outcomes = await deleteChunk(refsOf(2));

    // Assess
    expect(outcomes.map((o) => o.outcome)).toEqual(['deleted', 'deleted']);
    expect(client.calls).toHaveLength(2);
    expect(stats).toEqual({ requests: 2, retries: 1, throttled: 0 });
    expect(clock.sleeps).toEqual([backoffDelay(1, POLICY, () => 0.5)]);
    expect(clock.sleeps).toEqual([100]);
  });

  it('grows the backoff on each retry', async () => {
    // Prepare
    const client = scriptedClient(batchFailed(transient503), batchFailed(transient503), batchFailed(transient503), allOk(1));
    const { deleteChunk, stats, clock } = deleterWith(client);

    // Act
    const outcomes = await deleteChunk(refsOf(1));

    // Assess
    expect(outcomes[0]?.outcome).toBe('deleted');
    expect(clock.sleeps).toEqual([100, 200, 400]);
    expect(stats.retries).toBe(3);
  });

  it('waits at least Retry-After when throttled, and counts the throttle', async () => {
    // Prepare
    const throttled: ServiceFailure = { failureClass: 'throttled', status: 429, code: 'APIG.0308', message: 'slow down', retryAfterMs: 3_000 };
    const client = scriptedClient(batchFailed(throttled), allOk(1));
    const { deleteChunk, stats, clock } = deleterWith(client);

    // Act
    const outcomes = await deleteChunk(refsOf(1));

    // Assess
    expect(outcomes[0]?.outcome).toBe('deleted');
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(3_000);
    expect(stats).toEqual({ requests: 2, retries: 1, throttled: 1 });
  });

  it('fails a single ID refused permanently with the service code, without retrying', async () => {
    // Prepare
    const permanent: ServiceFailure = { failureClass: 'permanent', status: 400, code: 'ModelArts.0104', message: 'invalid parameter' };
    const client = scriptedClient(batchFailed(permanent));
    const { deleteChunk, stats, clock } = deleterWith(client);
    const [ref] = refsOf(1);

    // Act
    const outcomes = await deleteChunk([ref!]);

    // Assess
    expect(outcomes).toEqual([{ imageId: ref!.id, position: 1, outcome: 'failed', errorCode: 'ModelArts.0104', errorMessage: 'invalid parameter' }]);
    expect(client.calls).toHaveLength(1);
    expect(stats).toEqual({ requests: 1, retries: 0, throttled: 0 });
    expect(clock.sleeps).toEqual([]);
  });

  it('settles a lone ID the service calls not found as already_deleted', async () => {
    // Prepare
    const gone: ServiceFailure = { failureClass: 'already_gone', status: 400, code: 'ModelArts.4420', message: 'image not found' };
    const client = scriptedClient(batchFailed(gone));
    const { deleteChunk } = deleterWith(client);

    // Act
    const outcomes = await deleteChunk(refsOf(1));

    // Assess
    expect(outcomes).toEqual([{ imageId: hexId(1), position: 1, outcome: 'already_deleted' }]);
    expect(client.calls).toHaveLength(1);
  });

  it('gives up after maxAttempts and says so in the message', async () => {
    // Prepare
    const client = scriptedClient(batchFailed(transient503));
    const { deleteChunk, stats, clock } = deleterWith(client, { retry: { ...POLICY, maxAttempts: 3 } });

    // Act
    const outcomes = await deleteChunk(refsOf(2));

    // Assess
    expect(client.calls).toHaveLength(3);
    expect(clock.sleeps).toHaveLength(2);
    expect(stats).toEqual({ requests: 3, retries: 2, throttled: 0 });
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ outcome: 'failed', errorCode: 'HTTP_503' });
      expect(outcome.errorMessage).toContain('3 attempts');
    }
  });

  it('sends nothing once stopRetryingAt has passed, and says why', async () => {
    // Prepare
    const client = scriptedClient(batchFailed(transient503), allOk(2));
    const { deleteChunk, stats, clock } = deleterWith(client, { stopRetryingAt: START - 1 });

    // Act
    const outcomes = await deleteChunk(refsOf(2));

    // Assess
    expect(client.calls).toHaveLength(0);
    expect(clock.sleeps).toEqual([]);
    expect(stats.retries).toBe(0);
    expect(outcomes.map((o) => [o.outcome, o.errorCode])).toEqual([['failed', 'TIME_BUDGET_SPENT'], ['failed', 'TIME_BUDGET_SPENT']]);
    expect(outcomes[0]?.errorMessage).toContain('time budget');
  });

  it('does not start a backoff that would end past stopRetryingAt', async () => {
    // Prepare
    const throttled: ServiceFailure = { failureClass: 'throttled', status: 429, code: 'HTTP_429', message: 'slow down', retryAfterMs: 10_000 };
    const client = scriptedClient(batchFailed(throttled), allOk(1));
    const { deleteChunk, clock } = deleterWith(client, { stopRetryingAt: START + 5_000 });

    // Act
    const outcomes = await deleteChunk(refsOf(1));

    // Assess
    expect(client.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(outcomes[0]).toMatchObject({ outcome: 'failed', errorCode: 'HTTP_429' });
  });

  describe('bisection of an all-or-nothing batch', () => {
    const N = 100;
    const bound = (k: number) => 1 + 2 * k * Math.ceil(Math.log2(N));

    // Fixed placements (edges, neighbours, spread) plus a few seeded random ones for each k.
    function placements(k: number): number[][] {
      const fixed: Record<number, number[][]> = {
        1: [[0], [N - 1], [N / 2], [N / 2 - 1]],
        2: [[0, N - 1], [N / 2 - 1, N / 2], [10, 11], [0, 1]],
        5: [[0, 1, 2, 3, 4], [0, 25, 50, 75, N - 1], [95, 96, 97, 98, 99], [7, 19, 38, 64, 88]],
      };
      const random = seeded(k * 7919);
      const drawn = Array.from({ length: 6 }, () => {
        const picked = new Set<number>();
        while (picked.size < k) picked.add(Math.floor(random() * N));
        return [...picked];
      });
      return [...(fixed[k] ?? []), ...drawn];
    }

    for (const k of [1, 2, 5]) {
      for (const goneIndexes of placements(k)) {
        it(`isolates k=${k} gone IDs at [${goneIndexes.join(', ')}] of ${N} within ${bound(k)} requests`, async () => {
          // Prepare
          const refs = refsOf(N);
          const gone = new Set(goneIndexes.map((index) => refs[index]!.id));
          const client = v1LikeClient(gone);
          const { deleteChunk, stats } = deleterWith(client);

          // Act
          const outcomes = await deleteChunk(refs);

          // Assess
          expect(outcomes).toHaveLength(N);
          expect(outcomes.map((o) => o.position)).toEqual(refs.map((ref) => ref.position));
          for (const outcome of outcomes) {
            expect(outcome.outcome).toBe(gone.has(outcome.imageId) ? 'already_deleted' : 'deleted');
          }
          expect(client.calls.length).toBeLessThanOrEqual(bound(k));
          expect(stats.requests).toBe(client.calls.length);
          expect(stats.retries).toBe(0);
        });
      }
    }

    it('sends the halves one after the other and never resends a deleted ID', async () => {
      // Prepare
      const refs = refsOf(8);
      const client = v1LikeClient(new Set([refs[5]!.id]));
      const { deleteChunk } = deleterWith(client);

      // Act
      await deleteChunk(refs);

      // Assess
      const deletedIds = client.calls.filter((call) => !call.includes(refs[5]!.id)).flat();
      expect(new Set(deletedIds).size).toBe(deletedIds.length);
      expect(client.calls[0]).toHaveLength(8);
      expect(client.calls[1]).toEqual(refs.slice(0, 4).map((ref) => ref.id));
    });

    it('fails each ID of a batch refused permanently, one by one, with the code', async () => {
      // Prepare
      const permanent: ServiceFailure = { failureClass: 'permanent', status: 400, code: 'ModelArts.0104', message: 'invalid parameter' };
      const client = scriptedClient(batchFailed(permanent));
      const { deleteChunk } = deleterWith(client);

      // Act
      const outcomes = await deleteChunk(refsOf(4));

      // Assess
      expect(outcomes.map((o) => [o.outcome, o.errorCode])).toEqual(Array.from({ length: 4 }, () => ['failed', 'ModelArts.0104']));
      expect(client.calls.length).toBe(7);
    });

    it.each([
      { what: 'status 401', failure: { failureClass: 'permanent', status: 401, code: 'HTTP_401', message: 'unauthorized' } },
      { what: 'status 403', failure: { failureClass: 'permanent', status: 403, code: 'HTTP_403', message: 'forbidden' } },
      { what: 'status 404', failure: { failureClass: 'permanent', status: 404, code: 'HTTP_404', message: 'no such job' } },
      { what: 'code ModelArts.4352', failure: { failureClass: 'permanent', status: 400, code: 'ModelArts.4352', message: 'labelling job not found' } },
      { what: 'code MALFORMED_RESPONSE', failure: { failureClass: 'permanent', status: 200, code: 'MALFORMED_RESPONSE', message: 'unreadable response' } },
      { what: 'expired credentials', failure: { failureClass: 'credentials_expired', status: 401, code: 'APIG.0301', message: 'token expired' } },
    ] satisfies Array<{ what: string; failure: ServiceFailure }>)('does not bisect a whole-request failure ($what)', async ({ failure }) => {
      // Prepare
      const client = scriptedClient(batchFailed(failure), allOk(100));
      const { deleteChunk, clock } = deleterWith(client);

      // Act
      const outcomes = await deleteChunk(refsOf(100));

      // Assess
      expect(client.calls).toHaveLength(1);
      expect(clock.sleeps).toEqual([]);
      expect(outcomes).toHaveLength(100);
      for (const outcome of outcomes) expect(outcome).toMatchObject({ outcome: 'failed', errorCode: failure.code, errorMessage: failure.message });
    });
  });

  describe('the bisection budget (maxRefusals)', () => {
    const N = 100;
    const B = 32;
    const notFound: ServiceFailure = { failureClass: 'already_gone', status: 400, code: 'ModelArts.4420', message: 'image not found' };
    const invalidParameter: ServiceFailure = { failureClass: 'permanent', status: 400, code: 'ModelArts.0104', message: 'invalid parameter' };

    /** Runs one chunk of N IDs, those at `goneIndexes` gone, against the v1-like client, within the budget. */
    async function chunkWith(goneIndexes: Iterable<number>, maxRefusals = B) {
      const refs = refsOf(N);
      const gone = new Set([...goneIndexes].map((index) => refs[index]!.id));
      const client = v1LikeClient(gone);
      const { deleteChunk, stats } = deleterWith(client, { maxRefusals });
      const outcomes = await deleteChunk(refs);
      const refusals = client.calls.filter((call) => call.some((id) => gone.has(id))).length;
      const deleted = outcomes.filter((o) => o.outcome === 'deleted').length;
      return { refs, gone, client, stats, outcomes, refusals, deleted };
    }

    it('costs exactly the budget for a chunk whose IDs are all gone (a wrong target, a re-run), not 2n−1 requests', async () => {
      // Act
      const { client, outcomes, stats } = await chunkWith(Array.from({ length: N }, (_, i) => i));

      // Assess: 32 requests instead of 199, and no ID claimed gone that was not sent alone.
      expect(client.calls).toHaveLength(B);
      expect(stats.requests).toBe(B);
      expect(outcomes).toHaveLength(N);
      for (const outcome of outcomes) {
        if (outcome.outcome === 'already_deleted') expect(client.calls).toContainEqual([outcome.imageId]);
        else expect(outcome).toMatchObject({ outcome: 'failed', errorCode: NOT_FOUND_UNRESOLVED });
      }
      expect(outcomes.find((o) => o.outcome === 'failed')?.errorMessage).toMatch(/state unknown: .*ModelArts\.4420.*bisection budget \(32 /);
    });

    it('never claims an ID deleted or gone that was not, and stays within B + d refusals and B + 2·d requests (d: IDs deleted)', async () => {
      const random = seeded(2027);
      for (const density of [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1]) {
        for (let run = 0; run < 8; run += 1) {
          // Prepare
          const goneIndexes = Array.from({ length: N }, (_, i) => i).filter(() => random() < density);

          // Act
          const { gone, client, outcomes, refusals, deleted } = await chunkWith(goneIndexes);

          // Assess
          expect(outcomes.map((o) => o.position)).toEqual(refsOf(N).map((ref) => ref.position));
          for (const outcome of outcomes) {
            if (outcome.outcome === 'deleted') expect(gone.has(outcome.imageId)).toBe(false);
            else if (outcome.outcome === 'already_deleted') expect(gone.has(outcome.imageId)).toBe(true);
            else expect(outcome).toMatchObject({ outcome: 'failed', errorCode: NOT_FOUND_UNRESOLVED });
          }
          expect(refusals).toBeLessThanOrEqual(B + deleted);
          expect(client.calls.length).toBeLessThanOrEqual(B + 2 * deleted);
        }
      }
    });

    it('isolates every gone ID when they are few: up to 5 in 100 as without a budget', async () => {
      for (const goneIndexes of [[0], [99], [0, 99], [10, 11, 12], [0, 25, 50, 75, 99], [95, 96, 97, 98, 99], [3, 17, 42, 66, 81]]) {
        const { gone, outcomes } = await chunkWith(goneIndexes);
        for (const outcome of outcomes) expect(outcome.outcome).toBe(gone.has(outcome.imageId) ? 'already_deleted' : 'deleted');
      }
    });

    it('deletes a clean half whole before spending the budget on the other (breadth first)', async () => {
      // Prepare: the first 70 IDs gone (a re-run after a crash), the last 30 present.
      const { refs, client, outcomes } = await chunkWith(Array.from({ length: 70 }, (_, i) => i), 8);

      // Assess: 75–99 went as one batch and were deleted, although the budget ran out early.
      expect(client.calls).toContainEqual(refs.slice(75).map((ref) => ref.id));
      expect(outcomes.slice(75).every((o) => o.outcome === 'deleted')).toBe(true);
    });

    it('splits the right half of a not-found batch whose left half was deleted without sending it, and still sends a lone ID', async () => {
      // Prepare: 4 IDs, the last one gone.
      const refs = refsOf(4);
      const ids = refs.map((ref) => ref.id);
      const client = v1LikeClient(new Set([ids[3]!]));
      const { deleteChunk } = deleterWith(client, { maxRefusals: B });

      // Act
      const outcomes = await deleteChunk(refs);

      // Assess: the batch, its left half (deleted); the right half [3, 4] is not sent as such: its
      // halves are, the gone one alone.
      expect(client.calls).toEqual([ids, ids.slice(0, 2), [ids[2]], [ids[3]]]);
      expect(outcomes.map((o) => o.outcome)).toEqual(['deleted', 'deleted', 'deleted', 'already_deleted']);
    });

    it('infers nothing from another refusal: it may be about the batch, not an ID', async () => {
      // Prepare: refused as a whole, then the left half deleted.
      const refs = refsOf(2);
      const client = scriptedClient(batchFailed(invalidParameter), allOk(1), allOk(1));
      const { deleteChunk } = deleterWith(client, { maxRefusals: B });

      // Act
      const outcomes = await deleteChunk(refs);

      // Assess: the right half is sent too, and deleted.
      expect(client.calls).toEqual([[refs[0]!.id, refs[1]!.id], [refs[0]!.id], [refs[1]!.id]]);
      expect(outcomes.map((o) => o.outcome)).toEqual(['deleted', 'deleted']);
    });

    it('leaves the IDs of another refusal failed with its own code when the budget is spent, saying they were not isolated', async () => {
      // Prepare
      const client = scriptedClient(batchFailed(invalidParameter));
      const { deleteChunk } = deleterWith(client, { maxRefusals: 3 });

      // Act
      const outcomes = await deleteChunk(refsOf(8));

      // Assess: the batch and its two halves; the quarters were not sent.
      expect(client.calls).toHaveLength(3);
      for (const outcome of outcomes) expect(outcome).toMatchObject({ outcome: 'failed', errorCode: 'ModelArts.0104' });
      expect(outcomes[0]?.errorMessage).toMatch(/^invalid parameter \(not isolated: the chunk's bisection budget/);
    });

    it('always sends the chunk itself, even with a budget of one', async () => {
      // Prepare
      const client = scriptedClient(batchFailed(notFound));
      const { deleteChunk } = deleterWith(client, { maxRefusals: 1 });

      // Act
      const outcomes = await deleteChunk(refsOf(4));

      // Assess
      expect(client.calls).toHaveLength(1);
      expect(outcomes.map((o) => o.errorCode)).toEqual([NOT_FOUND_UNRESOLVED, NOT_FOUND_UNRESOLVED, NOT_FOUND_UNRESOLVED, NOT_FOUND_UNRESOLVED]);
    });

    it('refuses a budget below one', () => {
      expect(() => deleterWith(scriptedClient(allOk(1)), { maxRefusals: 0 })).toThrow(RangeError);
    });
  });

  it('maps per-item (v2) results to the IDs by position', async () => {
    // Prepare
    const result: DeleteBatchResult = {
      kind: 'per_item',
      items: [
        { ok: true },
        { ok: false, failure: { failureClass: 'permanent', status: 200, code: 'ModelArts.4399', message: 'sample locked' } },
        { ok: false, failure: { failureClass: 'already_gone', status: 200, code: 'ModelArts.4420', message: 'not found' } },
        { ok: true },
      ],
    };
    const client = scriptedClient(result);
    const { deleteChunk, stats } = deleterWith(client, { target: V2_TARGET });
    const refs = refsOf(4);

    // Act
    const outcomes = await deleteChunk(refs);

    // Assess
    expect(outcomes).toEqual<OutcomeRecord[]>([
      { imageId: refs[0]!.id, position: 1, outcome: 'deleted' },
      { imageId: refs[1]!.id, position: 2, outcome: 'failed', errorCode: 'ModelArts.4399', errorMessage: 'sample locked' },
      { imageId: refs[2]!.id, position: 3, outcome: 'already_deleted' },
      { imageId: refs[3]!.id, position: 4, outcome: 'deleted' },
    ]);
    expect(stats.requests).toBe(1);
  });

  it('calls no ID of a batch refused "not found" as a whole (not split) gone: each is unresolved; a lone ID is already_deleted', async () => {
    // Prepare: an HTTP 404 answer about the whole request names no ID.
    const wholeNotFound: ServiceFailure = { failureClass: 'already_gone', status: 404, code: 'ModelArts.4420', message: 'not found', wholeRequest: true };
    const { deleteChunk } = deleterWith(scriptedClient(batchFailed(wholeNotFound), batchFailed(wholeNotFound)));

    // Act
    const batch = await deleteChunk(refsOf(3));
    const lone = await deleteChunk(refsOf(1));

    // Assess
    expect(batch.map((o) => [o.outcome, o.errorCode])).toEqual(Array.from({ length: 3 }, () => ['failed', 'NOT_FOUND_UNRESOLVED']));
    expect(batch[0]?.errorMessage).toMatch(/state unknown: its batch of 3 was refused as not found as a whole/);
    expect(lone.map((o) => o.outcome)).toEqual(['already_deleted']);
  });

  it('passes the target to the client', async () => {
    // Prepare
    const targets: CleanupTarget[] = [];
    const client: ModelArtsClient = {
      deleteBatch(target, imageIds) {
        targets.push(target);
        return Promise.resolve(allOk(imageIds.length));
      },
    };
    const { deleteChunk } = deleterWith(client, { target: V2_TARGET });

    // Act
    await deleteChunk(refsOf(2));

    // Assess
    expect(targets).toEqual([V2_TARGET]);
  });
});
