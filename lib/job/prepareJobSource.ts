import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { targetSchema, type CleanupTarget } from '../modelarts/CleanupTarget.js';
import type { CleanupJob } from './cleanupJob.js';
import type { JobEntry } from '../pipeline/JobEntry.js';
import type { Config } from '../config/config.js';
import { JobValidationError } from '../core/errors.js';
import { ManifestError } from '../manifest/ManifestError.js';
import { manifestFormatOf } from '../manifest/manifestFormat.js';
import { checkManifestLocation, type CheckManifestOptions, type ManifestLocation } from '../manifest/manifestLocation.js';
import { parseS3Uri } from '../aws/s3Uri.js';
import { targetFromManifestKey } from '../manifest/manifestTarget.js';
import { readManifestEntries, type ManifestTargetFields } from '../manifest/readManifestEntries.js';
import { toValidationIssues } from '../core/zodIssues.js';
import { isConditionFailure } from '../aws/isConditionFailure.js';
import { isS3NotFound } from '../aws/isS3NotFound.js';

/** Where a job's entries come from, checked by a preparing pass before anything is deleted. */
export interface JobSource {
  target: CleanupTarget;
  /** Entries in the job: lines with an ID candidate (blank lines excluded). */
  entryCount: number;
  /** `s3://bucket/key` of the manifest, when the IDs come from one. */
  manifest?: string;
  /** The manifest's ETag when it was prepared: the deleting pass reads exactly that version. */
  manifestETag?: string;
  /** Reads the entries again, in order, as a stream. */
  entries(): AsyncIterable<JobEntry>;
}

/** Dependencies of {@link prepareJobSource}. */
export interface JobSourceDeps {
  config: Pick<Config, 'MANIFEST_BUCKET' | 'MANIFEST_PREFIX'>;
  s3: S3Client;
}

/**
 * The preparing pass (as S3 Batch Operations prepares a job): finds where a job's IDs are, reads a
 * manifest once as a stream to check its syntax and count its entries — so a broken last line
 * refuses the job before the first delete — and settles the target. The target may come from the
 * job, from the manifest (a JSON `target`, or CSV / JSON Lines target columns) or from its key
 * (`…/v1|v2/{projectId}/{id}/{name}`); when more than one names it, they must agree.
 *
 * @throws {JobValidationError} (a {@link ManifestError} for the manifest's content) when the
 *   manifest may not be read, cannot be read, is invalid, or the target is missing or contradictory.
 */
export async function prepareJobSource(job: CleanupJob, deps: JobSourceDeps, access: CheckManifestOptions = {}): Promise<JobSource> {
  if (job.manifest === undefined) {
    // The schema guarantees a target and the IDs for an inline job.
    const ids = job.imageIds ?? [];
    return {
      target: job.target as CleanupTarget,
      entryCount: ids.length,
      // eslint-disable-next-line @typescript-eslint/require-await -- an async generator with nothing to wait for: every source is read as an AsyncIterable
      async *entries() {
        for (const [index, value] of ids.entries()) yield { position: index + 1, value };
      },
    };
  }
  const { bucket, key } = parseS3Uri(job.manifest) ?? { bucket: '', key: '' };
  const location = checkManifestLocation(bucket, key, deps.config, access);
  const format = withManifest(location, () => manifestFormatOf(location.key));

  // Preparing pass: the whole manifest, once, before any delete.
  const { body, etag } = await openManifest(deps.s3, location);
  let entryCount = 0;
  let named: { target: ManifestTargetFields; line: number } | undefined;
  await withManifestAsync(location, async () => {
    for await (const item of readManifestEntries(body, format, { lineField: location.planPart ?? false })) {
      if (item.kind === 'entry') {
        entryCount += 1;
        continue;
      }
      if (named === undefined) named = { target: item.target, line: item.line };
      else if (JSON.stringify(item.target) !== JSON.stringify(named.target)) {
        throw new ManifestError(`names the target ${JSON.stringify(item.target)}, but line ${named.line} named ${JSON.stringify(named.target)}: a manifest holds one target`, { line: item.line });
      }
    }
  });

  if (entryCount === 0) throw new ManifestError('holds no image IDs', { manifest: location.uri });
  const target = settleTarget(location, job.target, named?.target);
  return {
    target,
    entryCount,
    manifest: location.uri,
    ...(etag === undefined ? {} : { manifestETag: etag }),
    async *entries() {
      const { body: again } = await openManifest(deps.s3, location, etag);
      yield* withManifestStream(location, readManifestEntries(again, format, { lineField: location.planPart ?? false }));
    },
  };
}

function settleTarget(location: ManifestLocation, fromJob: CleanupTarget | undefined, fromManifest: ManifestTargetFields | undefined): CleanupTarget {
  const candidates: Array<{ from: string; target: CleanupTarget }> = [];
  if (fromJob !== undefined) candidates.push({ from: 'the job', target: fromJob });
  for (const [from, path, raw] of [['the manifest', 'manifest.target', fromManifest], ['the manifest key', 'manifest', targetFromManifestKey(location.key)]] as const) {
    if (raw === undefined) continue;
    const parsed = targetSchema.safeParse(raw);
    if (!parsed.success) throw new JobValidationError(toValidationIssues(parsed.error, path));
    candidates.push({ from, target: parsed.data });
  }
  const [first] = candidates;
  if (first === undefined) {
    throw new JobValidationError([{ path: 'target', message: `no target: give one in the job, in the manifest (a JSON "target", or CSV / JSON Lines columns project_id with data_annotation_id or dataset_id), or by the key convention …/v1/{projectId}/{dataAnnotationId}/{name} or …/v2/{projectId}/{datasetId}/{name}; got ${location.uri}` }]);
  }
  const disagreeing = candidates.find((candidate) => JSON.stringify(candidate.target) !== JSON.stringify(first.target));
  if (disagreeing !== undefined) {
    throw new JobValidationError([{ path: 'target', message: `${first.from} and ${disagreeing.from} name different targets: ${JSON.stringify(first.target)} and ${JSON.stringify(disagreeing.target)}` }]);
  }
  return first.target;
}

async function openManifest(s3: S3Client, location: ManifestLocation, etag?: string): Promise<{ body: Readable; etag: string | undefined }> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key, ...(etag === undefined ? {} : { IfMatch: etag }) }));
    return { body: object.Body as Readable, etag: object.ETag };
  } catch (error) {
    if (isS3NotFound(error)) throw new JobValidationError([{ path: 'manifest', message: `${location.uri}: no such object` }]);
    if (etag !== undefined && isConditionFailure(error)) throw new JobValidationError([{ path: 'manifest', message: `${location.uri}: the manifest changed while the job ran; start a new job for the new version` }]);
    throw error;
  }
}

function withManifest<T>(location: ManifestLocation, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof ManifestError ? error.withManifest(location.uri) : error;
  }
}

async function withManifestAsync(location: ManifestLocation, read: () => Promise<void>): Promise<void> {
  try {
    await read();
  } catch (error) {
    throw error instanceof ManifestError ? error.withManifest(location.uri) : error;
  }
}

async function* withManifestStream(location: ManifestLocation, items: ReturnType<typeof readManifestEntries>): AsyncGenerator<JobEntry> {
  try {
    for await (const item of items) if (item.kind === 'entry') yield { position: item.line, value: item.value };
  } catch (error) {
    throw error instanceof ManifestError ? error.withManifest(location.uri) : error;
  }
}

