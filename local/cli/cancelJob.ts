import { hostname, userInfo } from 'node:os';
import { z } from 'zod';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import type { CancelRequest } from '../../lib/job/cancelRequest.js';
import { requestCancel } from './requestCancel.js';
import { readJobRecord } from '../../lib/job/jobRecord.js';
import { readJobSummary } from '../../lib/report/readJobSummary.js';
import { reportLocation, type ReportLocation } from '../../lib/report/ReportLocation.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import type { OperatorEnvironment } from './operatorEnvironment.js';

/** What `cancel` found and did. */
export type CancelOutcome =
  /** The request is written (or stood already): the job stops within `CANCEL_CHECK_MS` of its next look. */
  | { kind: 'requested'; request: CancelRequest; written: boolean; started: boolean; text: string }
  /** The job had ended (or was rejected) before the cancel: nothing changed. */
  | { kind: 'ended'; status: string; text: string };

const rejected = z.object({ status: z.literal('rejected') }).passthrough();

/**
 * `image-cleanup cancel`: asks a job to stop by writing its `cancel.json` (lib/job/cancelRequest.ts,
 * a conditional write: the first request stands). A job that has ended — a final `summary.json`,
 * or `rejected.json` — is left as it is: nothing is written. A job with no record yet (its message
 * still waits on the queue) gets the request too: it is then cancelled before its first delete.
 * The summary is read again after the write: a job that ended meanwhile is reported as ended.
 */
export async function cancelJob(jobId: string, where: OperatorEnvironment, options: { reason?: string; now: number }): Promise<CancelOutcome> {
  const { s3 } = where;
  const location = reportLocation(where.env.REPORT_BUCKET as string, where.env.REPORT_PREFIX ?? 'reports/', jobId);
  const ended = await endedAs(where, location);
  if (ended !== undefined) return { kind: 'ended', status: ended, text: `job ${jobId} ended already (${ended}): nothing to cancel, nothing changed` };
  const started = (await readJobRecord(s3, location)) !== undefined;
  const { request, written } = await requestCancel(s3, location, {
    formatVersion: 1,
    jobId,
    requestedAt: new Date(options.now).toISOString(),
    requestedBy: requester(),
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  });
  const after = await readJobSummary(s3, location);
  if (after !== undefined && after.status !== 'cancelled') return { kind: 'ended', status: after.status, text: `job ${jobId} ended (${after.status}) before the cancel was seen: nothing was cancelled` };
  const asked = written ? `cancel requested for job ${jobId} at ${request.requestedAt}` : `a cancel was requested for job ${jobId} already, at ${request.requestedAt}${request.requestedBy === undefined ? '' : ` by ${request.requestedBy}`}`;
  const next = started
    ? 'each invocation and part running it starts no new delete request once it sees the request (within seconds), and the entries not attempted end skipped (CANCELLED)'
    : 'it has not started yet (no record): it is cancelled when it starts, before any delete';
  return { kind: 'requested', request, written, started, text: `${asked}; ${next}. Follow it: image-cleanup status ${jobId} --watch` };
}

// How the job ended, when it has: its final summary's status, or rejected.
async function endedAs(where: OperatorEnvironment, location: ReportLocation): Promise<JobSummary['status'] | 'rejected' | undefined> {
  const summary = await readJobSummary(where.s3, location);
  if (summary !== undefined) return summary.status;
  const rejection = await readS3Json(where.s3, location.bucket, `${location.prefix}rejected.json`, rejected);
  return rejection === undefined ? undefined : 'rejected';
}

// Who asks, as far as this machine knows: the summary names them.
function requester(): string | undefined {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return undefined;
  }
}
