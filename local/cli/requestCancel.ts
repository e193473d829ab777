import type { S3Client } from '@aws-sdk/client-s3';
import { writeS3Json } from '../../lib/aws/writeS3Json.js';
import { cancelRequestKey, cancelRequestSchema, readCancelRequest, type CancelRequest } from '../../lib/job/cancelRequest.js';
import type { ReportLocation } from '../../lib/report/ReportLocation.js';

/**
 * Writes a job's cancel request (lib/job/cancelRequest.ts) unless one stands already (a
 * conditional write: two operators cancelling at once make one request). The functions only read
 * it: the operator's command is its one writer.
 *
 * @returns the request that stands, and whether it is this one.
 */
export async function requestCancel(s3: S3Client, location: Pick<ReportLocation, 'bucket' | 'prefix'>, request: CancelRequest): Promise<{ request: CancelRequest; written: boolean }> {
  const written = await writeS3Json(s3, location.bucket, cancelRequestKey(location), cancelRequestSchema.parse(request), { ifNoneMatch: true });
  if (written) return { request, written };
  return { request: (await readCancelRequest(s3, location)) ?? request, written };
}
