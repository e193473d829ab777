import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { CleanupError } from '../core/errors.js';

// DeleteObjects takes at most 1,000 keys a call.
const PER_CALL = 1_000;

/** Deletes keys of one bucket, 1,000 a call (keys already gone are no error); throws on a key S3 could not delete. */
export async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let start = 0; start < keys.length; start += PER_CALL) {
    const answer = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(start, start + PER_CALL).map((Key) => ({ Key })), Quiet: true } }));
    const failed = answer.Errors ?? [];
    if (failed.length > 0) throw new CleanupError('S3_DELETE_FAILED', `s3://${bucket}: ${failed.length} keys not deleted, first ${failed[0]?.Key ?? '?'}: ${failed[0]?.Code ?? ''} ${failed[0]?.Message ?? ''}`);
  }
}
