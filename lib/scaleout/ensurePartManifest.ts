import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { isS3NotFound } from '../aws/isS3NotFound.js';
import { S3TextWriter } from '../aws/S3TextWriter.js';
import { s3Uri } from '../aws/s3Uri.js';
import { CleanupError } from '../core/errors.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';
import type { ScaleOutPlan } from './scaleOutPlanSchema.js';

/** What {@link ensurePartManifest} found or did. */
export type PartManifestState =
  /** The plan wrote its part manifests whole (a plan from before hash partitioning). */
  | 'whole'
  /** The part ended already (its summary is there): its manifest is not needed, and may be gone with its segments. */
  | 'part_ended'
  /** The part manifest was there. */
  | 'present'
  /** It was built now from its segments. */
  | 'built';

/**
 * Makes sure a part's manifest (`plan/part-0001.jsonl`) is one object before the part is prepared
 * — its job record pins that object's ETag — building it from its hash slot's segments
 * (`plan/slot-0001/w-00001.jsonl` …) in window order: the part's IDs in manifest-line order.
 * Idempotent: an object already there is left alone, and a build run twice (the part's worker and
 * the dead-letter handler at once, say) writes the same bytes in the same 5 MiB parts, so the same
 * ETag. The segments stay until the job is assembled (lib/scaleout/completeScaleOutJob.ts).
 *
 * @throws {CleanupError} `PART_MANIFEST_INCOMPLETE` when the segments hold another number of lines
 *   than the plan says (a segment lost): nothing is written, and the part's message comes back.
 */
export async function ensurePartManifest(plan: ScaleOutPlan, part: number, layout: ScaleOutLayout, s3: S3Client): Promise<PartManifestState> {
  const entry = plan.parts[part - 1];
  if (entry?.slot === undefined || plan.windows === undefined) return 'whole';
  const { bucket } = layout.job;
  if (await exists(s3, bucket, layout.partLocation(part).summaryKey)) return 'part_ended';
  if (await exists(s3, bucket, entry.key)) return 'present';
  const writer = new S3TextWriter(s3, bucket, entry.key, 'application/x-ndjson');
  let lines = 0;
  try {
    for (let window = 1; window <= plan.windows; window += 1) {
      const segment = await openSegment(s3, bucket, layout.segmentKey(entry.slot, window));
      if (segment === undefined) continue; // the slot got no ID in this window
      for await (const chunk of segment as AsyncIterable<Buffer>) {
        for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines += 1;
        await writer.writeBytes(chunk);
      }
    }
  } catch (error) {
    await writer.abort();
    throw error;
  }
  if (lines !== entry.entries) {
    await writer.abort();
    throw new CleanupError('PART_MANIFEST_INCOMPLETE', `part ${part} of job ${plan.jobId}: its segments (${s3Uri(bucket, layout.segmentKey(entry.slot, 1)).replace(/w-\d+\.jsonl$/, '')}) hold ${lines} lines, the plan says ${entry.entries}; ${s3Uri(bucket, entry.key)} is not written`);
  }
  await writer.close();
  return 'built';
}

async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isS3NotFound(error)) return false;
    throw error;
  }
}

async function openSegment(s3: S3Client, bucket: string, key: string): Promise<Readable | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return object.Body as Readable;
  } catch (error) {
    if (isS3NotFound(error)) return undefined;
    throw error;
  }
}
