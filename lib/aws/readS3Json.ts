import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { isS3NotFound } from './isS3NotFound.js';

/**
 * Reads a small JSON object from S3 and checks it with a schema; undefined when there is no such
 * key (S3 answers 404 when the caller may list the bucket).
 *
 * @throws the schema's error when the object is not what it should be.
 */
export async function readS3Json<T extends z.ZodType>(s3: S3Client, bucket: string, key: string, schema: T): Promise<z.output<T> | undefined> {
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if (isS3NotFound(error)) return undefined;
    throw error;
  }
  return schema.parse(JSON.parse(text));
}
