import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { jobIdSourceSchema, triggerInfoSchema } from '../report/jobSummary.js';
import { DELETE_OUTCOMES, type DeleteOutcome } from '../pipeline/outcome.js';
import { readS3Json } from '../aws/readS3Json.js';
import { writeS3Json } from '../aws/writeS3Json.js';

const count = z.number().int().min(0);

/**
 * What a job cut by the Lambda deadline saved, so a later invocation goes on where it stopped:
 * the job itself, how far it got (every entry up to `resumeAfter` has its outcome), and the
 * figures so far. Stored as `checkpoint.json` in the job's report folder.
 */
export const jobCheckpointSchema = z.object({
  formatVersion: z.literal(1),
  jobId: z.string(),
  jobIdSource: jobIdSourceSchema,
  /** The job as it was given, to run it again in the continuation. */
  job: z.unknown(),
  trigger: triggerInfoSchema,
  manifestETag: z.string().optional(),
  resumeAfter: count,
  /** Invocations finished so far, and so the number of part files written. */
  invocations: z.number().int().min(1),
  counts: z.object(Object.fromEntries(DELETE_OUTCOMES.map((outcome) => [outcome, count])) as Record<DeleteOutcome, typeof count>),
  normalized: count,
  stats: z.object({ requests: count, retries: count, throttled: count }),
  threshold: z.object({ attempted: count, failed: count }),
  /** The not-found threshold's counts (lib/pipeline/NotFoundThreshold.ts); absent in checkpoints written before it existed. */
  notFoundThreshold: z.object({ attempted: count, notFound: count }).optional(),
  /** An invocation of this job crashed before its first checkpoint: the not-found threshold stays off for the job's life (lib/job/runJob.ts). */
  afterCrash: z.boolean().optional(),
  /** An invocation resumed from this checkpoint and has not saved since: what it deleted past `resumeAfter` is unconfirmed until it does. */
  attemptOpen: z.boolean().optional(),
  latency: z.object({ buckets: z.array(count), count, maxMs: z.number() }),
  startedAt: z.number(),
});

/** A saved checkpoint. */
export type JobCheckpoint = z.infer<typeof jobCheckpointSchema>;

/** Reads a job's checkpoint; undefined when the job has none (it never was cut). */
export async function readCheckpoint(s3: S3Client, bucket: string, key: string): Promise<JobCheckpoint | undefined> {
  return readS3Json(s3, bucket, key, jobCheckpointSchema);
}

/** Saves a job's checkpoint (replacing the previous one). */
export async function writeCheckpoint(s3: S3Client, bucket: string, key: string, checkpoint: JobCheckpoint): Promise<void> {
  await writeS3Json(s3, bucket, key, checkpoint);
}
