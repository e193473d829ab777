import { readS3Json } from '../aws/readS3Json.js';
import { JobValidationError } from '../core/errors.js';
import { parseCleanupJob } from '../job/cleanupJob.js';
import { readCheckpoint } from '../job/jobCheckpoint.js';
import type { JobIdentity } from '../job/jobIdentity.js';
import { checkSameJob, jobContent, readJobRecord } from '../job/jobRecord.js';
import type { JobRequest } from '../job/prepareJob.js';
import type { CleanupDeps } from '../job/types.js';
import type { JobSummary } from '../report/jobSummary.js';
import { readJobSummary } from '../report/readJobSummary.js';
import { reportLocation } from '../report/ReportLocation.js';
import { scaleOutLayout } from '../scaleout/scaleOutLayout.js';
import { scaleOutPlanSchema } from '../scaleout/scaleOutPlanSchema.js';
import { finishAbandonedJob, type AbandonCause } from './finishAbandonedJob.js';
import { giveUpPart } from './giveUpPart.js';
import { reportRefusal } from './reportRefusal.js';

/** What giving a job up left as its report. */
export type GiveUpOutcome =
  /** It had its summary (it ended, or its split job's last part did): nothing written. */
  | { kind: 'complete'; summary: JobSummary }
  /** Its summary is written now: what it did, the entries not reached `failed`. */
  | { kind: 'finished'; summary: JobSummary }
  /** A split job whose parts are all queued: each part ends by itself (or by its own dead letter). */
  | { kind: 'split'; parts: number }
  /** Nothing is known of what it did (no checkpoint, or its entries cannot be listed): `rejected.json` says so. */
  | { kind: 'reported'; report: string };

/**
 * Gives up a job that will not run again (its message reached the dead-letter queue): it ends with
 * the most truthful report there can be. A summary already there stands. A split job whose parts
 * were not all queued has each of its unfinished parts given up (lib/triggers/giveUpPart.ts), so it
 * completes. A job with a checkpoint ends with what it did and its entries not reached `failed`
 * (lib/triggers/finishAbandonedJob.ts). A job with neither — it never got past its first invocation,
 * which may have deleted some IDs before it failed — is answered with `rejected.json`, code
 * `why.code`, saying how to get its full report: send it again (IDs already gone end `already_deleted`).
 *
 * First of all, the message is checked against the job record under its id (lib/job/jobRecord.ts):
 * a message that is not the job recorded there (another job sent under the same `jobId`) never ran
 * — every invocation of it was refused before its claim — so nothing of the recorded job is
 * touched: it is answered with `rejected.json`, `JOB_ID_CONFLICT`, in `refusalJobId`'s folder (the
 * message's own, `msg-{messageId}`, as the work queue's refusals are), never in the other job's.
 *
 * @param refusalJobId - For a message that carries its job (not a continuation or a pending version,
 *   which are read from the job's own checkpoint or key): the report folder of its refusal when
 *   its id names another job. Unset, the message is not checked.
 * @throws {JobInProgressError} when the job (or a part) runs in another invocation (try again later).
 */
export async function giveUpJob(request: JobRequest & { identity: JobIdentity }, why: AbandonCause, deps: CleanupDeps, owner: string, refusalJobId?: string): Promise<GiveUpOutcome> {
  const { config, s3 } = deps;
  const location = request.location ?? reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, request.identity.jobId);
  const conflict = refusalJobId === undefined ? undefined : await otherJob(request, deps, location);
  if (conflict !== undefined && refusalJobId !== undefined) {
    const report = await reportRefusal(deps, refusalJobId, request.trigger, { code: conflict.code, message: `Dead-lettered, and refused: ${conflict.message}`, issues: conflict.issues });
    deps.logger.error('dead letter names another job under its id: refused, the job recorded there is left as it is', { jobId: request.identity.jobId, report, issues: conflict.issues });
    return { kind: 'reported', report };
  }
  const existing = await readJobSummary(s3, location);
  if (existing !== undefined) return { kind: 'complete', summary: existing };

  const layout = scaleOutLayout(location);
  const plan = await readS3Json(s3, location.bucket, layout.planKey, scaleOutPlanSchema);
  if (plan !== undefined) {
    if (plan.queued) return { kind: 'split', parts: plan.parts.length };
    let summary: JobSummary | undefined;
    for (const { part } of plan.parts) {
      const given = await giveUpPart(plan.jobId, part, why, request.trigger, deps, owner, plan);
      if (given.kind === 'settled' && (given.completion.kind === 'assembled' || given.completion.kind === 'already_complete')) summary = given.completion.summary;
    }
    // Another invocation assembling the job writes its summary: never a rejected.json beside it.
    return summary === undefined ? { kind: 'split', parts: plan.parts.length } : { kind: 'finished', summary };
  }

  // The record is written at the first claim, before any delete: without one, nothing of the job was deleted.
  let unknown = (await readJobRecord(s3, location)) === undefined
    ? 'no invocation took it up (it has no job record), so nothing of it was deleted'
    : 'no invocation saved a checkpoint or a summary, so what it did is not recorded: one that was cut short (see the logs) may have deleted some IDs';
  if ((await readCheckpoint(s3, location.bucket, location.checkpointKey)) !== undefined) {
    const finished = await finishAbandonedJob({ ...request, location }, why, deps, owner);
    if (finished.kind === 'finished' || finished.kind === 'complete') return { kind: finished.kind, summary: finished.summary };
    if (finished.kind === 'unreadable') unknown = `its checkpoint is kept, but its entries can no longer be read (${finished.error.message}), so the ones not reached cannot be listed`;
  }
  const message = `${why.reason}; ${unknown}. Send the job again to get its full report (IDs already gone end already_deleted)`;
  const report = await reportRefusal(deps, request.identity.jobId, request.trigger, { code: why.code, message: `Given up: ${message}`, issues: [{ path: '', message }] });
  deps.logger.error('job given up without a checkpoint: rejected.json says so', { jobId: request.identity.jobId, report });
  return { kind: 'reported', report };
}

// The refusal when the message is not the job recorded under its id (or is no valid job at all,
// where a record stands: the recorded one was); undefined when it is that job, or none is recorded.
async function otherJob(request: JobRequest, deps: CleanupDeps, location: ReturnType<typeof reportLocation>): Promise<JobValidationError | undefined> {
  const record = await readJobRecord(deps.s3, location);
  if (record === undefined) return undefined;
  try {
    checkSameJob(record, record.jobId, jobContent(parseCleanupJob(request.input)), request.manifestVersion);
    return undefined;
  } catch (error) {
    if (error instanceof JobValidationError) return error;
    throw error;
  }
}
