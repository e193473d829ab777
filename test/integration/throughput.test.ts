import { Logger } from '@aws-lambda-powertools/logger';
import { setTimeout as delay } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../lib/core/clock.js';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import { AdaptiveLimiter } from '../../lib/modelarts/adaptiveLimiter.js';
import { withAdaptiveLimit } from '../../lib/modelarts/limitedModelArtsClient.js';
import { createModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { imageIds, readS3Text, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { startLocalStack } from '../../local/stack/startLocalStack.js';

// Integration: the adaptive limiter, the emulator's gateway rate limit and connection reuse, on
// the real local servers (fauxqs S3, the ModelArts emulator) with the production client (fetch).
const PROJECT = '0123456789abcdef0123456789abcdef';
const JOB = 'throughput';
const target = { projectId: PROJECT, dataAnnotationId: JOB };

const stack = useLocalStack();

beforeEach(() => {
  stack.emulator.requests.length = 0;
  Object.assign(stack.emulator.settings, { latencyMs: 0, latencyJitterMs: 0, rateLimitPerSecond: 0, rateLimitBurstSeconds: 1, rateLimitStated: true, randomFaults: undefined });
});

async function completed(event: unknown, deps: CleanupDeps) {
  const result = await runManualInvocation(event, deps);
  if (result.status !== 'completed') throw new Error(`expected a completed job, got ${JSON.stringify(result.status === 'rejected' ? result.error : result.status)}`);
  return result;
}

/**
 * A Powertools logger that keeps the lines it prints, children included (runCleanupJob logs through
 * a child). Powertools offers no sink to inject, so its console is swapped — no server can show logs.
 */
class CapturingLogger extends Logger {
  public constructor(options: ConstructorParameters<typeof Logger>[0], public readonly lines: Array<Record<string, unknown>> = []) {
    super(options);
    const print = (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>);
    Object.assign(this as unknown as { console: unknown }, { console: { log: print, info: print, warn: print, error: print, debug: print, trace: print } });
  }

  protected override createLogger(options?: ConstructorParameters<typeof Logger>[0]): Logger {
    return new CapturingLogger(options, this.lines);
  }
}

/** A real clock running `factor` times faster: now() advances faster and sleeps are shorter, so a 5 s logging interval passes in a fraction of it. */
function fastClock(factor: number): Clock {
  const origin = Date.now();
  return {
    now: () => origin + (Date.now() - origin) * factor,
    sleep: async (ms) => {
      await delay(ms / factor);
    },
    random: () => Math.random(),
  };
}

describe('throughput on the local stack', () => {
  it('finds an unannounced gateway rate limit: backs off on its 429s, and every image still ends deleted', async () => {
    // Prepare: 100 requests/s with a tenth of a second of burst, not stated in the 429's message; the job may send 16 at once.
    const ids = imageIds('rate-limited', 3_000);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    Object.assign(stack.emulator.settings, { latencyMs: 20, latencyJitterMs: 5, rateLimitPerSecond: 100, rateLimitBurstSeconds: 0.1, rateLimitStated: false });

    // Act
    const result = await completed({ target, imageIds: ids, options: { chunkSize: 20, maxInFlight: 16 } }, stackDeps(stack, { RETRY_BASE_MS: '50', RETRY_MAX_MS: '500', MAX_ATTEMPTS: '10', MAX_IN_FLIGHT: '16' }));

    // Assess
    const throttledAnswers = stack.emulator.requests.filter((request) => request.status === 429);
    expect(result.summary.counts).toMatchObject({ received: 3_000, deleted: 3_000, failed: 0 });
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(0);
    expect(throttledAnswers.length).toBeGreaterThan(0);
    expect(throttledAnswers.every((request) => request.errorCode === 'APIG.0308')).toBe(true);
    const limiter = result.summary.limiter;
    expect(limiter).toMatchObject({ initial: 2, min: 1, max: 16, throttled: result.summary.throttled });
    expect(limiter?.decreases).toBeGreaterThanOrEqual(1);
    expect(limiter?.finalRate).not.toBeNull();
    expect(stack.emulator.maxInFlightSeen).toBeLessThanOrEqual(16);
    // Most requests got through: the limiter follows the limit instead of hammering it.
    expect(throttledAnswers.length).toBeLessThan(stack.emulator.requests.length / 4);
    // The report carries the limiter's summary.
    const summary = JSON.parse(await readS3Text(stack.s3, result.report.summary)) as typeof result.summary;
    expect(summary.limiter).toEqual(limiter);
  });

  it('a warm container\'s next job against the same limit starts at the pace the last one found: no slow start into the limit again', async () => {
    // Prepare: the unstated limit above; one set of deps, as one warm Lambda container runs one job after another.
    Object.assign(stack.emulator.settings, { latencyMs: 20, latencyJitterMs: 5, rateLimitPerSecond: 100, rateLimitBurstSeconds: 0.1, rateLimitStated: false });
    const env = { RETRY_BASE_MS: '50', RETRY_MAX_MS: '500', MAX_ATTEMPTS: '10', MAX_IN_FLIGHT: '16' };
    const warm = stackDeps(stack, env);
    const run = async (label: string, deps: CleanupDeps) => {
      const ids = imageIds(label, 1_500);
      stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
      const before = stack.emulator.requests.length;
      const result = await completed({ target, imageIds: ids, options: { chunkSize: 20, maxInFlight: 16 } }, deps);
      const requests = stack.emulator.requests.slice(before);
      return { limiter: result.summary.limiter, deleted: result.summary.counts.deleted, throttled: requests.filter((request) => request.status === 429).length };
    };

    // Act: two jobs in the warm container, then one in a cold one (fresh deps).
    const first = await run('pace-first', warm);
    const second = await run('pace-second', warm);
    const cold = await run('pace-cold', stackDeps(stack, env));

    // Assess: the second starts where the first ended and is throttled far less; the cold one slow-starts into the limit as the first did.
    expect([first.deleted, second.deleted, cold.deleted]).toEqual([1_500, 1_500, 1_500]);
    expect(first.throttled).toBeGreaterThan(0);
    expect(second.limiter?.initial).toBe(first.limiter?.final);
    expect(cold.limiter?.initial).toBe(2);
    expect(second.throttled * 2).toBeLessThan(first.throttled);
    expect(second.throttled * 2).toBeLessThan(cold.throttled);
  });

  it('follows a limit the gateway states (APIG.0308 "limit:100, time:1 second"): the limiter takes it as its rate ceiling', async () => {
    // Prepare: the production client behind a limiter, as a job builds them; 100 requests/s, the
    // limit stated in the 429s as Huawei's gateway does; 40 requests at once, far over the burst.
    const ids = imageIds('rate-stated', 400);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    Object.assign(stack.emulator.settings, { rateLimitPerSecond: 100, rateLimitBurstSeconds: 0.1 });
    const limiter = new AdaptiveLimiter({ min: 1, max: 40, initial: 40 }, systemClock);
    const client = withAdaptiveLimit(createModelArtsClient({ endpoint: stack.env.MODELARTS_ENDPOINT!, requestTimeoutMs: 5_000 }), limiter, { clock: systemClock });
    const v1 = { api: 'v1' as const, ...target };

    // Act
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => client.deleteBatch(v1, ids.slice(i * 10, i * 10 + 10))));

    // Assess
    const throttled = results.filter((result) => result.kind === 'batch_failed' && result.failure.code === 'APIG.0308');
    expect(throttled.length).toBeGreaterThan(0);
    expect(limiter.snapshot()).toMatchObject({ rateCeiling: 100, decreases: 1 });
    expect(limiter.snapshot().rate).toBeLessThanOrEqual(100);
  });

  it('an unstated limit sets no ceiling', async () => {
    // Prepare: as above, the 429s without the limit.
    const ids = imageIds('rate-unstated', 400);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    Object.assign(stack.emulator.settings, { rateLimitPerSecond: 100, rateLimitBurstSeconds: 0.1, rateLimitStated: false });
    const limiter = new AdaptiveLimiter({ min: 1, max: 40, initial: 40 }, systemClock);
    const client = withAdaptiveLimit(createModelArtsClient({ endpoint: stack.env.MODELARTS_ENDPOINT!, requestTimeoutMs: 5_000 }), limiter, { clock: systemClock });
    const v1 = { api: 'v1' as const, ...target };

    // Act
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => client.deleteBatch(v1, ids.slice(i * 10, i * 10 + 10))));

    // Assess
    expect(results.some((result) => result.kind === 'batch_failed' && result.failure.code === 'APIG.0308')).toBe(true);
    expect(limiter.snapshot()).toMatchObject({ rateCeiling: null, decreases: 1 });
  });

  it('reuses kept-alive connections: many chunks over two warm invocations open no more connections than requests in flight', async () => {
    // Prepare: a stack of its own, so the connection count starts at zero; one set of production deps, as one warm container.
    const own = await startLocalStack();
    try {
      const first = imageIds('keep-alive-1', 1_500);
      const second = imageIds('keep-alive-2', 1_500);
      own.emulator.seedLabellingJob(PROJECT, JOB, [...first, ...second]);
      Object.assign(own.emulator.settings, { latencyMs: 5, latencyJitterMs: 3 });
      const deps = stackDeps(own);

      // Act
      const one = await completed({ target, imageIds: first, options: { chunkSize: 10, maxInFlight: 4 } }, deps);
      const connectionsAfterFirst = own.emulator.connections;
      const two = await completed({ target, imageIds: second, options: { chunkSize: 10, maxInFlight: 4 } }, deps);

      // Assess
      expect(one.summary.counts.deleted + two.summary.counts.deleted).toBe(3_000);
      expect(own.emulator.requests.length).toBeGreaterThanOrEqual(300);
      expect(own.emulator.maxInFlightSeen).toBeGreaterThan(1);
      console.log('CONN', connectionsAfterFirst, own.emulator.connections, own.emulator.requests.length);
      expect(connectionsAfterFirst).toBeLessThanOrEqual(4);
      expect(own.emulator.connections).toBeLessThanOrEqual(4);
    } finally {
      await own.stop();
    }
  });

  it("logs the limiter's state (limit, in flight, rate, throttled) at a steady pace while the job runs", async () => {
    // Prepare: a clock 25 times faster, so the 5 s progress interval passes every 200 ms of real time.
    // The limit is not stated in the 429s: on this clock a stated 100/s would pace at 4 real requests a second.
    const ids = imageIds('progress', 2_000);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    Object.assign(stack.emulator.settings, { latencyMs: 10, latencyJitterMs: 2, rateLimitPerSecond: 100, rateLimitBurstSeconds: 0.1, rateLimitStated: false });
    const logger = new CapturingLogger({ serviceName: 'image-cleanup-test', logLevel: 'INFO' });
    const clock = fastClock(25);
    const deps = stackDeps(stack, { RETRY_BASE_MS: '50', RETRY_MAX_MS: '500', MAX_ATTEMPTS: '10', MAX_IN_FLIGHT: '16' }, { logger, clock });

    // Act
    const startedAt = clock.now();
    const result = await completed({ target, imageIds: ids, options: { chunkSize: 10, maxInFlight: 8 } }, deps);
    const elapsed = clock.now() - startedAt;

    // Assess
    const progress = logger.lines.filter((line) => line.message === 'job progress');
    expect(result.summary.counts.deleted).toBe(2_000);
    expect(elapsed).toBeGreaterThan(15_000);
    // At most one line per 5 s of the job's clock (give or take the first and the last), and lines
    // throughout: at least half as many. (A pause of the machine stretches the job's fast clock past
    // an interval with no answer to log on; the 2-core CI machine runs other test files meanwhile.)
    expect(progress.length).toBeGreaterThanOrEqual(Math.floor(elapsed / 10_000));
    expect(progress.length).toBeLessThanOrEqual(Math.floor(elapsed / 5_000) + 1);
    for (const line of progress) {
      expect(line.limiter).toEqual({
        limit: expect.any(Number) as unknown,
        inFlight: expect.any(Number) as unknown,
        waiting: expect.any(Number) as unknown,
        rate: expect.toSatisfy((rate: unknown) => rate === null || typeof rate === 'number') as unknown,
        rateCeiling: null,
        throttled: expect.any(Number) as unknown,
        decreases: expect.any(Number) as unknown,
        // An unsplit job shares the limit with no other part.
        sharers: 1,
      });
    }
    const last = progress.at(-1)?.limiter as { throttled: number; limit: number };
    expect(last.throttled).toBeGreaterThan(0);
    expect(last.limit).toBeLessThanOrEqual(8);
  });
});
