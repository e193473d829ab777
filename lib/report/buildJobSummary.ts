import type { LimiterSummary } from '../modelarts/adaptiveLimiter.js';
import type { CleanupTarget } from '../modelarts/CleanupTarget.js';
import type { JobStats } from '../pipeline/jobStats.js';
import { DELETE_OUTCOMES, type OutcomeCounts } from '../pipeline/outcome.js';
import { jobSummarySchema, SUMMARY_FORMAT_VERSION, type JobStop, type JobSummary, type TriggerInfo } from './jobSummary.js';
import { LatencyHistogram, type LatencyHistogramState } from './LatencyHistogram.js';
import { s3Uri } from '../aws/s3Uri.js';
import type { ReportLocation } from './ReportLocation.js';

/** Everything `summary.json` says, as the job knows it; {@link buildJobSummary} derives the rest. */
export interface SummaryFacts {
  jobId: string;
  jobIdSource: JobSummary['jobIdSource'];
  trigger: TriggerInfo;
  target: CleanupTarget;
  options: JobSummary['options'];
  /** Entries the job holds (the preparing pass counted them). */
  received: number;
  /** Outcomes settled so far. */
  counts: Readonly<OutcomeCounts>;
  normalized: number;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms. */
  finishedAt: number;
  invocations: number;
  stats: Readonly<JobStats>;
  latency: LatencyHistogramState;
  /** The report folder the summary points at. */
  location: ReportLocation;
  /** Why the job stopped early or paused; none when it ran to its end. */
  stop?: JobStop;
  /** The adaptive limiter of the last invocation; none for a split job (each worker had its own). */
  limiter?: LimiterSummary;
  continuation?: JobSummary['continuation'];
  scaleOut?: JobSummary['scaleOut'];
}

// The status each stop gives a job (a paused job is continuing).
const STATUS_OF_STOP: Readonly<Record<JobStop['kind'], JobSummary['status']>> = {
  deadline: 'continuing',
  split: 'continuing',
  failure_threshold: 'stopped_failure_threshold',
  not_found_threshold: 'stopped_not_found',
  service_refused: 'stopped_service_refused',
  manifest_changed: 'stopped_manifest_changed',
  abandoned: 'stopped_abandoned',
  cancelled: 'cancelled',
};

/**
 * The one builder of `summary.json`, for single runs, paused runs, split jobs and their assembly:
 * the status, the settled count, the percentiles and the report's URIs are derived here from the
 * facts, never patched in afterwards, and the result is checked against the published schema.
 *
 * Status: `continuing` when paused (deadline, or split into parts), `stopped_failure_threshold`
 * when the threshold stopped it, `stopped_not_found` when the not-found threshold did, `stopped_service_refused` when the service refused
 * the job as a whole, `stopped_manifest_changed` when its manifest was replaced,
 * `stopped_abandoned` when it was given up (dead-lettered, quarantined), `cancelled` when an operator cancelled it, else `dry_run`, `completed_with_failures` (some failed or were
 * invalid) or `completed`.
 *
 * @throws {z.ZodError} when the facts make a summary the schema refuses (a bug, never input).
 */
export function buildJobSummary(facts: SummaryFacts): JobSummary {
  const { counts, location, stop } = facts;
  const dryRun = facts.options.dryRun;
  const status: JobSummary['status'] =
    stop !== undefined ? STATUS_OF_STOP[stop.kind] : dryRun ? 'dry_run' : counts.failed + counts.invalid > 0 ? 'completed_with_failures' : 'completed';
  const latency = new LatencyHistogram(facts.latency);
  const summary: JobSummary = {
    formatVersion: SUMMARY_FORMAT_VERSION,
    jobId: facts.jobId,
    jobIdSource: facts.jobIdSource,
    trigger: facts.trigger,
    target: facts.target,
    status,
    ...(stop === undefined ? {} : { stopReason: stop.reason, stop }),
    dryRun,
    counts: { received: facts.received, ...counts },
    settled: DELETE_OUTCOMES.reduce((sum, outcome) => sum + counts[outcome], 0),
    normalized: facts.normalized,
    startedAt: new Date(facts.startedAt).toISOString(),
    finishedAt: new Date(facts.finishedAt).toISOString(),
    durationMs: Math.max(0, facts.finishedAt - facts.startedAt),
    invocations: facts.invocations,
    requests: facts.stats.requests,
    retries: facts.stats.retries,
    throttled: facts.stats.throttled,
    chunkLatencyMs: latency.percentiles(),
    chunkLatencyHistogram: latency.toJSON(),
    ...(facts.limiter === undefined ? {} : { limiter: facts.limiter }),
    options: facts.options,
    report: { summary: s3Uri(location.bucket, location.summaryKey), failed: s3Uri(location.bucket, location.failedKey), results: s3Uri(location.bucket, location.resultsKey) },
    ...(facts.continuation === undefined ? {} : { continuation: facts.continuation }),
    ...(facts.scaleOut === undefined ? {} : { scaleOut: facts.scaleOut }),
  };
  return jobSummarySchema.parse(summary);
}
