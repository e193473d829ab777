import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { readS3Json } from '../aws/readS3Json.js';
import type { JobStop } from '../report/jobSummary.js';
import type { ReportLocation } from '../report/ReportLocation.js';

/** The name of a job's cancel request in its report folder (a split job's parts read their job's). */
export const CANCEL_REQUEST_NAME = 'cancel.json';

/**
 * `cancel.json`: an operator asked the job to stop (`image-cleanup cancel`). Every invocation that
 * runs the job, and every part of a split job, looks for it before its first delete and then every
 * `CANCEL_CHECK_MS` while it runs; seen, it starts no new request and settles the entries it did
 * not attempt `skipped` (`CANCELLED`). Written once (`If-None-Match: *`): the first request stands.
 */
export const cancelRequestSchema = z.object({
  formatVersion: z.literal(1),
  jobId: z.string(),
  requestedAt: z.iso.datetime(),
  requestedBy: z.string().optional().describe('who asked: the operator\'s user and host, or the AWS identity'),
  reason: z.string().optional().describe('why, in the operator\'s words'),
});

/** Contents of `cancel.json`. */
export type CancelRequest = z.infer<typeof cancelRequestSchema>;

/** The key of a job's cancel request. */
export function cancelRequestKey(location: Pick<ReportLocation, 'prefix'>): string {
  return `${location.prefix}${CANCEL_REQUEST_NAME}`;
}

/** Reads a job's cancel request; undefined when none was made. */
export function readCancelRequest(s3: S3Client, location: Pick<ReportLocation, 'bucket' | 'prefix'>): Promise<CancelRequest | undefined> {
  return readS3Json(s3, location.bucket, cancelRequestKey(location), cancelRequestSchema);
}

/**
 * The stop of a cancelled job: when it was asked, by whom, and what it cost.
 *
 * @param skipped - The entries settled `skipped` (`CANCELLED`), with their lines in the report files.
 * @param more - `notReached`: entries counted skipped with no line (a job cancelled while it was
 *   being split: its IDs were never listed); `parts`: a split job's parts the cancel stopped, of all.
 */
export function cancelledStop(request: CancelRequest, skipped: number, more: { notReached?: number; parts?: { stopped: number; total: number } } = {}): Extract<JobStop, { kind: 'cancelled' }> {
  const { notReached, parts } = more;
  const asked = `cancelled at ${request.requestedAt}${request.requestedBy === undefined ? '' : ` by ${request.requestedBy}`}${request.reason === undefined ? '' : ` (${request.reason})`}`;
  const cost = notReached === undefined
    ? `${parts === undefined ? '' : `${parts.stopped} of ${parts.total} parts stopped, `}${skipped} IDs not attempted are skipped (CANCELLED), each with its line in results.jsonl.gz`
    : `while the job was being split: nothing was deleted, and its ${notReached} entries are skipped (CANCELLED) with no line in the report files (re-run the manifest itself to delete them)`;
  return {
    kind: 'cancelled',
    reason: `${asked}: ${cost}`,
    requestedAt: request.requestedAt,
    ...(request.requestedBy === undefined ? {} : { requestedBy: request.requestedBy }),
    ...(parts === undefined ? {} : { parts: parts.stopped }),
    ...(notReached === undefined ? {} : { notReached }),
  };
}
