import { s3Uri } from '../aws/s3Uri.js';
import { AdaptiveLimiter } from '../modelarts/adaptiveLimiter.js';
import { withAdaptiveLimit } from '../modelarts/limitedModelArtsClient.js';
import { createChunkDeleter } from '../pipeline/deleteChunk.js';
import { EntryScreen } from '../pipeline/EntryScreen.js';
import { FailureThreshold } from '../pipeline/FailureThreshold.js';
import { createJobStats } from '../pipeline/jobStats.js';
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
import type { CleanupDeps, InvocationBudget, PreparedJob } from './types.js';

/** What a split job's part adds to its run: the job-wide failure threshold, and progress. */
export interface RunControls {
  /** Asked with the failure threshold: an answer means stop as if it were crossed (another part of a split job crossed it). */
  stopSignal?: () => { crossing: string; part: number } | undefined;
  /** Told the job's running counts after each settled chunk. */
  onProgress?: (counts: Readonly<OutcomeCounts>) => void;
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
 * `summary.json` and emits the job's metrics.
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
  const screen = new EntryScreen(source.entryCount);
  const stats = checkpoint ? { ...checkpoint.stats } : createJobStats();
  const threshold = new FailureThreshold(options.failureThreshold, checkpoint?.threshold);
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
  });

  const part = partKeys(location, invocation);
  const streams = new ReportStreams(s3, { bucket: location.bucket, failedKey: part.failedKey, resultsKey: part.resultsKey }, source.target);
  let external: { crossing: string; part: number } | undefined;
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
        controls.onProgress?.(tally.counts);
        logProgress();
      },
      shouldStop: (): PassStop | undefined => {
        if (threshold.crossed !== undefined) return 'failure_threshold';
        external ??= controls.stopSignal?.();
        if (external !== undefined) return 'failure_threshold';
        if (clock.now() >= budget.stopStartingAt) return 'deadline';
        return undefined;
      },
    });
  } finally {
    await streams.close();
  }
  const normalized = (checkpoint?.normalized ?? 0) + screen.normalized;
  const facts = (stop?: JobStop): SummaryFacts => ({
    jobId: identity.jobId,
    jobIdSource: identity.source,
    trigger,
    target: source.target,
    options,
    received: source.entryCount,
    counts: tally.counts,
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
      latency: latency.toJSON(),
      startedAt,
    });
    logger.info('job paused at the deadline', { settled: tally.total, entries: source.entryCount, resumeAfter: pass.settledThrough });
    return { kind: 'paused', facts: facts(), resumeAfter: pass.settledThrough, checkpoint: s3Uri(location.bucket, location.checkpointKey) };
  }

  await assembleReport(s3, location, invocation);
  const summary = buildJobSummary(facts(pass.stoppedBy === 'failure_threshold' ? thresholdStop(threshold, external) : undefined));
  await writeJobSummary(s3, location, summary, logger);
  await deletePartFiles(s3, location, invocation);
  if (deps.metrics !== undefined) emitJobMetrics(deps.metrics, summary, chunkLatenciesMs);
  logger.info('job finished', { status: summary.status, counts: summary.counts, durationMs: summary.durationMs, requests: stats.requests, retries: stats.retries, report: summary.report });
  return { kind: 'finished', summary };
}

// The job's own threshold, or the one another part of its split job crossed.
function thresholdStop(threshold: FailureThreshold, external: { crossing: string; part: number } | undefined): JobStop {
  const crossed = threshold.crossed;
  if (crossed === undefined && external !== undefined) {
    const crossing = `part ${external.part} of this job crossed it (${external.crossing})`;
    return { kind: 'failure_threshold', reason: `stopped at the failure threshold: ${crossing}; the IDs not attempted are skipped`, crossing, part: external.part };
  }
  const crossing = crossed?.reason ?? '';
  return { kind: 'failure_threshold', reason: `stopped at the failure threshold: ${crossing}; the IDs not attempted are skipped`, crossing, attempted: crossed?.attempted ?? 0, failed: crossed?.failed ?? 0 };
}
