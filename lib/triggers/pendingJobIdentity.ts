import { createHash } from 'node:crypto';
import type { JobIdentity } from '../job/jobIdentity.js';
import type { ManifestVersion } from '../job/jobRecord.js';

/**
 * The job of one version of a pending manifest: `pending-` and 32 hex digits of a SHA-256 of its
 * bucket, key and version (the `VersionId` where the bucket keeps versions, else the ETag). The
 * same whatever delivers it — its S3 notification, a redelivery, the schedule, its continuation —
 * so they all resume one job; a new version uploaded to the same key is a new job.
 *
 * @param version - Absent for a key refused before it was read (its rejection report's folder).
 */
export function pendingJobIdentity(bucket: string, key: string, version?: ManifestVersion): JobIdentity {
  const stamp = version === undefined ? '' : (version.versionId ?? version.etag.replace(/^W\//, '').replace(/"/g, ''));
  const digest = createHash('sha256').update(`${bucket}\n${key}\n${stamp}`).digest('hex');
  return { jobId: `pending-${digest.slice(0, 32)}`, source: 'content_hash' };
}
