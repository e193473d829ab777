import type { S3Client } from '@aws-sdk/client-s3';
import { listKeys } from '../aws/listKeys.js';
import { deleteKeys } from './deleteKeys.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';

/**
 * Deletes what a split job's plan folder holds — its part manifests and their segments, which
 * repeat the manifest's IDs — once the final report has them all. `plan.json` stays (beside it).
 */
export async function deletePlanFiles(s3: S3Client, layout: ScaleOutLayout): Promise<void> {
  const keys: string[] = [];
  for await (const key of listKeys(s3, layout.job.bucket, layout.planPrefix)) keys.push(key);
  await deleteKeys(s3, layout.job.bucket, keys);
}
