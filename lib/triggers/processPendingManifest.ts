import { claimLease } from '../aws/claimLease.js';
import { s3Uri } from '../aws/s3Uri.js';
import { JobInProgressError, JobValidationError, type ValidationIssue } from '../core/errors.js';
import { readCheckpoint } from '../job/jobCheckpoint.js';
import type { JobIdentity } from '../job/jobIdentity.js';
import { readJobRecord, type ManifestVersion } from '../job/jobRecord.js';
import { runCleanupJob } from '../job/runCleanupJob.js';
import { sendWorkMessage } from '../job/sendWorkMessage.js';
import type { CleanupDeps, InvocationBudget } from '../job/types.js';
import { currentManifestVersion } from '../job/prepareJobSource.js';
import { manifestLayout } from '../manifest/manifestLocation.js';
import type { TriggerInfo } from '../report/jobSummary.js';
import { readJobSummary } from '../report/readJobSummary.js';
import { reportLocation } from '../report/ReportLocation.js';
import { finishAbandonedJob } from './finishAbandonedJob.js';
import { movePendingManifest } from './movePendingManifest.js';
import type { PendingContinuationMessage } from './pendingContinuationMessage.js';
import { PendingFailures } from './PendingFailures.js';
import { readUnfinishedKeyJob, writePendingKeyJob } from './pendingKeyJob.js';
import { pendingJobIdentity } from './pendingJobIdentity.js';
import { refusedPendingKey } from './refusedPendingKey.js';
import { reportRefusal } from './reportRefusal.js';

/** What became of one pending manifest. */
export type PendingManifestOutcome =
  /**
   * The job ran (its report gives each ID's outcome; a split job's summary comes when its last part
   * ends); the version that ran is now under `done/`. No `movedTo`: that version was replaced
   * meanwhile, so nothing was moved, and what `pending/` holds now is a job of its own.
   */
  | { status: 'done'; manifestKey: string; jobId: string; report: string; movedTo?: string }
  /** The job was refused as a whole, or quarantined; the version is under `failed/` (no `movedTo`: replaced meanwhile), with `rejected.json` or the summary. */
  | { status: 'failed'; manifestKey: string; jobId: string; report: string; error: string; movedTo?: string }
  /** Cut by the deadline: the manifest stays pending (its claim released); its continuation (`queued`), or the next run, resumes its job. */
  | { status: 'continuing'; manifestKey: string; jobId: string; resumeAfter: number; queued: boolean }
  /** The key itself is refused (another bucket, outside `pending/`, `.` or `..` segments): nothing was read, claimed or moved; `rejected.json` says why. */
  | { status: 'refused'; manifestKey: string; jobId: string; report: string; error: string; issues: readonly ValidationIssue[] }
  /** Not ours to run now: another run holds its claim, or it is no longer pending (already processed). */
  | { status: 'skipped'; manifestKey: string; reason: 'claimed_elsewhere' | 'not_pending' };

/** Which pending manifest: from a notification or the listing (its current version), or a continuation (the version it resumes). */
export interface PendingManifestRequest {
  bucket: string;
  key: string;
  version?: ManifestVersion;
}

/**
 * Processes one manifest dropped under `pending/` of the manifest bucket, for S3 notifications,
 * the schedule and pending continuations alike. Its job is one per bucket, key and version
 * (lib/triggers/pendingJobIdentity.ts), whatever delivers it. Claims the key (so overlapping runs
 * and duplicate notifications never run it twice at once), runs the job of the version it finds
 * (pinned to it for the job's life), then moves that version (lib/triggers/movePendingManifest.ts,
 * conditioned on it: a version uploaded meanwhile stays pending, a job of its own) to
 * `done/{jobId}/…` — or to `failed/{jobId}/…` with `rejected.json` when the job is refused as a
 * whole — and releases the claim. A job cut by the deadline queues its continuation
 * (`{"continuePending"}`) once the claim is released, on every stage; the schedule resumes it too.
 *
 * A run that takes up the key's current version (not a continuation) first ends the job of the
 * version the key was last taken up for (lib/triggers/pendingKeyJob.ts), when that one never ended:
 * replaced before anything resumed it, nothing else would.
 *
 * A version whose job failed `PENDING_MAX_FAILURES` times (errors and crashes alike,
 * lib/triggers/PendingFailures.ts) is quarantined: moved to `failed/` with a report saying so.
 *
 * An error other than a refusal leaves the manifest pending (claim released) and propagates, as
 * does a continuation that could not be queued: the work must not be acknowledged.
 *
 * @param owner - Who claims: the Lambda request id.
 */
export async function processPendingManifest(request: PendingManifestRequest, trigger: TriggerInfo, deps: CleanupDeps, budget: InvocationBudget, owner: string): Promise<PendingManifestOutcome> {
  const { config, s3, clock, logger } = deps;
  const layout = manifestLayout(config);
  const { bucket, key } = request;
  const refusal = refusedPendingKey(bucket, key, config);
  if (refusal !== undefined) {
    // Nothing is sent that names this key: with "." or ".." segments a request could reach another object.
    const { jobId } = pendingJobIdentity(bucket, key);
    logger.warn('pending manifest key refused; it is left as it is', { manifestKey: key, jobId, issues: refusal.issues });
    const report = await reportRefusal(deps, jobId, { ...trigger, manifest: s3Uri(bucket, key) }, refusal);
    return { status: 'refused', manifestKey: key, jobId, report, error: refusal.message, issues: refusal.issues };
  }
  const relative = key.slice(layout.pending.length);
  const claim = await claimLease({ s3, bucket, clock }, key, `${layout.claims}${relative}.claim`, { owner, expiresAt: budget.claimExpiresAt });
  if (claim === undefined) {
    logger.info('manifest claimed by another run; skipped', { manifestKey: key });
    return { status: 'skipped', manifestKey: key, reason: 'claimed_elsewhere' };
  }
  if (claim.tookOver) logger.warn('took over an expired claim', { manifestKey: key, claimKey: claim.claimKey });
  let outcome: PendingManifestOutcome;
  let version: ManifestVersion | undefined;
  try {
    // Listed (or notified) before we claimed: another run may have finished it since.
    version = request.version ?? (await currentManifestVersion(s3, s3Uri(bucket, key)));
    if (version === undefined) return { status: 'skipped', manifestKey: key, reason: 'not_pending' };
    const pending = { bucket, key, relative, version, identity: pendingJobIdentity(bucket, key, version) };
    // The key's current version taken up: an earlier version's job that never ended ends first.
    const cut = request.version === undefined ? await takeUp(pending, trigger, deps, budget) : undefined;
    // That job, resumed here, was cut again (no work queue to hand it to): the next run goes on with it, then with this version.
    if (cut !== undefined) return cut;
    const failures = await PendingFailures.read(s3, reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, pending.identity.jobId), clock);
    if (failures.count >= config.PENDING_MAX_FAILURES) {
      outcome = await quarantine(pending, failures, trigger, deps, owner);
    } else {
      await failures.begin(owner);
      try {
        outcome = await runPending(pending, trigger, deps, budget);
      } catch (error) {
        if (error instanceof JobValidationError) {
          outcome = await refused(pending, error, trigger, deps);
        } else if (error instanceof JobInProgressError) {
          // Not a failure of this manifest: its job is busy elsewhere (the work comes back).
          await failures.end(true);
          throw error;
        } else {
          await failures.fail(error).catch((failure: unknown) => logger.warn('failure of a pending manifest not counted', { manifestKey: key, error: failure as Error }));
          throw error;
        }
      }
      await failures.end(outcome.status === 'continuing');
    }
  } finally {
    // Only after the manifest left pending/: a run that claims it next finds it gone.
    await claim.release();
  }
  if (outcome.status !== 'continuing') return outcome;
  // After the claim is released, so the continuation finds the manifest free.
  const message: PendingContinuationMessage = { continuePending: { key, version } };
  const queued = await sendWorkMessage(deps, message, { jobId: outcome.jobId, resumeByHand: 'the next scheduled run resumes it' });
  logger.info('pending manifest paused at the deadline', { manifestKey: key, jobId: outcome.jobId, queued });
  return { ...outcome, queued };
}

// Before the key's current version runs: the job of the version the key was last taken up for, if
// it never ended (its run was cut or crashed, and the file was replaced before anything resumed
// it: a redelivered notification reads the key's current version), is ended or handed on — where
// the old version is kept (VersionId), its own continuation resumes it to its end; where it is
// gone, it is resumed here, which ends it at once with what it did (stopped_manifest_changed),
// without a request to ModelArts. Then the key points at this version's job.
async function takeUp(pending: Pending, trigger: TriggerInfo, deps: CleanupDeps, budget: InvocationBudget): Promise<PendingManifestOutcome | undefined> {
  const { s3, config, logger, clock } = deps;
  const pointer = await readUnfinishedKeyJob(s3, config, pending.bucket, pending.key);
  if (pointer !== undefined && pointer.jobId !== pending.identity.jobId) {
    const earlier: Pending = { ...pending, version: pointer.version, identity: { jobId: pointer.jobId, source: 'content_hash' } };
    logger.warn('an earlier version of this pending manifest has a job that never ended: it is ended first', { manifestKey: pending.key, jobId: pointer.jobId, version: pointer.version, current: pending.identity.jobId });
    const message: PendingContinuationMessage = { continuePending: { key: pending.key, version: pointer.version } };
    const queued = pointer.version.versionId !== undefined && (await sendWorkMessage(deps, message, { jobId: pointer.jobId, resumeByHand: 'the next scheduled run resumes it' }));
    if (!queued) {
      let outcome: PendingManifestOutcome;
      try {
        outcome = await runPending(earlier, trigger, deps, budget);
      } catch (error) {
        if (!(error instanceof JobValidationError)) throw error;
        outcome = await refused(earlier, error, trigger, deps);
      }
      if (outcome.status === 'continuing') return outcome;
    }
  }
  await writePendingKeyJob(s3, config, pending.bucket, pending.key, { jobId: pending.identity.jobId, version: pending.version, now: clock.now() });
  return undefined;
}

interface Pending {
  bucket: string;
  key: string;
  /** The key under `pending/`, kept under `done/{jobId}/` or `failed/{jobId}/`. */
  relative: string;
  version: ManifestVersion;
  identity: JobIdentity;
}

// The one job of this version: resumed from its checkpoint when an earlier run was cut.
async function runPending(pending: Pending, trigger: TriggerInfo, deps: CleanupDeps, budget: InvocationBudget): Promise<PendingManifestOutcome> {
  const { key, identity, version } = pending;
  const { summary } = await runCleanupJob(jobOf(pending), trigger, deps, budget, { access: { allowPending: true }, continuation: false, identity, manifestVersion: version });
  // A split job's parts read their own manifests, never this one again: it moves now, its summary follows.
  if (summary.status === 'continuing' && summary.scaleOut === undefined) {
    return { status: 'continuing', manifestKey: key, jobId: identity.jobId, resumeAfter: summary.continuation?.resumeAfter ?? 0, queued: false };
  }
  const moved = await move(pending, deps, manifestLayout(deps.config).done, summary.report.summary);
  return { status: 'done', manifestKey: key, jobId: identity.jobId, report: summary.report.summary, ...moved };
}

// Refused as a whole: nothing was deleted; the report says why, and the version moves to failed/.
async function refused(pending: Pending, error: JobValidationError, trigger: TriggerInfo, deps: CleanupDeps): Promise<PendingManifestOutcome> {
  const { jobId } = pending.identity;
  deps.logger.warn('pending manifest refused', { manifestKey: pending.key, jobId, code: error.code, issues: error.issues });
  const report = await reportRefusal(deps, jobId, { ...trigger, manifest: s3Uri(pending.bucket, pending.key) }, error);
  const moved = await move(pending, deps, manifestLayout(deps.config).failed, report);
  return { status: 'failed', manifestKey: pending.key, jobId, report, error: error.message, ...moved };
}

// Failed too often: not run again. A job that ended meanwhile moves to done/; one that had started
// ends with what it did (the rest failed, QUARANTINED); one that had not is answered with rejected.json.
async function quarantine(pending: Pending, failures: PendingFailures, trigger: TriggerInfo, deps: CleanupDeps, owner: string): Promise<PendingManifestOutcome> {
  const { config, s3, logger } = deps;
  const { identity, key } = pending;
  const location = reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, identity.jobId);
  const layout = manifestLayout(config);
  const ended = await readJobSummary(s3, location);
  if (ended !== undefined) {
    const moved = await move(pending, deps, layout.done, ended.report.summary);
    await failures.end(false);
    return { status: 'done', manifestKey: key, jobId: identity.jobId, report: ended.report.summary, ...moved };
  }
  const message = `its job failed ${failures.count} times (PENDING_MAX_FAILURES is ${config.PENDING_MAX_FAILURES}), last: ${failures.lastError ?? 'unknown'}; quarantined in failed/ so it is not retried: fix the cause and drop the file in pending/ again`;
  logger.error('pending manifest quarantined', { manifestKey: key, jobId: identity.jobId, failures: failures.count, lastError: failures.lastError });
  let report: string | undefined;
  if ((await readCheckpoint(s3, location.bucket, location.checkpointKey)) !== undefined) {
    const finished = await finishAbandonedJob({ input: jobOf(pending), trigger, access: { allowPending: true }, identity, manifestVersion: pending.version }, { cause: 'quarantined', code: 'QUARANTINED', reason: `quarantined: ${message}` }, deps, owner);
    if (finished.kind === 'finished' || finished.kind === 'complete') report = finished.summary.report.summary;
  }
  // The record is written at the first claim, before any delete: with one and nothing saved, a run may have deleted some IDs.
  const said = (await readJobRecord(s3, location)) === undefined ? `${message}; no run took it up, so nothing of it was deleted` : `${message}; a run took it up and saved nothing, so it may have deleted some IDs: dropping the file again settles them (IDs gone end already_deleted)`;
  report ??= await reportRefusal(deps, identity.jobId, { ...trigger, manifest: s3Uri(pending.bucket, key) }, { code: 'QUARANTINED', message: `Quarantined: ${said}`, issues: [{ path: 'manifest', message: said }] });
  const moved = await move(pending, deps, layout.failed, report);
  await failures.end(false);
  return { status: 'failed', manifestKey: key, jobId: identity.jobId, report, error: message, ...moved };
}

async function move(pending: Pending, deps: CleanupDeps, folder: string, report: string): Promise<{ movedTo?: string }> {
  const destination = `${folder}${pending.identity.jobId}/${pending.relative}`;
  const moved = await movePendingManifest(deps.s3, pending.bucket, pending.key, pending.version, destination, report);
  if (moved.moved) return { movedTo: moved.to };
  deps.logger.warn('the version that ran was replaced meanwhile: nothing moved; the new version is a job of its own', { manifestKey: pending.key, jobId: pending.identity.jobId, report });
  return {};
}

function jobOf(pending: Pending): { manifest: string } {
  return { manifest: s3Uri(pending.bucket, pending.key) };
}
