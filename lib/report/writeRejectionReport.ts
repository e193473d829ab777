import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { JobValidationError } from '../core/errors.js';
import { ReportWriteError } from '../core/errors.js';
import { SUMMARY_FORMAT_VERSION, type TriggerInfo } from './jobSummary.js';
import { s3Uri } from '../aws/s3Uri.js';

/** Contents of `rejected.json`: a job refused as a whole, before anything was deleted. */
export interface RejectionReport {
  formatVersion: typeof SUMMARY_FORMAT_VERSION;
  jobId: string;
  trigger: TriggerInfo;
  status: 'rejected';
  error: { code: string; message: string; issues: JobValidationError['issues'] };
  rejectedAt: string;
}

/**
 * Writes the report of a job that was refused as a whole (`{prefix}{jobId}/rejected.json`), for
 * triggers with no caller to answer: a pending manifest moved to `failed/` is never left without
 * a report saying why.
 *
 * @returns the report's `s3://` URI.
 * @throws {ReportWriteError} when S3 refuses it.
 */
export async function writeRejectionReport(s3: S3Client, bucket: string, prefix: string, report: RejectionReport): Promise<string> {
  const key = `${prefix}${report.jobId}/rejected.json`;
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${JSON.stringify(report, null, 2)}\n`, ContentType: 'application/json' }));
  } catch (error) {
    throw new ReportWriteError(s3Uri(bucket, key), error);
  }
  return s3Uri(bucket, key);
}
