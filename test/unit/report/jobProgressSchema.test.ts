import { describe, expect, it } from 'vitest';
import { jobProgressSchema } from '../../../lib/report/jobProgressSchema.js';

const counts = { deleted: 5, already_deleted: 0, failed: 0, invalid: 0, duplicate: 0, skipped: 0, would_delete: 0 };
const unsplit = {
  formatVersion: 1, jobId: 'j', state: 'running', entries: 10, settled: 5, counts, parts: { total: 0, done: 0, running: 0, waiting: 0 },
  idsPerSecond: 2.5, etaSeconds: 2, startedAt: '2030-01-01T00:00:00.000Z', updatedAt: '2030-01-01T00:00:02.000Z', summary: 's3://b/reports/j/summary.json',
};

describe('jobProgressSchema', () => {
  it('takes a split job\'s progress (no limiter) and an unsplit one\'s (parts all 0, its limiter)', () => {
    expect(jobProgressSchema.safeParse({ ...unsplit, parts: { total: 3, done: 1, running: 2, waiting: 0 } }).success).toBe(true);
    expect(jobProgressSchema.safeParse({ ...unsplit, limiter: { limit: 8, inFlight: 3, waiting: 1, rate: null, rateCeiling: 12.5, throttled: 2, decreases: 1 } }).success).toBe(true);
  });

  it('refuses a limiter without its figures, and a negative rate', () => {
    expect(jobProgressSchema.safeParse({ ...unsplit, limiter: { limit: 8 } }).success).toBe(false);
    expect(jobProgressSchema.safeParse({ ...unsplit, idsPerSecond: -1 }).success).toBe(false);
  });
});
