import { JobValidationError, ManifestChangedError } from '../core/errors.js';
import type { Config } from '../config/config.js';
import type { CheckManifestOptions } from '../manifest/manifestLocation.js';
import { manifestReadLimits } from '../manifest/ManifestReadLimits.js';
import type { ReadManifestOptions } from '../manifest/readManifestEntries.js';
import { stricterNotFoundThreshold } from '../pipeline/NotFoundThreshold.js';
import type { TriggerInfo } from '../report/jobSummary.js';
import { readJobSummary } from '../report/readJobSummary.js';
import { reportLocation, type ReportLocation } from '../report/ReportLocation.js';
import { parseCleanupJob, type CleanupJob } from './cleanupJob.js';
import { deriveJobIdentity, type JobIdentity } from './jobIdentity.js';
import { checkSameJob, jobContent, readJobRecord, type JobRecord, type ManifestVersion } from './jobRecord.js';
import { currentManifestVersion, prepareJobSource, type JobSource } from './prepareJobSource.js';
import type { CleanupDeps, CleanupResult, PreparedJob } from './types.js';

/** What {@link prepareJob} is given: the job, where it came from, and what is known of it already. */
export interface JobRequest {
  /** The job as received (validated here). */
  input: unknown;
  trigger: TriggerInfo;
  /** Which manifest keys this trigger may read (the pending flow may read `pending/`; a part its plan). */
  access: CheckManifestOptions;
  /** The job's identity when it is known already (a continuation, a part); derived from the job otherwise. */
  identity?: JobIdentity;
  /** The report folder, when it is not `{REPORT_PREFIX}{jobId}/` (a part reports under its job). */
  location?: ReportLocation;
  /**
   * The manifest version this job is for (a pending manifest's, from its notification or listing):
   * the first preparing pass reads that version only, and a mismatch is a refusal saying the
   * manifest changed. Later invocations read the version in the job's record.
   */
  manifestVersion?: ManifestVersion;
  /** The job's options were checked against the deployment's limits already: a part of a split job (its options are the job's, resolved). */
  admitted?: boolean;
  /** Epoch ms by which the preparing pass must have read the manifest (the invocation's budget). @default none */
  deadline?: number;
}

/** How the first phase ended: the job's report was complete already, or the job is ready to claim. */
export type Prepared = { kind: 'complete'; result: CleanupResult } | { kind: 'ready'; job: PreparedJob };

/**
 * Phase one of a job: validates it (refused as a whole, before anything is deleted, when its
 * shape, target or options are wrong), derives its id (idempotency key, message id, or content
 * hash), checks it against the job record under that id (lib/job/jobRecord.ts: a different job
 * under the same id is refused), answers with the existing summary when its report is complete,
 * and otherwise runs the preparing pass (the manifest read once, checked and counted, at the
 * version the record pins) and the guard rails: the deployment's limits on options, the target
 * allow-list and the blast-radius cap. A job whose pinned manifest version is gone is ready too,
 * with a source that cannot be read: its run ends it with what it did.
 *
 * @throws {JobIdConflictError} when the job's id names another job.
 * @throws {ManifestChangedError} when `request.manifestVersion` is no longer the manifest's.
 * @throws {JobValidationError} when the job, its manifest or the guard rails refuse it.
 */
export async function prepareJob(request: JobRequest, deps: CleanupDeps): Promise<Prepared> {
  const { config, clock, logger, s3 } = deps;
  const job = parseCleanupJob(request.input);
  const startedAt = clock.now();
  const messageId = request.trigger.type === 'queue' ? request.trigger.source : undefined;
  // A content-hash identity of a manifest job includes the manifest's version, which the preparing
  // pass reads; any other identity is known at once, so a completed job is answered without it.
  const needsManifestVersion = request.identity === undefined && job.jobId === undefined && messageId === undefined && job.manifest !== undefined;
  let source = needsManifestVersion ? await prepareJobSource(job, deps, request.access, request.manifestVersion, manifestRead(job, deps, request)) : undefined;
  const identity = request.identity ?? deriveJobIdentity({ idempotencyKey: job.jobId, messageId, content: { job: request.input, manifestETag: source?.manifestETag, manifestVersionId: source?.manifestVersion?.versionId } });
  const location = request.location ?? reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, identity.jobId);
  const jobLogger = logger.createChild({ persistentKeys: { jobId: identity.jobId } });

  // Before anything is read or deleted: the same job resumes or answers, another one is refused.
  const content = jobContent(job);
  const record = await readJobRecord(s3, location);
  if (record !== undefined) checkSameJob(record, identity.jobId, content, request.manifestVersion ?? source?.manifestVersion);
  const existing = await readJobSummary(s3, location);
  if (existing !== undefined) {
    if (record !== undefined && source === undefined && request.manifestVersion === undefined) await checkStillSameManifest(record, deps);
    jobLogger.info('job already complete; its report is returned as it is', { report: existing.report });
    return { kind: 'complete', result: { summary: existing, reused: true } };
  }
  source ??= await prepareSource(job, deps, request, record);
  const admitting = record === undefined && request.admitted !== true;
  if (admitting) checkOptionLimits(job, config);
  checkGuardRails(job, source, config);
  const options = resolveOptions(job, config, admitting);
  return { kind: 'ready', job: { job, input: request.input, trigger: request.trigger, identity, location, source, content, options, logger: jobLogger, startedAt } };
}

// The manifest's bounds for this job, and the preparing pass's deadline (the last resort against a
// manifest that is slow to read: docs/manifests.md "Bounds and hostile input").
function manifestRead(job: CleanupJob, deps: CleanupDeps, request: JobRequest): Pick<ReadManifestOptions, 'limits' | 'deadline' | 'now'> {
  return { limits: manifestReadLimits(deps.config, job.options), ...(request.deadline === undefined ? {} : { deadline: request.deadline, now: deps.clock.now }) };
}

// The preparing pass at the version the job's record pins (or the request names). A job that had
// started ends with what it did when that version is gone; a job that had not is refused.
async function prepareSource(job: CleanupJob, deps: CleanupDeps, request: JobRequest, record: JobRecord | undefined): Promise<JobSource> {
  try {
    return await prepareJobSource(job, deps, request.access, record?.manifestVersion ?? request.manifestVersion, manifestRead(job, deps, request));
  } catch (error) {
    if (!(error instanceof ManifestChangedError) || record === undefined) throw error;
    deps.logger.warn('manifest changed while its job ran: the job ends with what it did', { jobId: record.jobId, manifest: error.manifest });
    return changedManifestSource(record, error);
  }
}

// The source of a job whose pinned manifest version is gone: what its record says (target, entries),
// and entries that fail at their first read — the run (lib/job/runJob.ts) ends the job with what it
// did, the entries not reached skipped.
function changedManifestSource(record: JobRecord, error: ManifestChangedError): JobSource {
  return {
    target: record.target,
    entryCount: record.entries,
    manifest: error.manifest,
    ...(record.manifestVersion === undefined ? {} : { manifestVersion: record.manifestVersion, manifestETag: record.manifestVersion.etag }),
    // eslint-disable-next-line @typescript-eslint/require-await -- an async generator that fails at its first read, as the manifest's own reader would
    async *entries() {
      throw error;
    },
  };
}

// A completed manifest job asked for again: when its manifest now holds another version, that is a
// new job (it needs its own id), not this one's report.
async function checkStillSameManifest(record: JobRecord, deps: CleanupDeps): Promise<void> {
  if (record.content.manifest === undefined || record.manifestVersion === undefined) return;
  const current = await currentManifestVersion(deps.s3, record.content.manifest);
  if (current !== undefined) checkSameJob(record, record.jobId, record.content, current);
}

// A job's options may only tighten the deployment's limits, never loosen them (docs/safety.md).
function checkOptionLimits(job: CleanupJob, config: Config): void {
  const { maxInFlight, failureThreshold } = job.options;
  if (maxInFlight !== undefined && maxInFlight > config.MAX_IN_FLIGHT) {
    throw new JobValidationError([{ path: 'options.maxInFlight', message: `expected at most ${config.MAX_IN_FLIGHT}, this deployment's MAX_IN_FLIGHT; got ${maxInFlight}` }]);
  }
  const looser: string[] = [];
  if (failureThreshold !== undefined && failureThreshold.minAttempted > config.FAILURE_THRESHOLD_MIN_ATTEMPTED) looser.push(`minAttempted at most ${config.FAILURE_THRESHOLD_MIN_ATTEMPTED} (FAILURE_THRESHOLD_MIN_ATTEMPTED)`);
  if (failureThreshold !== undefined && failureThreshold.maxFailureRate > config.FAILURE_THRESHOLD_RATE) looser.push(`maxFailureRate at most ${config.FAILURE_THRESHOLD_RATE} (FAILURE_THRESHOLD_RATE)`);
  if (looser.length > 0) {
    throw new JobValidationError([{ path: 'options.failureThreshold', message: `a job's failure threshold may only be stricter than this deployment's: expected ${looser.join(' and ')}; got ${JSON.stringify(failureThreshold)}` }]);
  }
}

// Guard rails, before anything is sent: the target allow-list, and the blast-radius cap.
function checkGuardRails(job: CleanupJob, source: JobSource, config: Config): void {
  if (!config.ALLOWED_TARGETS.allows(source.target)) {
    // deleteSource also deletes the files in object storage: allowed only where an entry says so.
    if (source.target.api === 'v2' && source.target.deleteSource && config.ALLOWED_TARGETS.allows({ ...source.target, deleteSource: false })) {
      throw new JobValidationError([{ path: 'target.deleteSource', message: `this deployment may not delete the source files of ${JSON.stringify(source.target)}: its ALLOWED_TARGETS entry has no "+deleteSource"` }]);
    }
    throw new JobValidationError([{ path: 'target', message: `this deployment may not delete from ${JSON.stringify(source.target)}: it is not in ALLOWED_TARGETS` }]);
  }
  const dryRun = job.options.dryRun ?? false;
  if (!dryRun && source.entryCount > config.MAX_IDS_PER_JOB && job.options.confirmEntries !== source.entryCount) {
    throw new JobValidationError([
      {
        path: 'options.confirmEntries',
        message: `the job holds ${source.entryCount} entries, more than MAX_IDS_PER_JOB (${config.MAX_IDS_PER_JOB}): set options.confirmEntries to ${source.entryCount} to run it (a dry run needs no confirmation)`,
      },
    ]);
  }
}

// The job's options over the deployment's defaults: what the run uses and the summary states.
// Checked against the deployment's limits when the job is admitted; a job admitted before (a
// continuation, a part) keeps what it was admitted with, whatever the deployment says now.
function resolveOptions(job: CleanupJob, config: Config, admitting: boolean): PreparedJob['options'] {
  const deployment = { minAttempted: config.NOT_FOUND_THRESHOLD_MIN_ATTEMPTED, maxNotFoundRate: config.NOT_FOUND_THRESHOLD_RATE };
  const own = job.options.notFoundThreshold;
  return {
    chunkSize: job.options.chunkSize ?? config.CHUNK_SIZE,
    maxInFlight: job.options.maxInFlight ?? config.MAX_IN_FLIGHT,
    maxAttempts: config.MAX_ATTEMPTS,
    dryRun: job.options.dryRun ?? false,
    failureThreshold: job.options.failureThreshold ?? { minAttempted: config.FAILURE_THRESHOLD_MIN_ATTEMPTED, maxFailureRate: config.FAILURE_THRESHOLD_RATE },
    // The deployment's, or the job's where it gives one: only stricter (stricterNotFoundThreshold refuses a looser one).
    notFoundThreshold: admitting ? stricterNotFoundThreshold(deployment, own) : { ...deployment, ...own },
  };
}
