import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { readS3Json } from '../aws/readS3Json.js';
import { jobSummarySchema, type JobSummary } from './jobSummary.js';
import type { ReportLocation } from './ReportLocation.js';

/**
 * Reads a job's `summary.json`; undefined when there is none. A summary of another format version
 * is not this job's report either: the job runs (IDs already gone end `already_deleted`), and its
 * report replaces the old one.
 */
export async function readJobSummary(s3: S3Client, location: Pick<ReportLocation, 'bucket' | 'summaryKey'>): Promise<JobSummary | undefined> {
  const stored = await readS3Json(s3, location.bucket, location.summaryKey, z.unknown());
  if (stored === undefined) return undefined;
  const parsed = jobSummarySchema.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
}
