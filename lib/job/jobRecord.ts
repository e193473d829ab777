import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { readS3Json } from '../aws/readS3Json.js';
import { writeS3Json } from '../aws/writeS3Json.js';
import { JobIdConflictError, type ValidationIssue } from '../core/errors.js';
import type { CleanupTarget } from '../modelarts/CleanupTarget.js';
import { jobIdSourceSchema, jobSummarySchema, triggerInfoSchema, type TriggerInfo } from '../report/jobSummary.js';
import type { ReportLocation } from '../report/ReportLocation.js';
import type { CleanupJob } from './cleanupJob.js';
import { canonicalJson, type JobIdentity } from './jobIdentity.js';

const count = z.number().int().min(0);

/** A manifest's version: its ETag, and its `VersionId` where the bucket keeps versions. */
export const manifestVersionSchema = z.object({ etag: z.string(), versionId: z.string().optional() }).strict();

/** A manifest's version, as GetObject answers it and as every later read is conditioned on. */
export type ManifestVersion = z.infer<typeof manifestVersionSchema>;

/**
 * What a job deletes and how, as its request says it: the target it names (none: its manifest
 * names it), its IDs (inline: their number and a SHA-256 of the list; else the manifest's
 * location), and the options that change outcomes. Performance options (chunk size, requests in
 * flight, the split) are left out: the same job may resume with others.
 */
const jobContentSchema = z
  .object({
    target: jobSummarySchema.shape.target.nullable(),
    imageIds: z.object({ entries: count, sha256: z.string() }).strict().optional(),
    manifest: z.string().optional(),
    dryRun: z.boolean(),
    failureThreshold: z.object({ minAttempted: count, maxFailureRate: z.number() }).strict().nullable(),
    // Only when the job gives one: a record written before the option existed equals a job without it.
    notFoundThreshold: z.object({ minAttempted: count.optional(), maxNotFoundRate: z.number().optional() }).strict().optional(),
  })
  .strict();

/** What a job deletes and how (see {@link jobContent}). */
export type JobContent = z.infer<typeof jobContentSchema>;

/**
 * `job.json` in a job's report folder: written once, with an S3 conditional write, when the job is
 * first claimed; every later invocation under the same id (a continuation, a redelivery, the same
 * `jobId` sent again, a part) is checked against it.
 */
const jobRecordSchema = z.object({
  formatVersion: z.literal(1),
  jobId: z.string(),
  jobIdSource: jobIdSourceSchema,
  /** SHA-256 of `content` and `manifestVersion`, canonical JSON: equal hashes, the same job. */
  contentHash: z.string(),
  content: jobContentSchema,
  /** The manifest version the job reads for its whole life. */
  manifestVersion: manifestVersionSchema.optional(),
  /** The target the preparing pass settled, and the entries it counted: what a job whose manifest changed reports. */
  target: jobSummarySchema.shape.target,
  entries: count,
  trigger: triggerInfoSchema,
  createdAt: z.iso.datetime(),
});

/** Contents of `job.json`. */
export type JobRecord = z.infer<typeof jobRecordSchema>;

/** What a job deletes and how, from its validated request. */
export function jobContent(job: CleanupJob): JobContent {
  return {
    target: job.target ?? null,
    ...(job.imageIds === undefined ? {} : { imageIds: { entries: job.imageIds.length, sha256: sha256(canonicalJson(job.imageIds)) } }),
    ...(job.manifest === undefined ? {} : { manifest: job.manifest }),
    dryRun: job.options.dryRun ?? false,
    failureThreshold: job.options.failureThreshold ?? null,
    ...(job.options.notFoundThreshold === undefined ? {} : { notFoundThreshold: job.options.notFoundThreshold }),
  };
}

/** The record of a job at its first claim. */
export function newJobRecord(facts: { identity: JobIdentity; content: JobContent; manifestVersion: ManifestVersion | undefined; target: CleanupTarget; entries: number; trigger: TriggerInfo; now: number }): JobRecord {
  const { identity, content, manifestVersion } = facts;
  return {
    formatVersion: 1,
    jobId: identity.jobId,
    jobIdSource: identity.source,
    contentHash: sha256(canonicalJson({ content, manifestVersion })),
    content,
    ...(manifestVersion === undefined ? {} : { manifestVersion }),
    target: facts.target,
    entries: facts.entries,
    trigger: facts.trigger,
    createdAt: new Date(facts.now).toISOString(),
  };
}

/** Reads a job's record; undefined when the job was never claimed. */
export async function readJobRecord(s3: S3Client, location: Pick<ReportLocation, 'bucket' | 'prefix'>): Promise<JobRecord | undefined> {
  return readS3Json(s3, location.bucket, recordKey(location), jobRecordSchema);
}

/**
 * Under the job's claim: writes its record if it has none (`If-None-Match: *`, so of two
 * invocations only one writes it), else checks this job against the record that stands.
 *
 * @throws {JobIdConflictError} when the record is another job's.
 */
export async function keepJobRecord(s3: S3Client, location: Pick<ReportLocation, 'bucket' | 'prefix'>, record: JobRecord): Promise<'written' | 'standing'> {
  const standing = (await readJobRecord(s3, location)) ?? ((await writeS3Json(s3, location.bucket, recordKey(location), record, { ifNoneMatch: true })) ? undefined : await readJobRecord(s3, location));
  if (standing === undefined) return 'written';
  checkSameJob(standing, record.jobId, record.content, record.manifestVersion);
  return 'standing';
}

/**
 * Checks a job against the record under its id: the same content, and — when this invocation
 * names a manifest version (a pending manifest's, or the one it just read) — the same version.
 *
 * @throws {JobIdConflictError} with one issue per field that differs.
 */
export function checkSameJob(record: JobRecord, jobId: string, content: JobContent, manifestVersion?: ManifestVersion): void {
  const issues: ValidationIssue[] = [];
  const differs = (path: string, recorded: unknown, given: unknown, what: string): void => {
    if (canonicalJson(recorded) !== canonicalJson(given)) issues.push({ path, message: `${what}: the job recorded under this id has ${show(recorded)}, this one ${show(given)}` });
  };
  differs('target', record.content.target, content.target, 'a different target');
  differs('imageIds', record.content.imageIds, content.imageIds, 'different image IDs');
  differs('manifest', record.content.manifest, content.manifest, 'a different manifest');
  differs('options.dryRun', record.content.dryRun, content.dryRun, 'a different dryRun');
  differs('options.failureThreshold', record.content.failureThreshold, content.failureThreshold, 'a different failureThreshold');
  differs('options.notFoundThreshold', record.content.notFoundThreshold, content.notFoundThreshold, 'a different notFoundThreshold');
  if (issues.length === 0 && manifestVersion !== undefined && record.manifestVersion !== undefined && !sameVersion(record.manifestVersion, manifestVersion)) {
    issues.push({ path: 'manifest', message: `another version of the manifest: the job under this id read ${describeVersion(record.manifestVersion)}, this one names ${describeVersion(manifestVersion)}; a new version is a new job` });
  }
  if (issues.length > 0) throw new JobIdConflictError(jobId, issues);
}

/** Whether two reads saw the same manifest version (by VersionId where both have one, else by ETag). */
export function sameVersion(a: ManifestVersion, b: ManifestVersion): boolean {
  return a.versionId !== undefined && b.versionId !== undefined ? a.versionId === b.versionId && a.etag === b.etag : a.etag === b.etag;
}

/** A manifest version in words, for messages: `ETag "…"` and the VersionId when there is one. */
export function describeVersion(version: ManifestVersion): string {
  return `ETag ${version.etag}${version.versionId === undefined ? '' : ` (VersionId ${version.versionId})`}`;
}

function recordKey(location: Pick<ReportLocation, 'prefix'>): string {
  return `${location.prefix}job.json`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// Bounded, for a message: a target or a threshold in JSON, an absent field as "none".
function show(value: unknown): string {
  if (value === undefined || value === null) return 'none';
  const text = canonicalJson(value);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
