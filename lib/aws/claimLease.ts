import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '../core/clock.js';
import { isConditionFailure } from './isConditionFailure.js';
import { isS3NotFound } from './isS3NotFound.js';

/** What a lease object holds. */
export interface LeaseRecord {
  /** What is leased: a manifest key, a job id, an assembly (the field keeps its first name). */
  manifestKey: string;
  /** Who holds it: a Lambda request id. */
  owner: string;
  claimedAt: string;
  /** After this instant the claim may be taken over: its holder is certainly no longer running. */
  expiresAt: string;
}

/** A lease held by this run; release it when the work it guards is done. */
export interface Lease {
  claimKey: string;
  /** True when an expired claim of a crashed run was taken over. */
  tookOver: boolean;
  release(): Promise<void>;
}

/** Dependencies of {@link claimLease}. */
export interface LeaseDeps {
  s3: S3Client;
  bucket: string;
  clock: Pick<Clock, 'now'>;
}

/**
 * Takes a lease on a piece of work (a pending manifest, a job, a split job's assembly) so that no
 * other run does it at the same time, with an S3 conditional
 * write: `If-None-Match: *` creates the claim object only if none exists; S3 lets exactly one of
 * several concurrent writers win. A claim whose `expiresAt` has passed (its run crashed or was
 * killed) is taken over with `If-Match` on the ETag read, so two runs taking over the same stale
 * claim cannot both win either.
 *
 * @returns the claim, or undefined when another run holds a live claim.
 */
export async function claimLease(deps: LeaseDeps, manifestKey: string, claimKey: string, claim: { owner: string; expiresAt: number }): Promise<Lease | undefined> {
  const { s3, bucket, clock } = deps;
  const body = JSON.stringify({ manifestKey, owner: claim.owner, claimedAt: new Date(clock.now()).toISOString(), expiresAt: new Date(claim.expiresAt).toISOString() } satisfies LeaseRecord);
  const put = async (condition: { IfNoneMatch: '*' } | { IfMatch: string }) => {
    try {
      const written = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: claimKey, Body: body, ContentType: 'application/json', ...condition }));
      return written.ETag as string;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  };
  const held = (etag: string, tookOver: boolean): Lease => ({
    claimKey,
    tookOver,
    async release() {
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: claimKey, IfMatch: etag }));
      } catch (error) {
        // Someone took it over (we outlived our expiry) or it is gone: it is not ours to delete.
        if (!isConditionFailure(error) && !isS3NotFound(error)) throw error;
      }
    },
  });

  // Twice: a claim released between our attempt and our read leaves the key free again.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const created = await put({ IfNoneMatch: '*' });
    if (created !== undefined) return held(created, false);

    let current: { record: Partial<LeaseRecord>; etag: string };
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: claimKey }));
      current = { record: parseClaim(await object.Body?.transformToString('utf8')), etag: object.ETag as string };
    } catch (error) {
      if (isS3NotFound(error)) continue;
      throw error;
    }
    const expiresAt = Date.parse(current.record.expiresAt ?? '');
    // An unreadable claim never expires by itself: better to leave a manifest waiting than run it twice.
    if (Number.isNaN(expiresAt) || expiresAt > clock.now()) return undefined;
    const takenOver = await put({ IfMatch: current.etag });
    return takenOver === undefined ? undefined : held(takenOver, true);
  }
  return undefined;
}

function parseClaim(text: string | undefined): Partial<LeaseRecord> {
  try {
    const parsed = JSON.parse(text ?? '') as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed) : {};
  } catch {
    return {};
  }
}
