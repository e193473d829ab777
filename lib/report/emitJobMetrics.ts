import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { JobSummary } from './jobSummary.js';

/**
 * Emits a finished job's figures as CloudWatch EMF (one log line per flush): images deleted,
 * failed, already gone and invalid, throttled requests, requests, and each chunk's latency.
 * Dimensioned by trigger type, so the three triggers can be told apart on one dashboard.
 * Publishes at once: a job is the unit, and a Lambda may run several per invocation.
 *
 * @param chunkLatenciesMs - Wall time of each chunk, retries and bisection included.
 */
export function emitJobMetrics(metrics: Metrics, summary: JobSummary, chunkLatenciesMs: readonly number[]): void {
  metrics.addDimension('trigger', summary.trigger.type);
  metrics.addMetric('ImagesDeleted', MetricUnit.Count, summary.counts.deleted);
  metrics.addMetric('ImagesFailed', MetricUnit.Count, summary.counts.failed);
  metrics.addMetric('ImagesAlreadyDeleted', MetricUnit.Count, summary.counts.already_deleted);
  metrics.addMetric('ImagesInvalid', MetricUnit.Count, summary.counts.invalid);
  metrics.addMetric('ThrottledRequests', MetricUnit.Count, summary.throttled);
  metrics.addMetric('Requests', MetricUnit.Count, summary.requests);
  metrics.publishStoredMetrics();
  // One EMF line holds at most 100 values of a metric, and a flush clears the dimensions: publish
  // the latencies in groups of 100, each with its dimension.
  for (let start = 0; start < chunkLatenciesMs.length; start += EMF_MAX_VALUES) {
    metrics.addDimension('trigger', summary.trigger.type);
    for (const latency of chunkLatenciesMs.slice(start, start + EMF_MAX_VALUES)) metrics.addMetric('ChunkLatency', MetricUnit.Milliseconds, latency);
    metrics.publishStoredMetrics();
  }
}

const EMF_MAX_VALUES = 100;
