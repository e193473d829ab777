import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isConditionFailure } from './isConditionFailure.js';

/**
 * Writes a small JSON object to S3; with `ifNoneMatch` only when the key does not exist yet.
 *
 * @returns false when `ifNoneMatch` was set and the key existed (S3 answered 412 or 409).
 */
export async function writeS3Json(s3: S3Client, bucket: string, key: string, value: unknown, options: { ifNoneMatch?: boolean } = {}): Promise<boolean> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${JSON.stringify(value, null, 2)}\n`, ContentType: 'application/json', ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}) }));
    return true;
  } catch (error) {
    if (options.ifNoneMatch === true && isConditionFailure(error)) return false;
    throw error;
  }
}
