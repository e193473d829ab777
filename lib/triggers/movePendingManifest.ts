import { CopyObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isConditionFailure } from '../aws/isConditionFailure.js';
import { isS3NotFound } from '../aws/isS3NotFound.js';
import { s3Uri } from '../aws/s3Uri.js';
import type { ManifestVersion } from '../job/jobRecord.js';

/** Where a move left the pending manifest's version. */
export type MoveOutcome =
  /** Copied to its destination, and that version deleted from `pending/`. */
  | { moved: true; to: string }
  /**
   * That version is no longer there (a newer upload replaced it, in a bucket without versions):
   * nothing copied, nothing deleted. What `pending/` holds now is another version: a job of its own.
   */
  | { moved: false };

/**
 * Moves the version of a pending manifest whose job ran to `done/…` or `failed/…` (copy, then
 * delete), conditioned on that version, so a version uploaded meanwhile is never moved with
 * another job's report, nor deleted: the copy reads `?versionId=` where the bucket keeps versions,
 * and is conditioned on the ETag (`x-amz-copy-source-if-match`) always; the delete names that
 * `VersionId` (only that version goes; no delete marker), or, without versions, is a conditional
 * delete (`If-Match` on the ETag). Copy first: the manifest is never lost, at worst briefly in
 * both places.
 *
 * @param report - `s3://` URI of the job's report, kept on the moved object as `report` metadata.
 */
export async function movePendingManifest(s3: S3Client, bucket: string, key: string, version: ManifestVersion, destination: string, report: string): Promise<MoveOutcome> {
  const source = `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}${version.versionId === undefined ? '' : `?versionId=${encodeURIComponent(version.versionId)}`}`;
  try {
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: destination, CopySource: source, CopySourceIfMatch: version.etag, MetadataDirective: 'REPLACE', Metadata: { report } }));
  } catch (error) {
    if (isConditionFailure(error) || isS3NotFound(error)) return { moved: false };
    throw error;
  }
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(version.versionId === undefined ? { IfMatch: version.etag } : { VersionId: version.versionId }) }));
  } catch (error) {
    // Replaced between the copy and the delete: the copy holds the version that ran; the new one stays.
    if (!isConditionFailure(error) && !isS3NotFound(error)) throw error;
  }
  return { moved: true, to: s3Uri(bucket, destination) };
}
