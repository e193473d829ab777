import { s3Uri } from '../aws/s3Uri.js';
import { createJobLimiter } from './jobLimiter.js';
import { withAdaptiveLimit } from '../modelarts/limitedModelArtsClient.js';
import { isWholeJobFailure } from '../modelarts/classifyFailure.js';
import { createChunkDeleter } from '../pipeline/deleteChunk.js';
import { ManifestChangedError } from '../core/errors.js';
import { FailureThreshold } from '../pipeline/FailureThreshold.js';
import { NotFoundThreshold } from '../pipeline/NotFoundThreshold.js';
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
import { cancelledStop, cancelRequestKey } from './cancelRequest.js';
import { CancelWatch } from './CancelWatch.js';
import { readCheckpoint, writeCheckpoint, type JobCheckpoint } from './jobCheckpoint.js';
import { manifestChangedEnding, wholeJobStop, type JobWideStop, type OwnCrossing } from './wholeJobStop.js';
import { ResumedScreen } from './ResumedScreen.js';
import { UnsplitProgress } from './UnsplitProgress.js';
import { pinnedEntries } from './pinnedEntries.js';
import type { CleanupDeps, InvocationBudget, PreparedJob } from './types.js';

/** What a split job's part adds to its run: the job-wide failure threshold, and progress. */
export interface RunControls {
  /** Asked with the thresholds: an answer means stop as if `kind` (default the failure threshold) were crossed (another part of a split job crossed it, or met a refusal of the whole job: `code`). */
  stopSignal?: () => { crossing: string; part: number; kind?: JobWideStop; code?: string } | undefined;
  /** Told, when the job ends (not when it pauses), what this job itself crossed, if anything: even when nothing was left to skip. */
  onCrossed?: (crossed: OwnCrossing) => void;
  /** Told the job's running counts after each settled chunk. */
  onProgress?: (counts: Readonly<OutcomeCounts>) => void;
  /** How many limiters share the service's limit, this run's included (its split job's running parts); asked after every answer. */
  sharers?: () => number | undefined;
  /** Where the job's cancel request is looked for: a part's is its split job's. @default the job's own folder's `cancel.json` */
  cancelKey?: string;
  /** The job's record stood before this invocation claimed it: an earlier invocation took the job up. */
  seenBefore?: boolean;
  /**
   * The job's claim was taken over: the invocation that held it never released it (it crashed or
   * timed out), so what it did after the checkpoint is unknown.
   */
  claimTakenOver?: boolean;
}

/** How the run phase ended: the job finished (its summary is written), or the deadline paused it (its checkpoint is written). */
export type JobRun =
  | { kind: 'finished'; summary: JobSummary }
  | { kind: 'paused'; facts: SummaryFacts; resumeAfter: number; checkpoint: string };

/**
 * Phase three of a job, under its claim: the deleting pass (from the checkpoint, when an earlier
 * invocation was cut), streaming the outcomes to this invocation's part files, stopping at the
 * failure threshold, at a cancel request (looked for before the first delete and every
 * `CANCEL_CHECK_MS`: lib/job/CancelWatch.ts) or at the budget's deadline. Cut by the deadline it saves a checkpoint and
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
  // Marked before the first delete: an invocation that then dies or throws (its claim released by
  // `finally`, or never) leaves the mark, so the next one knows what was done past it is unconfirmed.
  if (checkpoint !== undefined && checkpoint.attemptOpen !== true && !dryRun) await writeCheckpoint(s3, location.bucket, location.checkpointKey, { ...checkpoint, attemptOpen: true });

  const tally = new OutcomeTally(checkpoint?.counts);
  const resumeAfter = checkpoint?.resumeAfter ?? 0;
  const screen = new ResumedScreen(source.entryCount, resumeAfter);
  let changed: ManifestChangedError | undefined;
  const stats = checkpoint ? { ...checkpoint.stats } : createJobStats();
  const threshold = new FailureThreshold(options.failureThreshold, checkpoint?.threshold);
  // After a crash the IDs found gone are the replay's, not a wrong target's: the not-found threshold
  // is off for the job's life (kept in the checkpoint); the bisection budget still bounds the cost.
  const crashedBefore = checkpoint?.afterCrash === true || unconfirmedBefore(checkpoint, controls);
  const notFoundOptions = options.notFoundThreshold ?? { minAttempted: config.NOT_FOUND_THRESHOLD_MIN_ATTEMPTED, maxNotFoundRate: config.NOT_FOUND_THRESHOLD_RATE };
  const notFound = new NotFoundThreshold(crashedBefore ? { ...notFoundOptions, maxNotFoundRate: 1 } : notFoundOptions, checkpoint?.notFoundThreshold);
  // A failure no request of the job can pass (ModelArts.4204: isWholeJobFailure) stops it after the chunk that met it.
  let refusal: { code: string; message: string } | undefined;
  // What crossed first (the checkpoint's counts may have crossed a threshold already) stops the job.
  const firstCrossed = (): JobWideStop | undefined => (refusal !== undefined ? 'service_refused' : notFound.crossed !== undefined ? 'not_found_threshold' : threshold.crossed !== undefined ? 'failure_threshold' : undefined);
  let crossed = firstCrossed();
  const latency = new LatencyHistogram(checkpoint?.latency);
  const chunkLatenciesMs: number[] = [];
  const { limiter, onAnswer, remember } = createJobLimiter(deps, source.target, maxInFlight, controls.sharers);
  // The log line and progress.json (a part of a split job writes none: lib/job/UnsplitProgress.ts).
  const progress = new UnsplitProgress({ s3, clock, logger }, { jobId: identity.jobId, location, entries: source.entryCount, startedAt }, { counts: () => tally.counts, limiter: () => limiter.snapshot(), extra: () => stats });
  const deleteChunk = createChunkDeleter({
    client: withAdaptiveLimit(deps.modelArts, limiter, { clock, onAnswer: () => (progress.log(), onAnswer()) }),
    target: source.target,
    retry: { maxAttempts: options.maxAttempts, baseDelayMs: config.RETRY_BASE_MS, maxDelayMs: config.RETRY_MAX_MS },
    clock,
    stats,
    ...(Number.isFinite(budget.stopRetryingAt) ? { stopRetryingAt: budget.stopRetryingAt } : {}),
    maxRefusals: config.BISECT_MAX_REFUSALS,
  });

  // A cancel asked before this invocation began is seen before its first delete: it sends nothing.
  const cancel = new CancelWatch({ s3, clock, logger }, { bucket: location.bucket, key: controls.cancelKey ?? cancelRequestKey(location) }, config.CANCEL_CHECK_MS);
  await cancel.look();

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
            if (record.outcome === 'failed' && refusal === undefined && isWholeJobFailure(record.errorCode, config.EXTRA_ERROR_CODES)) refusal = { code: record.errorCode ?? '', message: record.errorMessage ?? '' };
            crossed ??= firstCrossed();
          }
        }
        await streams.write(records);
        cancel.poll();
        controls.onProgress?.(tally.counts);
        await progress.tick();
      },
      shouldStop: (): PassStop | undefined => {
        if (crossed !== undefined) return crossed;
        external ??= controls.stopSignal?.();
        if (external !== undefined) return external.kind ?? 'failure_threshold';
        cancel.poll();
        if (cancel.requested !== undefined) return 'cancelled';
        if (clock.now() >= budget.stopStartingAt) return 'deadline';
        return undefined;
      },
    });
  } finally {
    remember();
    await cancel.settle();
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
    await progress.write();
    logger.info('job paused at the deadline', { settled: tally.total, entries: source.entryCount, resumeAfter: pass.settledThrough });
    return { kind: 'paused', facts: facts(), resumeAfter: pass.settledThrough, checkpoint: s3Uri(location.bucket, location.checkpointKey) };
  }

  // What the job crossed itself first, told even when nothing was left to skip (a split job's other parts must stop).
  const own: OwnCrossing | undefined = crossed === 'service_refused' && refusal !== undefined ? { kind: crossed, crossing: `${refusal.code}: ${refusal.message}`, code: refusal.code }
    : crossed === 'not_found_threshold' && notFound.crossed !== undefined ? { kind: crossed, ...notFound.crossed, crossing: notFound.crossed.reason }
    : crossed === 'failure_threshold' && threshold.crossed !== undefined ? { kind: crossed, ...threshold.crossed, crossing: threshold.crossed.reason } : undefined;
  if (own !== undefined) controls.onCrossed?.(own);
  await assembleReport(s3, location, invocation);
  const unconfirmed = unconfirmedBefore(checkpoint, controls);
  const summary = buildJobSummary(changed !== undefined ? changedFacts(changed, tally.counts, source.entryCount, resumeAfter, facts, unconfirmed) : facts(passStop(pass.stoppedBy, own, external, cancel, tally.counts.skipped)));
  await writeJobSummary(s3, location, summary, logger);
  await progress.write(summary);
  await deletePartFiles(s3, location, invocation);
  if (deps.metrics !== undefined) emitJobMetrics(deps.metrics, summary, chunkLatenciesMs);
  logger.info('job finished', { status: summary.status, counts: summary.counts, durationMs: summary.durationMs, requests: stats.requests, retries: stats.retries, report: summary.report });
  return { kind: 'finished', summary };
}

// Why the pass ended early, for the summary: a job-wide stop, or the cancel request it saw.
function passStop(stoppedBy: PassStop | undefined, own: OwnCrossing | undefined, external: ReturnType<NonNullable<RunControls['stopSignal']>>, cancel: CancelWatch, skipped: number): JobStop | undefined {
  if (stoppedBy === undefined || stoppedBy === 'deadline') return undefined;
  if (stoppedBy === 'cancelled') return cancel.requested === undefined ? undefined : cancelledStop(cancel.requested, skipped);
  return wholeJobStop(stoppedBy, own?.kind === stoppedBy ? own : undefined, external);
}

// The ending of a job whose pinned manifest version is gone: what earlier invocations settled, and
// every entry never read counted skipped (it has no line in the report files: its ID is unknown).
// Whether an earlier invocation may have deleted past what was saved: it saved nothing, it resumed and never saved again, or it kept its claim.
function unconfirmedBefore(checkpoint: JobCheckpoint | undefined, controls: RunControls): boolean {
  return (checkpoint === undefined && controls.seenBefore === true) || checkpoint?.attemptOpen === true || controls.claimTakenOver === true;
}

function changedFacts(error: ManifestChangedError, counts: Readonly<OutcomeCounts>, entries: number, resumeAfter: number, facts: (stop: JobStop, counts: Readonly<OutcomeCounts>) => SummaryFacts, unconfirmed: boolean): SummaryFacts {
  const ending = manifestChangedEnding(error, counts, entries, resumeAfter, unconfirmed);
  return facts(ending.stop, ending.counts);
}
