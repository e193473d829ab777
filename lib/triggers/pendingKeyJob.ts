import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { readS3Json } from '../aws/readS3Json.js';
import { s3Uri } from '../aws/s3Uri.js';
import { writeS3Json } from '../aws/writeS3Json.js';
import type { Config } from '../config/config.js';
import { manifestVersionSchema, type ManifestVersion } from '../job/jobRecord.js';
import { reportLocation } from '../report/ReportLocation.js';
import { pendingJobIdentity } from './pendingJobIdentity.js';

const pointerSchema = z.object({
  formatVersion: z.literal(1),
  manifest: z.string(),
  jobId: z.string(),
  version: manifestVersionSchema,
  takenUpAt: z.iso.datetime(),
});

/** The job a pending manifest's key was last taken up for, and the version it runs. */
export type PendingKeyJob = z.infer<typeof pointerSchema>;

/**
 * Where the key's pointer lives: `key.json` in the key's own report folder — `pending-` and a hash
 * of the bucket and key with no version (lib/triggers/pendingJobIdentity.ts), the folder no
 * version's job uses — in the report bucket, so it lives as long as the reports it points at.
 */
function pointerLocation(config: Pick<Config, 'REPORT_BUCKET' | 'REPORT_PREFIX'>, bucket: string, key: string): { bucket: string; key: string } {
  const folder = reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, pendingJobIdentity(bucket, key).jobId);
  return { bucket: folder.bucket, key: `${folder.prefix}key.json` };
}

/**
 * The job the key was last taken up for, when it never ended: its record written (an invocation
 * took it up), and neither a summary nor `rejected.json`. A run that takes up another version of
 * the key ends it first: its version was replaced before anything resumed it.
 *
 * @returns undefined when no run took the key up yet (or before the pointer existed), or its job ended.
 */
export async function readUnfinishedKeyJob(s3: S3Client, config: Pick<Config, 'REPORT_BUCKET' | 'REPORT_PREFIX'>, bucket: string, key: string): Promise<PendingKeyJob | undefined> {
  const where = pointerLocation(config, bucket, key);
  const pointer = await readS3Json(s3, where.bucket, where.key, pointerSchema);
  if (pointer === undefined) return undefined;
  const { bucket: reports, prefix } = reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, pointer.jobId);
  // Whether each is there, not what it says: the job's own run reads (and checks) them.
  const present = async (name: string) => (await readS3Json(s3, reports, `${prefix}${name}`, z.unknown())) !== undefined;
  if (!(await present('job.json')) || (await present('summary.json')) || (await present('rejected.json'))) return undefined;
  return pointer;
}

/**
 * Records that the key is taken up for this version's job. Written under the key's claim, by the
 * run that takes up the key's current version, before that job is claimed: so at most one
 * version's job of a key is ever unfinished and unknown to the next run.
 */
export async function writePendingKeyJob(s3: S3Client, config: Pick<Config, 'REPORT_BUCKET' | 'REPORT_PREFIX'>, bucket: string, key: string, job: { jobId: string; version: ManifestVersion; now: number }): Promise<void> {
  const where = pointerLocation(config, bucket, key);
  const pointer: PendingKeyJob = { formatVersion: 1, manifest: s3Uri(bucket, key), jobId: job.jobId, version: job.version, takenUpAt: new Date(job.now).toISOString() };
  await writeS3Json(s3, where.bucket, where.key, pointer);
}
