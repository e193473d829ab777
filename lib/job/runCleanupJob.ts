import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { AdaptiveLimiter } from '../modelarts/adaptiveLimiter.js';
import { assembleReport, deletePartFiles, partKeys } from '../report/assembleReport.js';
import { parseCleanupJob, type CleanupJob } from './cleanupJob.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../config/config.js';
import { createChunkDeleter } from '../pipeline/deleteChunk.js';
import { emitJobMetrics } from '../report/emitJobMetrics.js';
import { EntryScreen } from '../pipeline/EntryScreen.js';
import { JobInProgressError, JobValidationError, ReportWriteError } from '../core/errors.js';
import { FailureThreshold } from '../pipeline/FailureThreshold.js';
import { readCheckpoint, writeCheckpoint, type JobCheckpoint } from './jobCheckpoint.js';
import { deriveJobIdentity, type JobIdentity } from './jobIdentity.js';
import { prepareJobSource } from './jobSource.js';
import { createJobStats } from '../pipeline/jobStats.js';
import { jobSummarySchema, reportLocation, s3Uri, SUMMARY_FORMAT_VERSION, type JobSummary, type ReportLocation, type TriggerInfo } from '../report/jobSummary.js';
import { LatencyHistogram } from '../report/LatencyHistogram.js';
import { withAdaptiveLimit } from '../modelarts/limitedModelArtsClient.js';
import { claimManifest } from '../aws/manifestClaim.js';
import type { CheckManifestOptions } from '../manifest/manifestLocation.js';
import type { ModelArtsClient } from '../modelarts/modelArtsClient.js';
import type { OutcomeCounts } from '../pipeline/outcome.js';
import { OutcomeTally } from '../pipeline/OutcomeTally.js';
import { planScaleOut } from '../scaleout/planScaleOut.js';
import { ReportStreams } from '../report/ReportStreams.js';
import { runDeletePass, type PassStop } from '../pipeline/runDeletePass.js';
import { readS3Json } from '../aws/readS3Json.js';
import { writeS3Json } from '../aws/writeS3Json.js';

/** Everything a cleanup job needs from the outside world. */
export interface CleanupDeps {
  config: Config;
  s3: S3Client;
  modelArts: ModelArtsClient;
  clock: Clock;
  logger: Logger;
  /** Where each finished job's figures go as CloudWatch EMF; none when absent. */
  metrics?: Metrics;
  /** Sends continuation messages to `WORK_QUEUE_URL`; none when absent. */
  sqs?: SQSClient;
}

/** Per-invocation limits. */
export interface RunLimits {
  /** Epoch ms after which no request starts (retries included), leaving time to write the report. */
  stopRetryingAt?: number;
  /** Epoch ms after which no new chunk starts; the job saves a checkpoint and continues later. @default stopRetryingAt */
  stopStartingAt?: number;
  /** Epoch ms of the Lambda deadline, for the claim's expiry. */
  deadline?: number;
  /** Which manifest keys this trigger may read (the pending flow may read `pending/`). */
  manifestAccess?: CheckManifestOptions;
  /** The job's identity when it is already known (a continuation). */
  identity?: JobIdentity;
  /** Queue a continuation message when cut by the deadline (needs WORK_QUEUE_URL). @default true */
  queueContinuation?: boolean;
  /** The report folder, when it is not `{REPORT_PREFIX}{jobId}/`: a part of a split job reports under its job. */
  location?: ReportLocation;
  /** Asked with the failure threshold: a reason means stop as if it were crossed (another part of a split job crossed it). */
  stopSignal?: () => string | undefined;
  /** Told the job's running counts after each settled chunk (progress of a split job's part). */
  onProgress?: (counts: Readonly<OutcomeCounts>) => void;
}

/** What a job returns to its trigger. */
export interface CleanupResult {
  summary: JobSummary;
  /** True when the job had completed before and its report was returned as it was: nothing was sent. */
  reused?: boolean;
}

/** Body of a continuation message on the work queue: the job `jobId` goes on from its checkpoint. */
export interface ContinuationMessage {
  continueJob: string;
}

// How often a long job logs its progress; claims outlive the invocation by this much.
const PROGRESS_INTERVAL_MS = 5_000;
const CLAIM_GRACE_MS = 60_000;
const DEFAULT_CLAIM_MS = 16 * 60_000;

/**
 * Runs one cleanup job, or one invocation's share of it:
 * 1. validates the job (refused as a whole before anything is deleted when its shape, target or
 *    options are wrong) and derives its id (idempotency key, message id, or content hash);
 * 2. returns the existing summary when the job's report is already complete (nothing is sent);
 * 3. claims the job (an S3 conditional write), so a duplicate delivery cannot run it twice at once;
 * 4. the preparing pass: reads the manifest once to check it and count its entries, then the
 *    guard rails: the target allow-list and the blast-radius cap;
 * 5. the deleting pass, streaming the outcomes to part files in S3, stopping at the failure
 *    threshold, or at the deadline — then it saves a checkpoint and continues in a new invocation;
 * 6. when the job is done, assembles `failed.csv` and `results.jsonl.gz` and writes `summary.json`.
 *
 * @throws {JobValidationError} when the job (or its manifest) is wrong; nothing was deleted.
 * @throws {JobInProgressError} when the same job is running in another invocation.
 * @throws {ReportWriteError} when the report cannot be written (the outcomes are logged).
 */
export async function runCleanupJob(input: unknown, trigger: TriggerInfo, deps: CleanupDeps, limits: RunLimits = {}): Promise<CleanupResult> {
  const { config, clock, logger, s3 } = deps;
  const job = parseCleanupJob(input);
  const invocationStartedAt = clock.now();

  const messageId = trigger.type === 'queue' ? trigger.source : undefined;
  // A content-hash identity of a manifest job includes the manifest's version, which the preparing
  // pass reads; any other identity is known at once, so a completed job is answered without it.
  const needsManifestVersion = limits.identity === undefined && job.jobId === undefined && messageId === undefined && job.manifest !== undefined;
  let source = needsManifestVersion ? await prepareJobSource(job, deps, limits.manifestAccess) : undefined;
  const identity = limits.identity ?? deriveJobIdentity({ idempotencyKey: job.jobId, messageId, content: { job: input, manifestETag: source?.manifestETag } });
  const { jobId } = identity;
  const location = limits.location ?? reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, jobId);
  const jobLogger = logger.createChild({ persistentKeys: { jobId } });

  const existing = await readSummary(s3, location);
  if (existing !== undefined) {
    jobLogger.info('job already complete; its report is returned as it is', { report: existing.report });
    return { summary: existing, reused: true };
  }
  // The preparing pass: the whole manifest checked and counted before anything is deleted.
  source ??= await prepareJobSource(job, deps, limits.manifestAccess);

  // Guard rails, before anything is sent.
  if (!config.ALLOWED_TARGETS.allows(source.target)) {
    throw new JobValidationError([{ path: 'target', message: `this deployment may not delete from ${JSON.stringify(source.target)}: it is not in ALLOWED_TARGETS` }]);
  }
  const dryRun = job.options.dryRun ?? false;
  if (!dryRun && source.entryCount > config.MAX_IDS_PER_JOB && job.options.confirmEntries !== source.entryCount) {
    throw new JobValidationError([
      {
        path: 'options.confirmEntries',
        message: `the job holds ${source.entryCount} entries, more than MAX_IDS_PER_JOB (${config.MAX_IDS_PER_JOB}): set options.confirmEntries to ${source.entryCount} to run it (a dry run needs no confirmation)`,
      },
    ]);
  }

  const claim = await claimManifest({ s3, bucket: location.bucket, clock }, jobId, location.claimKey, {
    owner: trigger.source ?? `invocation-${invocationStartedAt}`,
    expiresAt: (limits.deadline ?? invocationStartedAt + DEFAULT_CLAIM_MS) + CLAIM_GRACE_MS,
  });
  if (claim === undefined) throw new JobInProgressError(jobId);
  let result: CleanupResult;
  try {
    // Read again under the claim: another invocation may have finished the job meanwhile.
    const finished = await readSummary(s3, location);
    if (finished !== undefined) return { summary: finished, reused: true };
    // A big manifest job is split into parts run by the queue's workers instead (README "Scale-out").
    const planned = await planScaleOut({ job, trigger, deps, identity, source, location, startedAt: invocationStartedAt });
    if (planned !== undefined) return planned;
    result = await runClaimedJob({ job, input, trigger, deps, limits, identity, source, location, jobLogger, dryRun, invocationStartedAt });
  } finally {
    await claim.release();
  }
  const { summary } = result;
  if (summary.status === 'continuing' && summary.continuation !== undefined) {
    // Only now, with the claim released: a continuation picked up at once must find the job free.
    const queued = (limits.queueContinuation ?? true) && (await queueContinuation(deps, jobId));
    summary.continuation.queued = queued;
    summary.stopReason = queued
      ? `the invocation's time ran out after line ${summary.continuation.resumeAfter}; a continuation was queued`
      : `the invocation's time ran out after line ${summary.continuation.resumeAfter}; invoke the same job again to continue`;
  }
  return result;
}

/**
 * Goes on with a job cut by the deadline, from its checkpoint (a continuation message).
 *
 * @throws {JobValidationError} on path `continueJob` when the job has no checkpoint and no report.
 */
export async function continueCleanupJob(jobId: string, deps: CleanupDeps, limits: RunLimits = {}): Promise<CleanupResult> {
  const location = reportLocation(deps.config.REPORT_BUCKET, deps.config.REPORT_PREFIX, jobId);
  const checkpoint = await readCheckpoint(deps.s3, location.bucket, location.checkpointKey);
  if (checkpoint === undefined) {
    const finished = await readSummary(deps.s3, location);
    if (finished !== undefined) return { summary: finished, reused: true };
    throw new JobValidationError([{ path: 'continueJob', message: `job ${jobId} has no checkpoint at ${s3Uri(location.bucket, location.checkpointKey)}` }]);
  }
  // A pending manifest's job continues only from its own flow (the next scheduled run).
  const manifestAccess = checkpoint.trigger.type === 'manual' || checkpoint.trigger.type === 'queue' ? {} : { allowPending: true };
  return runCleanupJob(checkpoint.job, checkpoint.trigger, deps, { ...limits, manifestAccess, identity: { jobId: checkpoint.jobId, source: checkpoint.jobIdSource } });
}

interface ClaimedJob {
  job: CleanupJob;
  input: unknown;
  trigger: TriggerInfo;
  deps: CleanupDeps;
  limits: RunLimits;
  identity: JobIdentity;
  source: Awaited<ReturnType<typeof prepareJobSource>>;
  location: ReportLocation;
  jobLogger: Logger;
  dryRun: boolean;
  invocationStartedAt: number;
}

async function runClaimedJob(run: ClaimedJob): Promise<CleanupResult> {
  const { job, trigger, deps, limits, identity, source, location, jobLogger, dryRun } = run;
  const { config, clock, s3 } = deps;
  const checkpoint = await readCheckpoint(s3, location.bucket, location.checkpointKey);
  const invocation = (checkpoint?.invocations ?? 0) + 1;
  const jobTrigger: TriggerInfo = checkpoint?.trigger ?? (source.manifest === undefined ? trigger : { ...trigger, manifest: source.manifest });
  const chunkSize = job.options.chunkSize ?? config.CHUNK_SIZE;
  const maxInFlight = job.options.maxInFlight ?? config.MAX_IN_FLIGHT;
  const thresholdOptions = job.options.failureThreshold ?? { minAttempted: config.FAILURE_THRESHOLD_MIN_ATTEMPTED, maxFailureRate: config.FAILURE_THRESHOLD_RATE };
  const startedAt = checkpoint?.startedAt ?? run.invocationStartedAt;
  jobLogger.info(checkpoint ? 'job continues' : 'job started', { trigger: jobTrigger, target: source.target, entries: source.entryCount, invocation, resumeAfter: checkpoint?.resumeAfter ?? 0, chunkSize, maxInFlight, dryRun });

  const tally = new OutcomeTally(checkpoint?.counts);
  const screen = new EntryScreen(source.entryCount);
  const stats = checkpoint ? { ...checkpoint.stats } : createJobStats();
  const threshold = new FailureThreshold(thresholdOptions, checkpoint?.threshold);
  const latency = new LatencyHistogram(checkpoint?.latency);
  const chunkLatenciesMs: number[] = [];
  const retry = { maxAttempts: config.MAX_ATTEMPTS, baseDelayMs: config.RETRY_BASE_MS, maxDelayMs: config.RETRY_MAX_MS };
  // One adaptive limiter per invocation, shared by all its chunks; maxInFlight is its ceiling (README "Throughput").
  const limiter = new AdaptiveLimiter({ min: config.LIMITER_MIN, max: maxInFlight, initial: config.LIMITER_INITIAL }, clock);
  let lastProgressAt = clock.now();
  const logProgress = (): void => {
    if (clock.now() - lastProgressAt < PROGRESS_INTERVAL_MS) return;
    lastProgressAt = clock.now();
    jobLogger.info('job progress', { settled: tally.total, entries: source.entryCount, counts: tally.counts, ...stats, limiter: limiter.snapshot() });
  };
  const deleteChunk = createChunkDeleter({
    client: withAdaptiveLimit(deps.modelArts, limiter, { clock, onAnswer: logProgress }),
    target: source.target,
    retry,
    clock,
    stats,
    ...(limits.stopRetryingAt === undefined ? {} : { stopRetryingAt: limits.stopRetryingAt }),
  });

  const part = partKeys(location, invocation);
  const streams = new ReportStreams(s3, { bucket: location.bucket, failedKey: part.failedKey, resultsKey: part.resultsKey }, source.target);
  const stopStartingAt = limits.stopStartingAt ?? limits.stopRetryingAt;
  let pass: Awaited<ReturnType<typeof runDeletePass>>;
  try {
    pass = await runDeletePass({
      entries: source.entries(),
      resumeAfter: checkpoint?.resumeAfter ?? 0,
      screen,
      chunkSize,
      // Twice the ceiling: chunks sleeping before a retry must not leave the limiter idle; memory stays bounded.
      maxChunksInProgress: 2 * maxInFlight,
      deleteChunk: dryRun
        ? 'dry_run'
        : async (refs) => {
            const chunkStartedAt = clock.now();
            try {
              return await deleteChunk(refs);
            } finally {
              const ms = clock.now() - chunkStartedAt;
              latency.record(ms);
              chunkLatenciesMs.push(ms);
            }
          },
      record: async (records) => {
        for (const record of records) {
          tally.record(record);
          if (record.outcome === 'deleted' || record.outcome === 'already_deleted' || record.outcome === 'failed') threshold.observe(record.outcome);
        }
        await streams.write(records);
        limits.onProgress?.(tally.counts);
        logProgress();
      },
      shouldStop: (): PassStop | undefined => {
        if (threshold.crossed || limits.stopSignal?.() !== undefined) return 'failure_threshold';
        if (stopStartingAt !== undefined && clock.now() >= stopStartingAt) return 'deadline';
        return undefined;
      },
    });
  } finally {
    await streams.close();
  }
  const normalized = screen.normalized;

  if (pass.stoppedBy === 'deadline') {
    // Cut by the deadline: save where we are and go on in a new invocation.
    const saved: JobCheckpoint = {
      formatVersion: 1,
      jobId: identity.jobId,
      jobIdSource: identity.source,
      job: run.input,
      trigger: jobTrigger,
      ...(source.manifestETag === undefined ? {} : { manifestETag: source.manifestETag }),
      resumeAfter: pass.settledThrough,
      invocations: invocation,
      counts: { ...tally.counts },
      normalized: (checkpoint?.normalized ?? 0) + normalized,
      stats: { ...stats },
      threshold: threshold.state,
      latency: latency.toJSON(),
      startedAt,
    };
    await writeCheckpoint(s3, location.bucket, location.checkpointKey, saved);
    const summary = buildSummary({ run, jobTrigger, tally, stats, latency, limiter, invocation, startedAt, normalized: saved.normalized, chunkSize, maxInFlight, thresholdOptions, retryMaxAttempts: retry.maxAttempts });
    summary.status = 'continuing';
    // `queued` is settled by the caller, once the claim is released (see runCleanupJob).
    summary.continuation = { checkpoint: s3Uri(location.bucket, location.checkpointKey), resumeAfter: pass.settledThrough, queued: false };
    jobLogger.info('job paused at the deadline', { settled: tally.total, entries: source.entryCount, resumeAfter: pass.settledThrough });
    return { summary };
  }

  await assembleReport(s3, location, invocation);
  const summary = buildSummary({ run, jobTrigger, tally, stats, latency, limiter, invocation, startedAt, normalized: (checkpoint?.normalized ?? 0) + normalized, chunkSize, maxInFlight, thresholdOptions, retryMaxAttempts: retry.maxAttempts });
  if (pass.stoppedBy === 'failure_threshold') {
    summary.status = 'stopped_failure_threshold';
    summary.stopReason = `stopped at the failure threshold: ${threshold.crossed?.reason ?? limits.stopSignal?.() ?? ''}; the IDs not attempted are skipped`;
  }
  jobSummarySchema.parse(summary);
  await writeSummary(s3, location, summary, jobLogger);
  await deletePartFiles(s3, location, invocation);
  if (deps.metrics !== undefined) emitJobMetrics(deps.metrics, summary, chunkLatenciesMs);
  jobLogger.info('job finished', { status: summary.status, counts: summary.counts, durationMs: summary.durationMs, requests: stats.requests, retries: stats.retries, report: summary.report });
  return { summary };
}

interface SummaryParts {
  run: ClaimedJob;
  jobTrigger: TriggerInfo;
  tally: OutcomeTally;
  stats: { requests: number; retries: number; throttled: number };
  latency: LatencyHistogram;
  limiter: AdaptiveLimiter;
  invocation: number;
  startedAt: number;
  normalized: number;
  chunkSize: number;
  maxInFlight: number;
  thresholdOptions: { minAttempted: number; maxFailureRate: number };
  retryMaxAttempts: number;
}

function buildSummary(parts: SummaryParts): JobSummary {
  const { run, tally } = parts;
  const { location } = run;
  const finishedAt = run.deps.clock.now();
  const counts = tally.counts;
  const status: JobSummary['status'] = run.dryRun ? 'dry_run' : counts.failed + counts.invalid > 0 ? 'completed_with_failures' : 'completed';
  return {
    formatVersion: SUMMARY_FORMAT_VERSION,
    jobId: run.identity.jobId,
    jobIdSource: run.identity.source,
    trigger: parts.jobTrigger,
    target: run.source.target,
    status,
    dryRun: run.dryRun,
    counts: { received: run.source.entryCount, ...counts },
    settled: tally.total,
    normalized: parts.normalized,
    startedAt: new Date(parts.startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: finishedAt - parts.startedAt,
    invocations: parts.invocation,
    ...parts.stats,
    chunkLatencyMs: parts.latency.percentiles(),
    limiter: parts.limiter.summary(),
    options: { chunkSize: parts.chunkSize, maxInFlight: parts.maxInFlight, maxAttempts: parts.retryMaxAttempts, dryRun: run.dryRun, failureThreshold: parts.thresholdOptions },
    report: { summary: s3Uri(location.bucket, location.summaryKey), failed: s3Uri(location.bucket, location.failedKey), results: s3Uri(location.bucket, location.resultsKey) },
  };
}

async function readSummary(s3: S3Client, location: ReportLocation): Promise<JobSummary | undefined> {
  const stored = await readS3Json(s3, location.bucket, location.summaryKey, z.unknown());
  if (stored === undefined) return undefined;
  // A summary of another format version is not this job's report: the job runs (IDs already
  // gone end `already_deleted`), and its report replaces the old one.
  const parsed = jobSummarySchema.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
}

async function writeSummary(s3: S3Client, location: ReportLocation, summary: JobSummary, jobLogger: Logger): Promise<void> {
  try {
    await writeS3Json(s3, location.bucket, location.summaryKey, summary);
  } catch (error) {
    // The delete calls cannot be undone: make sure what happened survives in the logs at least.
    jobLogger.error('summary not written; it follows', { summary, error: error as Error });
    throw new ReportWriteError(s3Uri(location.bucket, location.summaryKey), error);
  }
}

async function queueContinuation(deps: CleanupDeps, jobId: string): Promise<boolean> {
  const queueUrl = deps.config.WORK_QUEUE_URL;
  if (queueUrl === undefined || deps.sqs === undefined) return false;
  const body: ContinuationMessage = { continueJob: jobId };
  try {
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
    return true;
  } catch (error) {
    // The checkpoint is saved: invoking the same job again resumes it. Say so rather than fail.
    deps.logger.error('continuation not queued; invoke the same job again to resume it', { jobId, error: error as Error });
    return false;
  }
}
