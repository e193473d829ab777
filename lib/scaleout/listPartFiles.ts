import type { S3Client } from '@aws-sdk/client-s3';
import { listKeys } from '../aws/listKeys.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';

/**
 * Finds which parts of a split job have a file named `name` (e.g. `summary.json`) in their report
 * folder, listing the parts prefix.
 *
 * @returns part number → key.
 */
export async function listPartFiles(s3: S3Client, layout: ScaleOutLayout, name: string): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  const pattern = new RegExp(`^part-(\\d+)/${name.replace(/[.]/g, '\\.')}$`);
  for await (const key of listKeys(s3, layout.job.bucket, layout.partsPrefix)) {
    const match = pattern.exec(key.slice(layout.partsPrefix.length));
    if (match !== null && Number(match[1]) >= 1) found.set(Number(match[1]), key);
  }
  return found;
}
