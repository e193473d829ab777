import type { Config } from '../config/config.js';
import { JobValidationError } from '../core/errors.js';

/** Where a manifest is in S3. */
export interface ManifestLocation {
  bucket: string;
  key: string;
  /** `s3://bucket/key`. */
  uri: string;
  /** A part manifest of a split job: its entries carry their original lines (lib/scaleout/planScaleOut.ts). */
  planPart?: boolean;
}

/** The prefixes of the manifest bucket, all under `MANIFEST_PREFIX`. */
export interface ManifestLayout {
  /** Every manifest must be under this prefix (`MANIFEST_PREFIX`, possibly empty). */
  root: string;
  /** Files dropped here are processed by the schedule and by S3 notifications. */
  pending: string;
  /** A processed manifest is moved here (the job ran; its report tells the outcome of each ID). */
  done: string;
  /** A manifest whose job was refused (unreadable, no target, invalid) is moved here. */
  failed: string;
  /** Claim objects: one per manifest being processed (see lib/aws/claimLease.ts). */
  claims: string;
}

/** The manifest bucket's layout for a configuration. */
export function manifestLayout(config: Pick<Config, 'MANIFEST_PREFIX'>): ManifestLayout {
  const root = config.MANIFEST_PREFIX ?? '';
  return { root, pending: `${root}pending/`, done: `${root}done/`, failed: `${root}failed/`, claims: `${root}claims/` };
}

/** Options of {@link checkManifestLocation}. */
export interface CheckManifestOptions {
  /**
   * Whether a key under `pending/` is allowed. Only the pending-manifest flow (schedule, S3
   * notification) claims and moves those files; a job pointing at one could run it twice.
   * @default false
   */
  allowPending?: boolean;
  /**
   * The one place a part of a split job may be read from: its plan folder in the report bucket,
   * written by the planner (lib/scaleout/planScaleOut.ts). Only the part worker sets it. @default none
   */
  planParts?: { bucket: string; prefix: string };
}

/**
 * Checks that a manifest may be read: it must be in the configured manifest bucket, under
 * `MANIFEST_PREFIX`, with no `..` segment, and not a claim object. A delete cannot be undone, so a
 * message must not be able to point the function at any object it can read.
 *
 * @throws {JobValidationError} on path `manifest`, saying what is allowed.
 */
export function checkManifestLocation(bucket: string, key: string, config: Pick<Config, 'MANIFEST_BUCKET' | 'MANIFEST_PREFIX'>, options: CheckManifestOptions = {}): ManifestLocation {
  const refuse = (message: string): never => {
    throw new JobValidationError([{ path: 'manifest', message }]);
  };
  const layout = manifestLayout(config);
  const plan = options.planParts;
  if (plan !== undefined && bucket === plan.bucket && key.startsWith(plan.prefix) && !key.split('/').some((segment) => segment === '..' || segment === '.')) {
    return { bucket, key, uri: `s3://${bucket}/${key}`, planPart: true };
  }
  if (config.MANIFEST_BUCKET === undefined) refuse('manifests are not enabled in this deployment (MANIFEST_BUCKET is not set)');
  const allowed = `s3://${config.MANIFEST_BUCKET}/${layout.root}`;
  if (bucket !== config.MANIFEST_BUCKET) refuse(`manifests may only be read from ${allowed}; got bucket "${bucket}"`);
  if (key.split('/').some((segment) => segment === '..' || segment === '.')) refuse(`a manifest key may not contain "." or ".." segments: "${key}"`);
  if (!key.startsWith(layout.root)) refuse(`manifests may only be read from ${allowed}; got key "${key}"`);
  if (key.startsWith(layout.claims)) refuse(`"${key}" is a claim object, not a manifest`);
  if (!(options.allowPending ?? false) && key.startsWith(layout.pending)) {
    refuse(`"${key}" is under ${layout.pending}, which is processed automatically; point a job at a manifest outside it`);
  }
  if (key.endsWith('/')) refuse(`"${key}" is a folder, not a manifest`);
  return { bucket, key, uri: `s3://${bucket}/${key}` };
}
