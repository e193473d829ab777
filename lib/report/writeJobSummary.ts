import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { writeS3Json } from '../aws/writeS3Json.js';
import { s3Uri } from '../aws/s3Uri.js';
import { ReportWriteError } from '../core/errors.js';
import type { JobSummary } from './jobSummary.js';
import type { ReportLocation } from './ReportLocation.js';

/**
 * Writes a job's `summary.json`, last of its report.
 *
 * @throws {ReportWriteError} when S3 refuses it; the summary is logged whole first, since the
 *   delete calls cannot be undone and what happened must survive somewhere.
 */
export async function writeJobSummary(s3: S3Client, location: Pick<ReportLocation, 'bucket' | 'summaryKey'>, summary: JobSummary, logger: Pick<Logger, 'error'>): Promise<void> {
  try {
    await writeS3Json(s3, location.bucket, location.summaryKey, summary);
  } catch (error) {
    logger.error('summary not written; it follows', { summary, error: error as Error });
    throw new ReportWriteError(s3Uri(location.bucket, location.summaryKey), error);
  }
}
