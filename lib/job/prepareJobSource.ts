import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { targetSchema, type CleanupTarget } from '../modelarts/CleanupTarget.js';
import type { CleanupJob } from './cleanupJob.js';
import type { JobEntry } from '../pipeline/JobEntry.js';
import type { Config } from '../config/config.js';
import { JobValidationError, ManifestChangedError } from '../core/errors.js';
import { ManifestError } from '../manifest/ManifestError.js';
import { manifestFormatOf } from '../manifest/manifestFormat.js';
import { checkManifestLocation, type CheckManifestOptions, type ManifestLocation } from '../manifest/manifestLocation.js';
import { parseS3Uri } from '../aws/s3Uri.js';
import { targetFromManifestKey } from '../manifest/manifestTarget.js';
import { readManifestEntries, type ManifestTargetFields, type ReadManifestOptions } from '../manifest/readManifestEntries.js';
import { toValidationIssues } from '../core/zodIssues.js';
import { isConditionFailure } from '../aws/isConditionFailure.js';
import { isS3NotFound } from '../aws/isS3NotFound.js';
import { describeVersion, type ManifestVersion } from './jobRecord.js';

/** Where a job's entries come from, checked by a preparing pass before anything is deleted. */
export interface JobSource {
  target: CleanupTarget;
  /** Entries in the job: lines with an ID candidate (blank lines excluded). */
  entryCount: number;
  /** `s3://bucket/key` of the manifest, when the IDs come from one. */
  manifest?: string;
  /** The manifest's version when it was prepared: every later read is conditioned on it. */
  manifestVersion?: ManifestVersion;
  /** `manifestVersion.etag` (what a split job's plan records). */
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
 * (`…/v1|v2/{projectId}/{id}/{name}`); when more than one names it, they must agree (a key
 * cannot say `deleteSource`: the job's or the manifest's stands).
 *
 * @param pin - The manifest version to read (the job's record, or the trigger, names it): this pass
 *   and every later read are conditioned on it; none: the current version, then pinned to it.
 * @throws {ManifestChangedError} when `pin` is given and that version is no longer there.
 * @throws {JobValidationError} (a {@link ManifestError} for the manifest's content) when the
 *   manifest may not be read, cannot be read, is invalid, or the target is missing or contradictory.
 */
export async function prepareJobSource(job: CleanupJob, deps: JobSourceDeps, access: CheckManifestOptions = {}, pin?: ManifestVersion, read: Pick<ReadManifestOptions, 'limits' | 'deadline' | 'now'> = {}): Promise<JobSource> {
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
  const lineField = location.planPart ?? false;

  // Preparing pass: the whole manifest, once, before any delete.
  const { body, version } = await openManifest(deps.s3, location, pin);
  let entryCount = 0;
  let named: { target: ManifestTargetFields; line: number } | undefined;
  await withManifestAsync(location, async () => {
    for await (const item of readManifestEntries(body, format, { ...read, lineField })) {
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
    ...(version === undefined ? {} : { manifestVersion: version, manifestETag: version.etag }),
    async *entries() {
      const { body: again } = await openManifest(deps.s3, location, version);
      yield* withManifestStream(location, readManifestEntries(again, format, { lineField, ...(read.limits === undefined ? {} : { limits: read.limits }) }));
    },
  };
}

/**
 * The version a manifest holds now (a HeadObject); undefined when it is gone. For a job that
 * completed and is asked for again: another version is another job.
 *
 * @param uri - The `s3://bucket/key` the job's record names (checked when the job was first prepared).
 */
export async function currentManifestVersion(s3: S3Client, uri: string): Promise<ManifestVersion | undefined> {
  const { bucket, key } = parseS3Uri(uri) ?? { bucket: '', key: '' };
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const versionId = head.VersionId === undefined || head.VersionId === 'null' ? undefined : head.VersionId;
    return head.ETag === undefined ? undefined : { etag: head.ETag, ...(versionId === undefined ? {} : { versionId }) };
  } catch (error) {
    if (isS3NotFound(error)) return undefined;
    throw error;
  }
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
  // A key cannot say deleteSource (it parses to false): compared without it, the job's or the manifest's stands.
  const disagreeing = candidates.find((candidate) => !sameTarget(candidate, first));
  if (disagreeing !== undefined) {
    throw new JobValidationError([{ path: 'target', message: `${first.from} and ${disagreeing.from} name different targets: ${JSON.stringify(first.target)} and ${JSON.stringify(disagreeing.target)}` }]);
  }
  return first.target;
}

function sameTarget(a: { from: string; target: CleanupTarget }, b: { from: string; target: CleanupTarget }): boolean {
  const byKey = a.from === 'the manifest key' || b.from === 'the manifest key';
  const comparable = (target: CleanupTarget): CleanupTarget => (byKey && target.api === 'v2' ? { ...target, deleteSource: false } : target);
  return JSON.stringify(comparable(a.target)) === JSON.stringify(comparable(b.target));
}

// A GetObject of the manifest, conditioned on `pin` when given: `VersionId` where the bucket keeps
// versions (an older version stays readable after a replace), and `If-Match` on its ETag always, so
// a replaced object of an unversioned bucket answers 412 instead of its new content.
async function openManifest(s3: S3Client, location: ManifestLocation, pin?: ManifestVersion): Promise<{ body: Readable; version: ManifestVersion | undefined }> {
  try {
    const condition = pin === undefined ? {} : { IfMatch: pin.etag, ...(pin.versionId === undefined ? {} : { VersionId: pin.versionId }) };
    const object = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key, ...condition }));
    // "null" is the version of an object written while versioning was off: a replace overwrites it, so it pins nothing.
    const versionId = object.VersionId === undefined || object.VersionId === 'null' ? undefined : object.VersionId;
    return { body: object.Body as Readable, version: object.ETag === undefined ? undefined : { etag: object.ETag, ...(versionId === undefined ? {} : { versionId }) } };
  } catch (error) {
    if (pin !== undefined && (isS3NotFound(error) || isConditionFailure(error))) {
      throw new ManifestChangedError(location.uri, `the manifest changed: ${describeVersion(pin)}, the version this job reads, is no longer there (replaced or deleted); start a new job for the new version`, { cause: error });
    }
    if (isS3NotFound(error)) throw new JobValidationError([{ path: 'manifest', message: `${location.uri}: no such object` }]);
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

