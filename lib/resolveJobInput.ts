import type { S3Client } from '@aws-sdk/client-s3';
import { targetSchema, type CleanupJob, type CleanupTarget } from './cleanupJob.js';
import type { Config } from './config.js';
import { JobValidationError } from './errors.js';
import { checkManifestLocation, parseS3Uri, type CheckManifestOptions } from './manifestLocation.js';
import { targetFromManifestKey } from './manifestTarget.js';
import { readManifest } from './readManifest.js';
import { toValidationIssues } from './zodIssues.js';

/** A job's target and entries, wherever they came from. */
export interface JobInput {
  target: CleanupTarget;
  /** The entries to screen, in input order. */
  entries: readonly unknown[];
  /** `s3://bucket/key` of the manifest, when the IDs came from one. */
  manifest?: string;
}

/** Dependencies of {@link resolveJobInput}. */
export interface ResolveJobInputDeps {
  config: Pick<Config, 'MANIFEST_BUCKET' | 'MANIFEST_PREFIX'>;
  s3: S3Client;
}

/**
 * Where the IDs come from: inline (`imageIds`) or a manifest in S3 (`manifest`). For a manifest,
 * the target may come from the job, from the manifest (a JSON job file) or from its key
 * (`…/v1|v2/{projectId}/{id}/{name}`); when more than one names it, they must agree.
 *
 * The minimal manifest reader holds the entries in memory (capped by size); streaming manifests
 * replace `readManifest` and this function's return shape, nothing else.
 *
 * @throws {JobValidationError} when the manifest may not be read, cannot be read, or the target is
 *   missing or contradictory; nothing is deleted then.
 */
export async function resolveJobInput(job: CleanupJob, deps: ResolveJobInputDeps, options: CheckManifestOptions = {}): Promise<JobInput> {
  if (job.manifest === undefined) {
    // The schema guarantees a target and the IDs for an inline job.
    return { target: job.target as CleanupTarget, entries: job.imageIds ?? [] };
  }
  const { bucket, key } = parseS3Uri(job.manifest) ?? { bucket: '', key: '' };
  const location = checkManifestLocation(bucket, key, deps.config, options);
  const manifest = await readManifest(deps.s3, location);

  const candidates: Array<{ from: string; target: CleanupTarget }> = [];
  if (job.target !== undefined) candidates.push({ from: 'the job', target: job.target });
  for (const [from, path, raw] of [['the manifest', 'manifest.target', manifest.target], ['the manifest key', 'manifest', targetFromManifestKey(location.key)]] as const) {
    if (raw === undefined) continue;
    const parsed = targetSchema.safeParse(raw);
    if (!parsed.success) throw new JobValidationError(toValidationIssues(parsed.error, path));
    candidates.push({ from, target: parsed.data });
  }
  const [first] = candidates;
  if (first === undefined) {
    throw new JobValidationError([{ path: 'target', message: `no target: give one in the job, in a JSON manifest ("target"), or by the key convention …/v1/{projectId}/{dataAnnotationId}/{name} or …/v2/{projectId}/{datasetId}/{name}; got ${location.uri}` }]);
  }
  const disagreeing = candidates.find((candidate) => JSON.stringify(candidate.target) !== JSON.stringify(first.target));
  if (disagreeing !== undefined) {
    throw new JobValidationError([{ path: 'target', message: `${first.from} and ${disagreeing.from} name different targets: ${JSON.stringify(first.target)} and ${JSON.stringify(disagreeing.target)}` }]);
  }
  const entries: unknown[] = [];
  for await (const entry of manifest.entries) entries.push(entry.value);
  return { target: first.target, entries, manifest: location.uri };
}
