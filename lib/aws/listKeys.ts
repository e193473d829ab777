import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';

/**
 * The keys under a prefix, page by page (the SDK's own ListObjectsV2 paginator), read only as they
 * are needed; "folder" placeholders (keys ending in `/`) are left out.
 */
export async function* listKeys(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<string> {
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined && !object.Key.endsWith('/')) yield object.Key;
    }
  }
}
