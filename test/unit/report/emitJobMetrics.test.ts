import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emitJobMetrics } from '../../../lib/report/emitJobMetrics.js';
import type { JobSummary } from '../../../lib/report/jobSummary.js';

const summary = {
  trigger: { type: 'queue', source: 'm-1' },
  counts: { received: 20, deleted: 12, already_deleted: 3, failed: 2, invalid: 2, duplicate: 1 },
  requests: 9,
  throttled: 4,
} as unknown as JobSummary;

let disabled: string | undefined;
beforeEach(() => {
  // vitest.config.ts disables metrics output for every other test.
  disabled = process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_METRICS_DISABLED;
});
afterEach(() => {
  if (disabled !== undefined) process.env.POWERTOOLS_METRICS_DISABLED = disabled;
});

/** An EMF line, as far as these tests read it: the metadata under `_aws`, the values and dimensions at the top level. */
interface EmfLine {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

// A Metrics instance whose EMF lines are kept.
function capturingMetrics(): { metrics: Metrics; lines: EmfLine[] } {
  const lines: EmfLine[] = [];
  const metrics = new Metrics({ namespace: 'ImageCleanup', serviceName: 'image-cleanup' });
  Object.assign(metrics as unknown as { console: unknown }, { console: { log: (line: string) => lines.push(JSON.parse(line) as EmfLine), warn: () => undefined } });
  return { metrics, lines };
}

describe('emitJobMetrics', () => {
  it('emits the counts, throttles and each chunk latency as EMF, dimensioned by trigger', () => {
    // Prepare
    const { metrics, lines } = capturingMetrics();
    const latencies = Array.from({ length: 250 }, (_, i) => i);

    // Act
    emitJobMetrics(metrics, summary, latencies);

    // Assess
    const [counts, ...latencyLines] = lines;
    expect(counts).toMatchObject({ ImagesDeleted: 12, ImagesFailed: 2, ImagesAlreadyDeleted: 3, ImagesInvalid: 2, ThrottledRequests: 4, Requests: 9, trigger: 'queue', service: 'image-cleanup' });
    expect(counts!._aws.CloudWatchMetrics[0]!.Namespace).toBe('ImageCleanup');
    expect(counts!._aws.CloudWatchMetrics[0]!.Dimensions[0]).toEqual(expect.arrayContaining(['service', 'trigger']));
    expect(latencyLines).toHaveLength(3);
    expect(latencyLines.flatMap((line) => line.ChunkLatency)).toEqual(latencies);
    expect(latencyLines.every((line) => line.trigger === 'queue' && line._aws.CloudWatchMetrics[0]!.Metrics[0]!.Unit === 'Milliseconds')).toBe(true);
  });
});
