import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

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
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (options.ifNoneMatch && (status === 412 || status === 409)) return false;
    throw error;
  }
}
