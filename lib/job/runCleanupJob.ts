import { claimLease } from '../aws/claimLease.js';
import { readS3Json } from '../aws/readS3Json.js';
import { s3Uri } from '../aws/s3Uri.js';
import { JobInProgressError, JobValidationError, ManifestChangedError } from '../core/errors.js';
import type { CheckManifestOptions } from '../manifest/manifestLocation.js';
import { buildJobSummary } from '../report/buildJobSummary.js';
import type { TriggerInfo } from '../report/jobSummary.js';
import { readJobSummary } from '../report/readJobSummary.js';
import { reportLocation } from '../report/ReportLocation.js';
import type { ContinuationMessage } from './continuationMessage.js';
import { invocationBudget } from './invocationBudget.js';
import { jobCheckpointSchema, readCheckpoint } from './jobCheckpoint.js';
import type { JobIdentity } from './jobIdentity.js';
import { keepJobRecord, newJobRecord, type ManifestVersion } from './jobRecord.js';
import { prepareJob } from './prepareJob.js';
import { runJob, type JobRun, type RunControls } from './runJob.js';
import { sendWorkMessage } from './sendWorkMessage.js';
import { PLAN_CHECKPOINT_NAME, type CleanupDeps, type CleanupResult, type InvocationBudget, type PlanningPaused, type PreparedJob } from './types.js';

/**
 * How a job cut by the deadline goes on: the message that resumes it (none: it is resumed by hand,
 * or by its own flow), and what to tell the user when that message was not sent.
 */
export interface Resume {
  message?: object;
  /** What resumes the job when no message went, e.g. `invoke the same job again to continue`. */
  byHand: string;
  /** What the message does, e.g. `a continuation was queued`. */
  queued: string;
}

/** How {@link executeJob} runs a prepared job. */
export interface Execution {
  resume: Resume;
  /** Whether a big job may be split into parts (never a part itself). */
  split: boolean;
  controls?: RunControls;
}

/** How {@link runCleanupJob} takes a job: what its trigger knows of it already. */
export interface JobHow {
  /** Which manifests the trigger may read. @default `{}` */
  access?: CheckManifestOptions;
  /** Whether a job cut by the deadline queues its continuation. @default true */
  continuation?: boolean;
  /** The job's identity, when the trigger decides it (one per pending manifest's bucket, key and version); derived from the job otherwise. */
  identity?: JobIdentity;
  /**
   * The manifest version the job is for: its first preparing pass reads that version only (a
   * mismatch is a refusal, {@link ManifestChangedError}), and its record pins it for the job's life.
   */
  manifestVersion?: ManifestVersion;
}

/**
 * Runs one cleanup job, or one invocation's share of it, through its three phases: prepare
 * (validate, identity, the job record checked, a complete report answered as it is, the preparing
 * pass, the guard rails), claim (an S3 conditional write, so a duplicate delivery cannot run it
 * twice at once; the job record written at the first), run (the deleting pass, then the report; or
 * a checkpoint and a continuation message at the deadline). A big manifest job is split into
 * parts instead (docs/scale-out.md).
 *
 * @param budget - The invocation's time; none outside Lambda.
 * @param how - What the trigger knows of the job ({@link JobHow}). @default `{ access: {}, continuation: true }`
 * @throws {JobIdConflictError} when the job's id names another job; nothing was deleted.
 * @throws {ManifestChangedError} when `how.manifestVersion` is no longer the manifest's; nothing was deleted.
 * @throws {JobValidationError} when the job (or its manifest) is wrong; nothing was deleted.
 * @throws {JobInProgressError} when the same job is running in another invocation.
 * @throws {ReportWriteError} when the report cannot be written (the outcomes are logged).
 */
export async function runCleanupJob(input: unknown, trigger: TriggerInfo, deps: CleanupDeps, budget?: InvocationBudget, how: JobHow = {}): Promise<CleanupResult> {
  const prepared = await prepareJob({
    input,
    trigger,
    access: how.access ?? {},
    ...(how.identity === undefined ? {} : { identity: how.identity }),
    ...(how.manifestVersion === undefined ? {} : { manifestVersion: how.manifestVersion }),
    ...(budget === undefined ? {} : { deadline: budget.stopRetryingAt }),
  }, deps);
  if (prepared.kind === 'complete') return prepared.result;
  const { jobId } = prepared.job.identity;
  return executeJob(prepared.job, deps, budget ?? invocationBudget(deps.clock.now(), undefined, deps.config), { resume: continuation(jobId, how.continuation ?? true), split: true });
}

// What a checkpoint says of how to prepare its job again.
const resumableHead = jobCheckpointSchema.pick({ jobId: true, jobIdSource: true, job: true, trigger: true });

/**
 * Goes on with a job cut by the deadline, from its checkpoint (a continuation message): the
 * deleting pass's, or the planning checkpoint of a split job cut while planning.
 *
 * @param how - Whether a job cut by the deadline again queues its continuation. @default `{ continuation: true }`
 * @throws {JobValidationError} on path `continueJob` when the job has no checkpoint and no report.
 */
export async function continueCleanupJob(jobId: string, deps: CleanupDeps, budget: InvocationBudget, how: { continuation?: boolean } = {}): Promise<CleanupResult> {
  const location = reportLocation(deps.config.REPORT_BUCKET, deps.config.REPORT_PREFIX, jobId);
  // A split job cut while planning has its planning checkpoint instead, whose head is the same (lib/scaleout/planCheckpointSchema.ts).
  const checkpoint = (await readCheckpoint(deps.s3, location.bucket, location.checkpointKey)) ?? (await readS3Json(deps.s3, location.bucket, `${location.prefix}${PLAN_CHECKPOINT_NAME}`, resumableHead));
  if (checkpoint === undefined) {
    const finished = await readJobSummary(deps.s3, location);
    if (finished !== undefined) return { summary: finished, reused: true };
    throw new JobValidationError([{ path: 'continueJob', message: `job ${jobId} has no checkpoint at ${s3Uri(location.bucket, location.checkpointKey)}` }]);
  }
  // A pending manifest's job continues only from its own flow (the next scheduled run).
  const access = checkpoint.trigger.type === 'manual' || checkpoint.trigger.type === 'queue' ? {} : { allowPending: true };
  const prepared = await prepareJob({ input: checkpoint.job, trigger: checkpoint.trigger, access, identity: { jobId: checkpoint.jobId, source: checkpoint.jobIdSource }, deadline: budget.stopRetryingAt }, deps);
  if (prepared.kind === 'complete') return prepared.result;
  return executeJob(prepared.job, deps, budget, { resume: continuation(checkpoint.jobId, how.continuation ?? true), split: true });
}

/**
 * Phases two and three of a prepared job: claims it, writes its record at its first claim (or
 * checks it against the record another invocation wrote meanwhile), reads its summary once more
 * under the claim (another invocation may have finished it meanwhile), splits it or runs it, releases the claim,
 * and — only then, so a continuation picked up at once finds the job free — sends the message
 * that resumes a job cut by the deadline. The summary is built once, with everything known.
 *
 * @throws {JobInProgressError} when the same job is running in another invocation.
 * @throws {JobIdConflictError} when another job's record was written under its id meanwhile.
 */
export async function executeJob(prepared: PreparedJob, deps: CleanupDeps, budget: InvocationBudget, how: Execution): Promise<CleanupResult> {
  const { identity, location, trigger } = prepared;
  const claim = await claimLease({ s3: deps.s3, bucket: location.bucket, clock: deps.clock }, identity.jobId, location.claimKey, {
    owner: trigger.source ?? `invocation-${prepared.startedAt}`,
    expiresAt: budget.claimExpiresAt,
  });
  if (claim === undefined) throw new JobInProgressError(identity.jobId);
  let run: JobRun | PlanningPaused;
  try {
    const { source } = prepared;
    const record = await keepJobRecord(deps.s3, location, newJobRecord({ identity, content: prepared.content, manifestVersion: source.manifestVersion, target: source.target, entries: source.entryCount, trigger, now: deps.clock.now() }));
    const finished = await readJobSummary(deps.s3, location);
    if (finished !== undefined) return { summary: finished, reused: true };
    const planned = how.split ? await plan(prepared, deps, budget) : undefined;
    if (planned !== undefined && !('kind' in planned)) return planned;
    // Planning cut by the deadline goes on as a paused run does: its continuation after the claim's release.
    run = planned ?? (await runJob(prepared, deps, budget, { ...how.controls, seenBefore: record === 'standing', claimTakenOver: claim.tookOver }));
  } finally {
    await claim.release();
  }
  if (run.kind === 'finished') return { summary: run.summary };

  const { resume } = how;
  const queued = resume.message !== undefined && (await sendWorkMessage(deps, resume.message, { jobId: identity.jobId, resumeByHand: resume.byHand }));
  const summary = buildJobSummary({
    ...run.facts,
    stop: { kind: 'deadline', reason: `the invocation's time ran out ${run.kind === 'planning_paused' ? 'while splitting the job, planned up to' : 'after'} line ${run.resumeAfter}; ${queued ? resume.queued : resume.byHand}`, resumeAfter: run.resumeAfter },
    continuation: { checkpoint: run.checkpoint, resumeAfter: run.resumeAfter, queued },
  });
  return { summary };
}

// The split, unless the manifest's pinned version is gone before a plan was made: then the run ends
// the job with what it did (a plan made already is answered as it is).
async function plan(prepared: PreparedJob, deps: CleanupDeps, budget: InvocationBudget): Promise<CleanupResult | PlanningPaused | undefined> {
  try {
    return await deps.planScaleOut(prepared, deps, budget);
  } catch (error) {
    if (error instanceof ManifestChangedError) return undefined;
    throw error;
  }
}

// A job's own continuation: a `continueJob` message, or (when the trigger resumes it itself) none.
function continuation(jobId: string, queue: boolean): Resume {
  return {
    ...(queue ? { message: { continueJob: jobId } satisfies ContinuationMessage } : {}),
    byHand: 'invoke the same job again to continue',
    queued: 'a continuation was queued',
  };
}
