import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import { AdaptiveLimiter } from './adaptiveLimiter.js';
import { chunkIds } from './chunkIds.js';
import { parseCleanupJob } from './cleanupJob.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { createChunkDeleter } from './deleteChunk.js';
import { deleteImagesInChunks } from './deleteImagesInChunks.js';
import { emitJobMetrics } from './emitJobMetrics.js';
import { createJobStats } from './jobStats.js';
import { withAdaptiveLimit } from './limitedModelArtsClient.js';
import { reportLocation, s3Uri, SUMMARY_FORMAT_VERSION, type JobSummary, type TriggerInfo } from './jobSummary.js';
import type { ModelArtsClient } from './modelArtsClient.js';
import type { ImageRef } from './outcome.js';
import { OutcomeTally } from './outcomeTally.js';
import type { CheckManifestOptions } from './manifestLocation.js';
import { newJobId } from './newJobId.js';
import { resolveJobInput } from './resolveJobInput.js';
import { screenImageIds } from './screenImageIds.js';
import { writeReport } from './writeReport.js';

/** Everything a cleanup job needs from the outside world. */
export interface CleanupDeps {
  config: Config;
  s3: S3Client;
  modelArts: ModelArtsClient;
  clock: Clock;
  logger: Logger;
  /** Where each finished job's figures go as CloudWatch EMF; none when absent. */
  metrics?: Metrics;
}

/** Per-invocation limits. */
export interface RunLimits {
  /** Epoch ms after which no retry starts, leaving time to write the report. */
  stopRetryingAt?: number;
  /** Which manifest keys this trigger may read (the pending flow may read `pending/`). */
  manifestAccess?: CheckManifestOptions;
}

/** What a finished job returns to its trigger. */
export interface CleanupResult {
  summary: JobSummary;
}

// How often a long job logs its progress.
const PROGRESS_INTERVAL_MS = 5_000;

/**
 * Runs one cleanup job end to end: validates it (throwing before anything is deleted when the job
 * as a whole is wrong), screens each ID, deletes the valid ones in chunks with bounded
 * concurrency and retries, and writes the report to S3.
 *
 * @throws {JobValidationError} when the job's shape, target or options are wrong.
 * @throws {ReportWriteError} when the report cannot be written (the outcomes are logged).
 */
export async function runCleanupJob(input: unknown, trigger: TriggerInfo, deps: CleanupDeps, limits: RunLimits = {}): Promise<CleanupResult> {
  const { config, clock, logger } = deps;
  const job = parseCleanupJob(input);
  // Inline IDs or a manifest: the one seam where the IDs come from.
  const { target, entries, manifest } = await resolveJobInput(job, deps, limits.manifestAccess);
  const jobTrigger: TriggerInfo = manifest === undefined ? trigger : { ...trigger, manifest };
  const startedAt = clock.now();
  const jobId = job.jobId ?? newJobId(startedAt, clock.random);
  const chunkSize = job.options.chunkSize ?? config.CHUNK_SIZE;
  const maxInFlight = job.options.maxInFlight ?? config.MAX_IN_FLIGHT;
  const location = reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, jobId);
  const jobLogger = logger.createChild({ persistentKeys: { jobId } });
  jobLogger.info('job started', { trigger: jobTrigger, target, received: entries.length, chunkSize, maxInFlight });

  const tally = new OutcomeTally();
  const stats = createJobStats();
  const retry = { maxAttempts: config.MAX_ATTEMPTS, baseDelayMs: config.RETRY_BASE_MS, maxDelayMs: config.RETRY_MAX_MS };
  // One adaptive limiter per job, shared by all its chunks; maxInFlight is its ceiling (README "Throughput").
  const limiter = new AdaptiveLimiter({ min: config.LIMITER_MIN, max: maxInFlight, initial: config.LIMITER_INITIAL }, clock);
  let lastProgressAt = startedAt;
  // Called on every answer and every settled chunk, so it logs at a steady pace even while chunks retry.
  const logProgress = (): void => {
    if (clock.now() - lastProgressAt < PROGRESS_INTERVAL_MS) return;
    lastProgressAt = clock.now();
    jobLogger.info('job progress', { settled: tally.total, received: entries.length, counts: tally.counts, ...stats, limiter: limiter.snapshot() });
  };
  const deleteChunkUntimed = createChunkDeleter({
    client: withAdaptiveLimit(deps.modelArts, limiter, { clock, onAnswer: logProgress }),
    target,
    retry,
    clock,
    stats,
    ...(limits.stopRetryingAt === undefined ? {} : { stopRetryingAt: limits.stopRetryingAt }),
  });
  // Each chunk's latency (retries and bisection included), for the chunk-latency metric.
  const chunkLatenciesMs: number[] = [];
  const deleteChunk: typeof deleteChunkUntimed = async (refs) => {
    const chunkStartedAt = clock.now();
    try {
      return await deleteChunkUntimed(refs);
    } finally {
      chunkLatenciesMs.push(clock.now() - chunkStartedAt);
    }
  };

  // Invalid and repeated entries are settled while the list is screened; valid IDs flow on lazily.
  function* validIds(): Generator<ImageRef> {
    for (const entry of screenImageIds(entries)) {
      if (entry.kind === 'valid') yield entry.ref;
      else tally.record(entry.record);
    }
  }

  await deleteImagesInChunks({
    chunks: chunkIds(validIds(), chunkSize),
    deleteChunk,
    // Twice the ceiling: chunks sleeping before a retry must not leave the limiter idle; memory stays bounded by the ceiling.
    maxChunksInProgress: 2 * maxInFlight,
    onOutcomes: (records) => {
      tally.recordAll(records);
      logProgress();
    },
  });

  const finishedAt = clock.now();
  const summary: JobSummary = {
    formatVersion: SUMMARY_FORMAT_VERSION,
    jobId,
    trigger: jobTrigger,
    target,
    status: tally.counts.failed + tally.counts.invalid > 0 ? 'completed_with_failures' : 'completed',
    counts: { received: entries.length, ...tally.counts },
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: finishedAt - startedAt,
    ...stats,
    limiter: limiter.summary(),
    options: { chunkSize, maxInFlight, maxAttempts: retry.maxAttempts },
    report: { summary: s3Uri(location.bucket, location.summaryKey), failed: s3Uri(location.bucket, location.failedKey) },
  };
  try {
    await writeReport(deps.s3, location, summary, tally.failures);
  } catch (error) {
    // The delete calls cannot be undone: make sure what happened survives in the logs at least.
    jobLogger.error('report not written; outcomes follow', { summary, failures: tally.failures, error: error as Error });
    throw error;
  }
  if (deps.metrics !== undefined) emitJobMetrics(deps.metrics, summary, chunkLatenciesMs);
  jobLogger.info('job finished', { counts: summary.counts, durationMs: summary.durationMs, requests: stats.requests, retries: stats.retries, report: summary.report });
  return { summary };
}
