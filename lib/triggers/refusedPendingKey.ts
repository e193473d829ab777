import type { Config } from '../config/config.js';
import { JobValidationError } from '../core/errors.js';
import { checkManifestLocation, manifestLayout } from '../manifest/manifestLocation.js';

/**
 * The pending flow's own rule on keys, checked before any request names one: the manifest bucket,
 * under `pending/` (of `MANIFEST_PREFIX`), no `.` or `..` segment (S3 keeps such a key as it is,
 * but a layer that resolves it would reach another object), not a claim, not a folder.
 *
 * @returns the refusal, or undefined when the key may be claimed, read and moved.
 */
export function refusedPendingKey(bucket: string, key: string, config: Pick<Config, 'MANIFEST_BUCKET' | 'MANIFEST_PREFIX'>): JobValidationError | undefined {
  const { pending } = manifestLayout(config);
  try {
    const location = checkManifestLocation(bucket, key, config, { allowPending: true });
    if (!location.key.startsWith(pending)) {
      // The path names the notification's field: only a notification (or a hand-made message) names a key outside pending/.
      return new JobValidationError([{ path: 'body.Records.s3.object.key', message: `expected a manifest under ${pending}; got "${key}" (check the bucket notification's prefix filter)` }]);
    }
    return undefined;
  } catch (error) {
    if (error instanceof JobValidationError) return error;
    throw error;
  }
}
