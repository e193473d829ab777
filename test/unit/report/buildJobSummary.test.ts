import { describe, expect, it } from 'vitest';
import type { OutcomeCounts } from '../../../lib/pipeline/outcome.js';
import { buildJobSummary, type SummaryFacts } from '../../../lib/report/buildJobSummary.js';
import { jobSummarySchema, type JobStop } from '../../../lib/report/jobSummary.js';
import { LatencyHistogram } from '../../../lib/report/LatencyHistogram.js';
import { reportLocation } from '../../../lib/report/ReportLocation.js';

const zero: OutcomeCounts = { deleted: 0, already_deleted: 0, failed: 0, invalid: 0, duplicate: 0, skipped: 0, would_delete: 0 };

function facts(over: Partial<SummaryFacts> = {}): SummaryFacts {
  const latency = new LatencyHistogram();
  for (const ms of [10, 20, 30, 400]) latency.record(ms);
  return {
    jobId: 'job-1',
    jobIdSource: 'idempotency_key',
    trigger: { type: 'manual' },
    target: { api: 'v1', projectId: 'p1', dataAnnotationId: 'd1' },
    options: { chunkSize: 100, maxInFlight: 4, maxAttempts: 5, dryRun: false, failureThreshold: { minAttempted: 1000, maxFailureRate: 0.5 } },
    received: 10,
    counts: { ...zero, deleted: 8, already_deleted: 2 },
    normalized: 1,
    startedAt: Date.UTC(2026, 11, 2, 10, 0, 0),
    finishedAt: Date.UTC(2026, 11, 2, 10, 0, 5),
    invocations: 1,
    stats: { requests: 3, retries: 1, throttled: 1 },
    latency: latency.toJSON(),
    location: reportLocation('reports', 'r/', 'job-1'),
    ...over,
  };
}

describe('buildJobSummary', () => {
  it.each<[string, Partial<SummaryFacts>, string]>([
    ['every ID deleted or already gone', {}, 'completed'],
    ['some failed', { counts: { ...zero, deleted: 9, failed: 1 } }, 'completed_with_failures'],
    ['some invalid', { counts: { ...zero, deleted: 9, invalid: 1 } }, 'completed_with_failures'],
    ['a dry run', { options: { ...facts().options, dryRun: true }, counts: { ...zero, would_delete: 10 } }, 'dry_run'],
    ['paused at the deadline', { stop: { kind: 'deadline', reason: 'time ran out', resumeAfter: 4 } }, 'continuing'],
    ['split into parts', { stop: { kind: 'split', reason: 'split', parts: 3 } }, 'continuing'],
    ['stopped by the threshold', { stop: { kind: 'failure_threshold', reason: 'stopped', crossing: '6 of 10 failed', attempted: 10, failed: 6 } }, 'stopped_failure_threshold'],
  ])('derives the status: %s', (_what, over, status) => {
    expect(buildJobSummary(facts(over)).status).toBe(status);
  });

  it('derives settled, duration, percentiles and the report URIs from the facts, and passes the schema', () => {
    // Act
    const summary = buildJobSummary(facts({ counts: { ...zero, deleted: 5, duplicate: 2 } }));

    // Assess
    expect(summary.settled).toBe(7);
    expect(summary.counts).toEqual({ received: 10, ...zero, deleted: 5, duplicate: 2 });
    expect(summary.durationMs).toBe(5_000);
    expect(summary.startedAt).toBe('2026-12-02T10:00:00.000Z');
    expect(summary.chunkLatencyMs).toEqual(new LatencyHistogram(facts().latency).percentiles());
    expect(summary.chunkLatencyHistogram).toEqual(facts().latency);
    expect(summary.report).toEqual({ summary: 's3://reports/r/job-1/summary.json', failed: 's3://reports/r/job-1/failed.csv', results: 's3://reports/r/job-1/results.jsonl.gz' });
    expect(summary.stop).toBeUndefined();
    expect(summary.stopReason).toBeUndefined();
    expect(jobSummarySchema.safeParse(summary).success).toBe(true);
  });

  it('states the stop twice: structured in stop, as a sentence in stopReason', () => {
    const stop: JobStop = { kind: 'failure_threshold', reason: 'stopped at the failure threshold: part 2 of this job crossed it (x)', crossing: 'part 2 of this job crossed it (x)', part: 2 };
    const summary = buildJobSummary(facts({ stop }));
    expect(summary.stop).toEqual(stop);
    expect(summary.stopReason).toBe(stop.reason);
  });

  it('refuses facts that make a summary the schema refuses', () => {
    expect(() => buildJobSummary(facts({ invocations: 0 }))).toThrow();
  });
});
