import { describe, expect, it } from 'vitest';
import type { JobProgress } from '../../../lib/report/jobProgressSchema.js';
import { formatJobProgress } from '../../../local/cli/formatJobProgress.js';

// What `image-cleanup status` prints from progress.json, for a job split or not: text, no timing.
const counts = { deleted: 2_500, already_deleted: 10, failed: 0, invalid: 0, duplicate: 0, skipped: 0, would_delete: 0 };
const base: JobProgress = {
  formatVersion: 1, jobId: 'j', state: 'running', entries: 10_000, settled: 2_510, counts, parts: { total: 0, done: 0, running: 0, waiting: 0 },
  idsPerSecond: 251, etaSeconds: 30, startedAt: '2030-01-01T00:00:00.000Z', updatedAt: '2030-01-01T00:00:10.000Z', summary: 's3://b/reports/j/summary.json',
};

describe('formatJobProgress', () => {
  it('draws an unsplit running job: the bar, the rate and time left, its limiter, no parts line', () => {
    const text = formatJobProgress({ ...base, limiter: { limit: 8, inFlight: 6, waiting: 2, rate: 40.5, rateCeiling: null, throttled: 3, decreases: 1 } });
    expect(text.split('\n')).toEqual([
      'job j: running',
      `[${'#'.repeat(10)}${'.'.repeat(30)}] 25.1%  2,510 / 10,000 entries`,
      'rate: 251 IDs/s, time left: 30 s',
      'outcomes: deleted 2,500, already_deleted 10',
      'updated: 2030-01-01T00:00:10.000Z',
      'limiter: 6 in flight of 8 allowed, 2 waiting, pacing at 40.5 requests/s, 3 throttled answers, 1 decreases',
    ]);
  });

  it('draws a job still being planned as planning: an empty bar, not a full one for its 0 entries', () => {
    const text = formatJobProgress({ ...base, state: 'planning', entries: 0, settled: 0, etaSeconds: null });
    expect(text.split('\n').slice(0, 2)).toEqual(['job j: planning', `[${'.'.repeat(40)}] 0.0%  0 / 0 entries`]);
  });

  it('draws a split running job with its parts line, and no limiter line (each part has its own)', () => {
    const text = formatJobProgress({ ...base, etaSeconds: 3_725, parts: { total: 4, done: 1, running: 2, waiting: 1 } });
    expect(text).toContain('parts: 1 of 4 done, 2 running, 1 waiting');
    expect(text).toContain('rate: 251 IDs/s, time left: 1 h 02 min');
    expect(text).not.toContain('limiter');
  });

  it('draws an unsplit job that ended: its status and report, no time left, no limiter snapshot (the summary has its limiter)', () => {
    const text = formatJobProgress({ ...base, state: 'done', status: 'stopped_failure_threshold', stopReason: 'too many failures', settled: 10_000, etaSeconds: 0, limiter: { limit: 1, inFlight: 0, waiting: 0, rate: null, rateCeiling: null, throttled: 0, decreases: 0 } });
    expect(text).toContain('job j: done (stopped_failure_threshold)');
    expect(text).toContain('rate: 251 IDs/s\n');
    expect(text).toContain('stopped: too many failures');
    expect(text).toContain('report: s3://b/reports/j/summary.json');
    expect(text).not.toContain('limiter');
  });
});
