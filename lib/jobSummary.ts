import type { LimiterSummary } from './adaptiveLimiter.js';
import type { CleanupTarget } from './cleanupJob.js';
import type { OutcomeCounts } from './outcome.js';

/** Version of the `summary.json` format; raised on any incompatible change. */
export const SUMMARY_FORMAT_VERSION = 1;

/** What started a job, and from where. */
export interface TriggerInfo {
  type: 'manual' | 'queue' | 'schedule';
  /** What started the job: the SQS message id (queue), the schedule time in ISO 8601 (schedule), the Lambda request id (manual). */
  source?: string;
  /** `s3://bucket/key` of the manifest the IDs came from, when they came from one. */
  manifest?: string;
}

/** Where a job's report lives in S3. */
export interface ReportLocation {
  bucket: string;
  /** Key prefix of the job's folder, ending in `/`. */
  prefix: string;
  summaryKey: string;
  failedKey: string;
}

/** Contents of `summary.json`. Documented in the README. */
export interface JobSummary {
  formatVersion: typeof SUMMARY_FORMAT_VERSION;
  jobId: string;
  trigger: TriggerInfo;
  target: CleanupTarget;
  /** `completed`: every ID deleted or already gone; `completed_with_failures`: some failed or were invalid. */
  status: 'completed' | 'completed_with_failures';
  /** `received` equals the sum of the outcome counts. */
  counts: { received: number } & OutcomeCounts;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  requests: number;
  retries: number;
  throttled: number;
  /** The adaptive limiter over the job: limits (requests in flight) at start and end, floor, ceiling, lowest, highest, throttle signals, decreases, final pacing. */
  limiter?: LimiterSummary;
  options: { chunkSize: number; maxInFlight: number; maxAttempts: number };
  report: { summary: string; failed: string };
}

/** Builds the S3 keys of a job's report folder. */
export function reportLocation(bucket: string, prefix: string, jobId: string): ReportLocation {
  const folder = `${prefix}${jobId}/`;
  return { bucket, prefix: folder, summaryKey: `${folder}summary.json`, failedKey: `${folder}failed.csv` };
}

/** `s3://bucket/key` for a key of a report. */
export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
