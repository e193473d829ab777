import { s3Uri } from '../aws/s3Uri.js';
import { AdaptiveLimiter } from '../modelarts/adaptiveLimiter.js';
import { withAdaptiveLimit } from '../modelarts/limitedModelArtsClient.js';
import { createChunkDeleter } from '../pipeline/deleteChunk.js';
import { ManifestChangedError } from '../core/errors.js';
import { FailureThreshold } from '../pipeline/FailureThreshold.js';
import { NotFoundThreshold } from '../pipeline/NotFoundThreshold.js';
import { createJobStats } from '../pipeline/jobStats.js';
import type { JobEntry } from '../pipeline/JobEntry.js';
import type { OutcomeCounts } from '../pipeline/outcome.js';
import { OutcomeTally } from '../pipeline/OutcomeTally.js';
import { runDeletePass, type PassStop } from '../pipeline/runDeletePass.js';
import { assembleReport, deletePartFiles, partKeys } from '../report/assembleReport.js';
import { buildJobSummary, type SummaryFacts } from '../report/buildJobSummary.js';
import { emitJobMetrics } from '../report/emitJobMetrics.js';
import type { JobStop, JobSummary } from '../report/jobSummary.js';
import { LatencyHistogram } from '../report/LatencyHistogram.js';
import { ReportStreams } from '../report/ReportStreams.js';
import { writeJobSummary } from '../report/writeJobSummary.js';
import { readCheckpoint, writeCheckpoint } from './jobCheckpoint.js';
import type { JobSource } from './prepareJobSource.js';
import { ResumedScreen } from './ResumedScreen.js';
import type { CleanupDeps, InvocationBudget, PreparedJob } from './types.js';

/** What a split job's part adds to its run: the job-wide failure threshold, and progress. */
export interface RunControls {
  /** Asked with the thresholds: an answer means stop as if `kind` (default the failure threshold) were crossed (another part of a split job crossed it). */
  stopSignal?: () => { crossing: string; part: number; kind?: 'failure_threshold' | 'not_found_threshold' } | undefined;
  /** Told the job's running counts after each settled chunk. */
  onProgress?: (counts: Readonly<OutcomeCounts>) => void;
  /** The job's record stood before this invocation claimed it: an earlier invocation took the job up. */
  seenBefore?: boolean;
}

/** How the run phase ended: the job finished (its summary is written), or the deadline paused it (its checkpoint is written). */
export type JobRun =
  | { kind: 'finished'; summary: JobSummary }
  | { kind: 'paused'; facts: SummaryFacts; resumeAfter: number; checkpoint: string };

// How often a long job logs its progress.
const PROGRESS_INTERVAL_MS = 5_000;

/**
 * Phase three of a job, under its claim: the deleting pass (from the checkpoint, when an earlier
 * invocation was cut), streaming the outcomes to this invocation's part files, stopping at the
 * failure threshold or at the budget's deadline. Cut by the deadline it saves a checkpoint and
 * answers `paused`; otherwise it assembles `failed.csv` and `results.jsonl.gz`, writes
 * `summary.json` and emits the job's metrics. When the manifest version the job is pinned to is
 * gone, nothing is read: the job ends with what earlier invocations did, the entries not reached
 * counted `skipped` (stop `manifest_changed`).
 *
 * @throws {ReportWriteError} when the report cannot be written (the outcomes are logged).
 */
export async function runJob(prepared: PreparedJob, deps: CleanupDeps, budget: InvocationBudget, controls: RunControls = {}): Promise<JobRun> {
  const { identity, source, location, options, logger } = prepared;
  const { config, clock, s3 } = deps;
  const checkpoint = await readCheckpoint(s3, location.bucket, location.checkpointKey);
  const invocation = (checkpoint?.invocations ?? 0) + 1;
  const trigger = checkpoint?.trigger ?? (source.manifest === undefined ? prepared.trigger : { ...prepared.trigger, manifest: source.manifest });
  const { chunkSize, maxInFlight, dryRun } = options;
  const startedAt = checkpoint?.startedAt ?? prepared.startedAt;
  logger.info(checkpoint ? 'job continues' : 'job started', { trigger, target: source.target, entries: source.entryCount, invocation, resumeAfter: checkpoint?.resumeAfter ?? 0, chunkSize, maxInFlight, dryRun });

  const tally = new OutcomeTally(checkpoint?.counts);
  const resumeAfter = checkpoint?.resumeAfter ?? 0;
  const screen = new ResumedScreen(source.entryCount, resumeAfter);
  let changed: ManifestChangedError | undefined;
  const stats = checkpoint ? { ...checkpoint.stats } : createJobStats();
  const threshold = new FailureThreshold(options.failureThreshold, checkpoint?.threshold);
  // A job taken up before that left no checkpoint crashed (or failed to write its report) after
  // deleting some of its IDs: finding them gone now is the replay, not a wrong target, so the
  // not-found threshold is not judged; the bisection budget still bounds what the re-run costs.
  // Kept in the checkpoint: the continuations of such a re-run find the same IDs gone.
  const crashedBefore = checkpoint?.afterCrash === true || (controls.seenBefore === true && checkpoint === undefined);
  const notFoundOptions = options.notFoundThreshold ?? { minAttempted: config.NOT_FOUND_THRESHOLD_MIN_ATTEMPTED, maxNotFoundRate: config.NOT_FOUND_THRESHOLD_RATE };
  const notFound = new NotFoundThreshold(crashedBefore ? { ...notFoundOptions, maxNotFoundRate: 1 } : notFoundOptions, checkpoint?.notFoundThreshold);
  // The threshold crossed first (the checkpoint's counts may have crossed one already) stops the job.
  const firstCrossed = (): 'not_found_threshold' | 'failure_threshold' | undefined => (notFound.crossed !== undefined ? 'not_found_threshold' : threshold.crossed !== undefined ? 'failure_threshold' : undefined);
  let crossed = firstCrossed();
  const latency = new LatencyHistogram(checkpoint?.latency);
  const chunkLatenciesMs: number[] = [];
  // One adaptive limiter per invocation, shared by all its chunks; maxInFlight is its ceiling (docs/throughput.md).
  const limiter = new AdaptiveLimiter({ min: config.LIMITER_MIN, max: maxInFlight, initial: config.LIMITER_INITIAL }, clock);
  let lastProgressAt = clock.now();
  const logProgress = (): void => {
    if (clock.now() - lastProgressAt < PROGRESS_INTERVAL_MS) return;
    lastProgressAt = clock.now();
    logger.info('job progress', { settled: tally.total, entries: source.entryCount, counts: tally.counts, ...stats, limiter: limiter.snapshot() });
  };
  const deleteChunk = createChunkDeleter({
    client: withAdaptiveLimit(deps.modelArts, limiter, { clock, onAnswer: logProgress }),
    target: source.target,
    retry: { maxAttempts: options.maxAttempts, baseDelayMs: config.RETRY_BASE_MS, maxDelayMs: config.RETRY_MAX_MS },
    clock,
    stats,
    ...(Number.isFinite(budget.stopRetryingAt) ? { stopRetryingAt: budget.stopRetryingAt } : {}),
    maxRefusals: config.BISECT_MAX_REFUSALS,
  });

  const part = partKeys(location, invocation);
  const streams = new ReportStreams(s3, { bucket: location.bucket, failedKey: part.failedKey, resultsKey: part.resultsKey }, source.target);
  let external: ReturnType<NonNullable<RunControls['stopSignal']>>;
  let pass: Awaited<ReturnType<typeof runDeletePass>>;
  try {
    pass = await runDeletePass({
      entries: pinnedEntries(source, (error) => {
        changed = error;
      }),
      resumeAfter,
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
          if (record.outcome === 'deleted' || record.outcome === 'already_deleted' || record.outcome === 'failed') {
            threshold.observe(record.outcome, record.errorCode);
            notFound.observe(record);
            crossed ??= firstCrossed();
          }
        }
        await streams.write(records);
        controls.onProgress?.(tally.counts);
        logProgress();
      },
      shouldStop: (): PassStop | undefined => {
        if (crossed !== undefined) return crossed;
        external ??= controls.stopSignal?.();
        if (external !== undefined) return external.kind ?? 'failure_threshold';
        if (clock.now() >= budget.stopStartingAt) return 'deadline';
        return undefined;
      },
    });
  } finally {
    await streams.close();
  }
  const normalized = (checkpoint?.normalized ?? 0) + screen.normalizedThrough(pass.settledThrough);
  const facts = (stop?: JobStop, counts: Readonly<OutcomeCounts> = tally.counts): SummaryFacts => ({
    jobId: identity.jobId,
    jobIdSource: identity.source,
    trigger,
    target: source.target,
    options,
    received: source.entryCount,
    counts,
    normalized,
    startedAt,
    finishedAt: clock.now(),
    invocations: invocation,
    stats,
    latency: latency.toJSON(),
    location,
    limiter: limiter.summary(),
    ...(stop === undefined ? {} : { stop }),
  });

  if (pass.stoppedBy === 'deadline') {
    // Cut by the deadline: save where we are and go on in a new invocation.
    await writeCheckpoint(s3, location.bucket, location.checkpointKey, {
      formatVersion: 1,
      jobId: identity.jobId,
      jobIdSource: identity.source,
      job: prepared.input,
      trigger,
      ...(source.manifestETag === undefined ? {} : { manifestETag: source.manifestETag }),
      resumeAfter: pass.settledThrough,
      invocations: invocation,
      counts: { ...tally.counts },
      normalized,
      stats: { ...stats },
      threshold: threshold.state,
      notFoundThreshold: notFound.state,
      ...(crashedBefore ? { afterCrash: true } : {}),
      latency: latency.toJSON(),
      startedAt,
    });
    logger.info('job paused at the deadline', { settled: tally.total, entries: source.entryCount, resumeAfter: pass.settledThrough });
    return { kind: 'paused', facts: facts(), resumeAfter: pass.settledThrough, checkpoint: s3Uri(location.bucket, location.checkpointKey) };
  }

  await assembleReport(s3, location, invocation);
  const summary = buildJobSummary(changed !== undefined ? changedFacts(changed, tally.counts, source.entryCount, resumeAfter, facts) : facts(pass.stoppedBy === 'failure_threshold' || pass.stoppedBy === 'not_found_threshold' ? thresholdStop(pass.stoppedBy, pass.stoppedBy === 'failure_threshold' ? threshold.crossed : notFound.crossed, external) : undefined));
  await writeJobSummary(s3, location, summary, logger);
  await deletePartFiles(s3, location, invocation);
  if (deps.metrics !== undefined) emitJobMetrics(deps.metrics, summary, chunkLatenciesMs);
  logger.info('job finished', { status: summary.status, counts: summary.counts, durationMs: summary.durationMs, requests: stats.requests, retries: stats.retries, report: summary.report });
  return { kind: 'finished', summary };
}

// The threshold that stopped the job: its own crossing, or the one another part of its split job crossed.
function thresholdStop(kind: 'failure_threshold' | 'not_found_threshold', own: { reason: string; attempted: number; failed?: number; notFound?: number } | undefined, external: { crossing: string; part: number } | undefined): JobStop {
  const crossing = own === undefined && external !== undefined ? `part ${external.part} of this job crossed it (${external.crossing})` : (own?.reason ?? '');
  const why = kind === 'failure_threshold' ? 'the failure threshold' : 'the not-found threshold (a wrong target, or IDs deleted already)';
  const reason = `stopped at ${why}: ${crossing}; the IDs not attempted are skipped`;
  if (own === undefined && external !== undefined) return { kind, reason, crossing, part: external.part };
  const attempted = own?.attempted ?? 0;
  return kind === 'failure_threshold' ? { kind, reason, crossing, attempted, failed: own?.failed ?? 0 } : { kind, reason, crossing, attempted, notFound: own?.notFound ?? 0 };
}

// The ending of a job whose pinned manifest version is gone: what earlier invocations settled, and
// every entry never read counted skipped (it has no line in the report files: its ID is unknown).
function changedFacts(error: ManifestChangedError, counts: Readonly<OutcomeCounts>, entries: number, resumeAfter: number, facts: (stop: JobStop, counts: Readonly<OutcomeCounts>) => SummaryFacts): SummaryFacts {
  const settled = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const notReached = Math.max(0, entries - settled);
  const reason = `${error.issues[0]?.message ?? error.message}; the lines after ${resumeAfter} were never read: their ${notReached} entries are skipped (MANIFEST_CHANGED)`;
  return facts({ kind: 'manifest_changed', reason, resumeAfter, notReached }, { ...counts, skipped: counts.skipped + notReached });
}

// The job's entries, or none when its pinned manifest version is gone at the first read (before
// any entry, so before any delete of this invocation): `onChanged` is told, and the run ends the job.
async function* pinnedEntries(source: JobSource, onChanged: (error: ManifestChangedError) => void): AsyncGenerator<JobEntry> {
  const iterator = source.entries()[Symbol.asyncIterator]();
  try {
    let next: IteratorResult<JobEntry>;
    try {
      next = await iterator.next();
    } catch (error) {
      if (!(error instanceof ManifestChangedError)) throw error;
      onChanged(error);
      return;
    }
    for (; next.done !== true; next = await iterator.next()) yield next.value;
  } finally {
    await iterator.return?.();
  }
}
