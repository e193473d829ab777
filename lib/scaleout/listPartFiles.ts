import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ScaleOutLayout } from './scaleOutLayout.js';

/**
 * Finds which parts of a split job have a file named `name` (e.g. `summary.json`) in their report
 * folder, listing the parts prefix page by page.
 *
 * @returns part number → key.
 */
export async function listPartFiles(s3: S3Client, layout: ScaleOutLayout, name: string): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  const pattern = new RegExp(`^part-(\\d+)/${name.replace(/[.]/g, '\\.')}$`);
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: layout.job.bucket, Prefix: layout.partsPrefix, ...(token === undefined ? {} : { ContinuationToken: token }) }));
    for (const object of page.Contents ?? []) {
      const match = pattern.exec((object.Key ?? '').slice(layout.partsPrefix.length));
      if (match !== null && Number(match[1]) >= 1) found.set(Number(match[1]), object.Key as string);
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return found;
}
