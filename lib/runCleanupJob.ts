import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { chunkIds } from './chunkIds.js';
import { parseCleanupJob } from './cleanupJob.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { createChunkDeleter } from './deleteChunk.js';
import { deleteImagesInChunks } from './deleteImagesInChunks.js';
import { createJobStats } from './jobStats.js';
import { reportLocation, s3Uri, SUMMARY_FORMAT_VERSION, type JobSummary, type TriggerInfo } from './jobSummary.js';
import type { ModelArtsClient } from './modelArtsClient.js';
import type { ImageRef } from './outcome.js';
import { OutcomeTally } from './outcomeTally.js';
import { screenImageIds } from './screenImageIds.js';
import { writeReport } from './writeReport.js';

/** Everything a cleanup job needs from the outside world. */
export interface CleanupDeps {
  config: Config;
  s3: S3Client;
  modelArts: ModelArtsClient;
  clock: Clock;
  logger: Logger;
}

/** Per-invocation limits. */
export interface RunLimits {
  /** Epoch ms after which no retry starts, leaving time to write the report. */
  stopRetryingAt?: number;
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
  const startedAt = clock.now();
  const jobId = job.jobId ?? newJobId(startedAt, clock.random);
  const chunkSize = job.options.chunkSize ?? config.CHUNK_SIZE;
  const maxInFlight = job.options.maxInFlight ?? config.MAX_IN_FLIGHT;
  const location = reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, jobId);
  const jobLogger = logger.createChild({ persistentKeys: { jobId } });
  jobLogger.info('job started', { trigger, target: job.target, received: job.imageIds.length, chunkSize, maxInFlight });

  const tally = new OutcomeTally();
  const stats = createJobStats();
  const retry = { maxAttempts: config.MAX_ATTEMPTS, baseDelayMs: config.RETRY_BASE_MS, maxDelayMs: config.RETRY_MAX_MS };
  const deleteChunk = createChunkDeleter({
    client: deps.modelArts,
    target: job.target,
    retry,
    clock,
    stats,
    ...(limits.stopRetryingAt === undefined ? {} : { stopRetryingAt: limits.stopRetryingAt }),
  });

  // Invalid and repeated entries are settled while the list is screened; valid IDs flow on lazily.
  function* validIds(): Generator<ImageRef> {
    for (const entry of screenImageIds(job.imageIds)) {
      if (entry.kind === 'valid') yield entry.ref;
      else tally.record(entry.record);
    }
  }

  let lastProgressAt = startedAt;
  await deleteImagesInChunks({
    chunks: chunkIds(validIds(), chunkSize),
    deleteChunk,
    maxInFlight,
    onOutcomes: (records) => {
      tally.recordAll(records);
      if (clock.now() - lastProgressAt >= PROGRESS_INTERVAL_MS) {
        lastProgressAt = clock.now();
        jobLogger.info('job progress', { settled: tally.total, received: job.imageIds.length, counts: tally.counts, ...stats });
      }
    },
  });

  const finishedAt = clock.now();
  const summary: JobSummary = {
    formatVersion: SUMMARY_FORMAT_VERSION,
    jobId,
    trigger,
    target: job.target,
    status: tally.counts.failed + tally.counts.invalid > 0 ? 'completed_with_failures' : 'completed',
    counts: { received: job.imageIds.length, ...tally.counts },
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: finishedAt - startedAt,
    ...stats,
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
  jobLogger.info('job finished', { counts: summary.counts, durationMs: summary.durationMs, requests: stats.requests, retries: stats.retries, report: summary.report });
  return { summary };
}

// A sortable, collision-resistant job id: UTC time plus 32 random bits.
function newJobId(now: number, random: () => number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const suffix = Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0');
  return `${stamp}-${suffix}`;
}
