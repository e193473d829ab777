import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'csv-stringify/sync';
import { ReportWriteError } from './errors.js';
import { s3Uri, type JobSummary, type ReportLocation } from './jobSummary.js';
import type { OutcomeRecord } from './outcome.js';

/** Columns of `failed.csv`; `image_id` first so the file is a manifest for a re-run. */
export const FAILED_CSV_COLUMNS = ['image_id', 'outcome', 'error_code', 'error_message', 'position'] as const;

/** Renders `failed.csv`: a header, then one row per failed or invalid entry. */
export function renderFailedCsv(failures: readonly OutcomeRecord[]): string {
  const rows = failures.map((record) => [record.imageId, record.outcome, record.errorCode ?? '', record.errorMessage ?? '', record.position]);
  return stringify([[...FAILED_CSV_COLUMNS], ...rows]);
}

/**
 * Writes a job's report to S3: `failed.csv` first, then `summary.json`, so a summary present
 * means the report is complete.
 *
 * @throws {ReportWriteError} when S3 refuses either object.
 */
export async function writeReport(s3: S3Client, location: ReportLocation, summary: JobSummary, failures: readonly OutcomeRecord[]): Promise<void> {
  const put = async (key: string, body: string, contentType: string) => {
    try {
      await s3.send(new PutObjectCommand({ Bucket: location.bucket, Key: key, Body: body, ContentType: contentType }));
    } catch (error) {
      throw new ReportWriteError(s3Uri(location.bucket, key), error);
    }
  };
  await put(location.failedKey, renderFailedCsv(failures), 'text/csv; charset=utf-8');
  await put(location.summaryKey, `${JSON.stringify(summary, null, 2)}\n`, 'application/json');
}
