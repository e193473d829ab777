import { claimLease } from '../aws/claimLease.js';
import { JobInProgressError, JobValidationError, ManifestChangedError } from '../core/errors.js';
import { readCheckpoint } from '../job/jobCheckpoint.js';
import { prepareJob, type JobRequest } from '../job/prepareJob.js';
import type { JobIdentity } from '../job/jobIdentity.js';
import { manifestChangedEnding } from '../job/wholeJobStop.js';
import type { CleanupDeps, PreparedJob } from '../job/types.js';
import { EntryScreen } from '../pipeline/EntryScreen.js';
import { createJobStats } from '../pipeline/jobStats.js';
import type { OutcomeRecord } from '../pipeline/outcome.js';
import { OutcomeTally } from '../pipeline/OutcomeTally.js';
import { assembleReport, deletePartFiles, partKeys } from '../report/assembleReport.js';
import { buildJobSummary } from '../report/buildJobSummary.js';
import type { JobSummary } from '../report/jobSummary.js';
import { LatencyHistogram } from '../report/LatencyHistogram.js';
import { readJobSummary } from '../report/readJobSummary.js';
import { reportLocation } from '../report/ReportLocation.js';
import { ReportStreams } from '../report/ReportStreams.js';
import { writeJobSummary } from '../report/writeJobSummary.js';

// The claim outlives a crashed finisher by this much (Lambda's longest invocation, and a minute).
const CLAIM_MS = 16 * 60_000;

/** Why a job is given up, as its summary and its entries not reached say it. */
export interface AbandonCause {
  cause: 'dead_lettered' | 'quarantined';
  /** The error code of every entry not reached: `DEAD_LETTERED` or `QUARANTINED`. */
  code: string;
  /** Why, in words an operator can act on (what failed, and what to do). */
  reason: string;
}

/** How giving a job up ended. */
export type AbandonOutcome =
  /** The job had its summary already (it ended meanwhile): nothing was written. */
  | { kind: 'complete'; summary: JobSummary }
  /** The job's summary is written: what its runs did, the entries they did not reach `failed`. */
  | { kind: 'finished'; summary: JobSummary }
  /** No checkpoint, and `fromStart` not set: nothing is known of what it did; the caller reports it otherwise. */
  | { kind: 'not_started' }
  /** Its entries cannot be read again (refused, or the manifest version gone): the caller reports it otherwise. */
  | { kind: 'unreadable'; error: Error };

/**
 * Ends a job that will not run again — its message reached the dead-letter queue, or its pending
 * manifest failed too often — with a summary that tells the truth as far as it is known: the
 * entries up to its checkpoint keep the outcome its runs gave them (their part files are
 * assembled), and every entry after it is settled now, without a request: valid IDs `failed` with
 * the cause's code (not confirmed deleted; a re-run of `failed.csv` settles them), invalid entries
 * and repeats as screened. Status `stopped_abandoned`, with `stop: { kind: "abandoned", cause, … }`.
 *
 * Under the job's own claim, so it never races a run of the same job: a live claim throws. The
 * manifest is read only when there is something to settle (a checkpoint, or `fromStart`): a job
 * that failed in its preparing pass is not prepared again.
 *
 * @param request - The job as its runs prepared it: input, trigger, identity (required), report
 *   folder, access, manifest version.
 * @param fromStart - Settle a job with no checkpoint too, from its first entry (a part of a split
 *   job that never ran). Else such a job answers `not_started`.
 * @throws {JobInProgressError} when the job is running in another invocation (try again later).
 */
export async function finishAbandonedJob(request: JobRequest & { identity: JobIdentity }, why: AbandonCause, deps: CleanupDeps, owner: string, fromStart = false): Promise<AbandonOutcome> {
  const { s3, clock, config } = deps;
  const location = request.location ?? reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, request.identity.jobId);
  const claim = await claimLease({ s3, bucket: location.bucket, clock }, request.identity.jobId, location.claimKey, { owner, expiresAt: clock.now() + CLAIM_MS });
  if (claim === undefined) throw new JobInProgressError(request.identity.jobId);
  try {
    const existing = await readJobSummary(s3, location);
    if (existing !== undefined) return { kind: 'complete', summary: existing };
    const checkpoint = await readCheckpoint(s3, location.bucket, location.checkpointKey);
    if (checkpoint === undefined && !fromStart) return { kind: 'not_started' };
    const prepared = await prepare({ ...request, location }, deps);
    if (prepared.kind !== 'ready') return prepared;
    const { identity, source, options, trigger: preparedTrigger } = prepared.job;
    const resumeAfter = checkpoint?.resumeAfter ?? 0;
    const invocation = (checkpoint?.invocations ?? 0) + 1;
    const tally = new OutcomeTally(checkpoint?.counts);
    const screen = new EntryScreen(source.entryCount);
    let normalized = checkpoint?.normalized ?? 0;
    const streams = new ReportStreams(s3, { bucket: location.bucket, ...partKeys(location, invocation) }, source.target);
    // The manifest version the job is pinned to gone (replaced, no versioning): it ends as its own run would end it.
    let changed: ManifestChangedError | undefined;
    let readThrough = resumeAfter;
    let batch: OutcomeRecord[] = [];
    try {
      for await (const entry of source.entries()) {
        const before = screen.normalized;
        // Every entry is screened (repeats are known from the start); only those after the checkpoint are settled.
        const screened = screen.screen(entry.value, entry.position);
        if (entry.position <= resumeAfter) continue;
        readThrough = entry.position;
        normalized += screen.normalized - before;
        const record: OutcomeRecord = screened.kind === 'valid' ? { imageId: screened.ref.id, position: entry.position, outcome: 'failed', errorCode: why.code, errorMessage: why.reason } : screened.record;
        tally.record(record);
        batch.push(record);
        if (batch.length >= 1_000) {
          await streams.write(batch);
          batch = [];
        }
      }
    } catch (error) {
      if (error instanceof ManifestChangedError) changed = error;
      else {
        await streams.close().catch(() => undefined);
        if (error instanceof JobValidationError) return { kind: 'unreadable', error };
        throw error;
      }
    }
    if (batch.length > 0) await streams.write(batch);
    await streams.close();
    await assembleReport(s3, location, invocation);
    const now = clock.now();
    if (changed !== undefined) deps.logger.warn('manifest changed while its job ran: the job given up ends with what it did', { jobId: identity.jobId, manifest: changed.manifest });
    const ending = changed === undefined ? undefined : manifestChangedEnding(changed, tally.counts, source.entryCount, readThrough, true);
    const summary = buildJobSummary({
      jobId: identity.jobId,
      jobIdSource: identity.source,
      trigger: checkpoint?.trigger ?? (source.manifest === undefined ? preparedTrigger : { ...preparedTrigger, manifest: source.manifest }),
      target: source.target,
      options,
      received: source.entryCount,
      counts: ending?.counts ?? tally.counts,
      normalized,
      startedAt: checkpoint?.startedAt ?? now,
      finishedAt: now,
      invocations: invocation,
      stats: checkpoint?.stats ?? createJobStats(),
      latency: checkpoint?.latency ?? new LatencyHistogram().toJSON(),
      location,
      stop: ending?.stop ?? { kind: 'abandoned', cause: why.cause, reason: `${why.reason}; the entries after line ${resumeAfter} were not reached: failed (${why.code})`, resumeAfter },
    });
    await writeJobSummary(s3, location, summary, deps.logger);
    await deletePartFiles(s3, location, invocation);
    deps.logger.warn('job given up: its summary is written, the entries not reached failed', { jobId: identity.jobId, cause: why.cause, resumeAfter, counts: summary.counts, report: summary.report.summary });
    return { kind: 'finished', summary };
  } finally {
    await claim.release();
  }
}

// The job as its runs prepared it; a refusal (its manifest gone, another job under its id) means its entries cannot be listed.
async function prepare(request: JobRequest, deps: CleanupDeps): Promise<AbandonOutcome | { kind: 'ready'; job: PreparedJob }> {
  try {
    const prepared = await prepareJob(request, deps);
    return prepared.kind === 'complete' ? { kind: 'complete', summary: prepared.result.summary } : prepared;
  } catch (error) {
    if (error instanceof JobValidationError) return { kind: 'unreadable', error };
    throw error;
  }
}
