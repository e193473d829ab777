import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** An S3 object's bytes, whole (report files and part manifests, compared byte for byte). */
export async function readS3Bytes(s3: S3Client, bucket: string | undefined, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}
