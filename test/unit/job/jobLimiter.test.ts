import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/config.js';
import { createJobLimiter } from '../../../lib/job/jobLimiter.js';
import type { CleanupTarget } from '../../../lib/modelarts/CleanupTarget.js';
import { PaceMemory } from '../../../lib/modelarts/PaceMemory.js';
import { virtualClock, type AdvancingClock } from '../../support/virtualClock.js';

const config = loadConfig({ REPORT_BUCKET: 'reports', MODELARTS_ENDPOINT: 'https://modelarts.example.com', LIMITER_INITIAL: '2' });
const target: CleanupTarget = { api: 'v2', projectId: 'p1', datasetId: 'd1', deleteSource: false };

/** Runs `rounds` rounds of requests through the limiter, as many at once as it allows, each answered 100 ms later. */
async function answer(job: ReturnType<typeof createJobLimiter>, clock: AdvancingClock, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i += 1) {
    const permits = await Promise.all(Array.from({ length: job.limiter.limit }, () => job.limiter.acquire()));
    clock.advance(100);
    for (const permit of permits) {
      permit.release({ kind: 'answered', latencyMs: 100 });
      job.onAnswer();
    }
  }
}

describe('createJobLimiter', () => {
  it('starts the next job against the same project at the pace the last one reached, not at LIMITER_INITIAL', async () => {
    // Prepare
    const clock = virtualClock({ start: 1_000_000, sleeps: 'advance' });
    const pace = new PaceMemory();
    const first = createJobLimiter({ config, clock, pace }, target, 64);
    await answer(first, clock, 20);
    const reached = first.limiter.limit;

    // Act
    first.remember();
    const next = createJobLimiter({ config, clock, pace }, target, 64);
    const otherProject = createJobLimiter({ config, clock, pace }, { ...target, projectId: 'p2' }, 64);

    // Assess: 20 rounds of clean answers grew it past the initial 2; the next job starts there, another project's does not.
    expect(reached).toBeGreaterThan(2);
    expect(next.limiter.limit).toBe(reached);
    expect(otherProject.limiter.limit).toBe(2);
  });

  it('keeps nothing for a limiter that granted nothing, and starts fresh without a memory', () => {
    // Prepare
    const clock = virtualClock({ start: 1_000_000, sleeps: 'advance' });
    const pace = new PaceMemory();

    // Act
    createJobLimiter({ config, clock, pace }, target, 64).remember();

    // Assess
    expect(pace.recall(PaceMemory.keyOf(config.MODELARTS_ENDPOINT, 'p1'), clock.now())).toBeUndefined();
    expect(createJobLimiter({ config, clock }, target, 64).limiter.limit).toBe(2);
  });

  it('tells the limiter how many share the limit: at the start, and after every answer', async () => {
    // Prepare
    const clock = virtualClock({ start: 1_000_000, sleeps: 'advance' });
    let running = 3;
    const job = createJobLimiter({ config, clock }, target, 64, () => running);
    const atStart = job.limiter.snapshot().sharers;

    // Act
    running = 5;
    await answer(job, clock, 1);

    // Assess
    expect(atStart).toBe(3);
    expect(job.limiter.snapshot().sharers).toBe(5);
  });
});
