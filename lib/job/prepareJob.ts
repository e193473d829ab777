import { JobValidationError } from '../core/errors.js';
import type { Config } from '../config/config.js';
import type { CheckManifestOptions } from '../manifest/manifestLocation.js';
import type { TriggerInfo } from '../report/jobSummary.js';
import { readJobSummary } from '../report/readJobSummary.js';
import { reportLocation, type ReportLocation } from '../report/ReportLocation.js';
import { parseCleanupJob, type CleanupJob } from './cleanupJob.js';
import { deriveJobIdentity, type JobIdentity } from './jobIdentity.js';
import { prepareJobSource, type JobSource } from './prepareJobSource.js';
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
}

/** How the first phase ended: the job's report was complete already, or the job is ready to claim. */
export type Prepared = { kind: 'complete'; result: CleanupResult } | { kind: 'ready'; job: PreparedJob };

/**
 * Phase one of a job: validates it (refused as a whole, before anything is deleted, when its
 * shape, target or options are wrong), derives its id (idempotency key, message id, or content
 * hash), answers with the existing summary when its report is complete, and otherwise runs the
 * preparing pass (the manifest read once, checked and counted) and the guard rails: the target
 * allow-list and the blast-radius cap.
 *
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
  let source = needsManifestVersion ? await prepareJobSource(job, deps, request.access) : undefined;
  const identity = request.identity ?? deriveJobIdentity({ idempotencyKey: job.jobId, messageId, content: { job: request.input, manifestETag: source?.manifestETag } });
  const location = request.location ?? reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, identity.jobId);
  const jobLogger = logger.createChild({ persistentKeys: { jobId: identity.jobId } });

  const existing = await readJobSummary(s3, location);
  if (existing !== undefined) {
    jobLogger.info('job already complete; its report is returned as it is', { report: existing.report });
    return { kind: 'complete', result: { summary: existing, reused: true } };
  }
  source ??= await prepareJobSource(job, deps, request.access);
  checkGuardRails(job, source, config);
  const options = resolveOptions(job, config);
  return { kind: 'ready', job: { job, input: request.input, trigger: request.trigger, identity, location, source, options, logger: jobLogger, startedAt } };
}

// Guard rails, before anything is sent: the target allow-list, and the blast-radius cap.
function checkGuardRails(job: CleanupJob, source: JobSource, config: Config): void {
  if (!config.ALLOWED_TARGETS.allows(source.target)) {
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
function resolveOptions(job: CleanupJob, config: Config): PreparedJob['options'] {
  return {
    chunkSize: job.options.chunkSize ?? config.CHUNK_SIZE,
    maxInFlight: job.options.maxInFlight ?? config.MAX_IN_FLIGHT,
    maxAttempts: config.MAX_ATTEMPTS,
    dryRun: job.options.dryRun ?? false,
    failureThreshold: job.options.failureThreshold ?? { minAttempted: config.FAILURE_THRESHOLD_MIN_ATTEMPTED, maxFailureRate: config.FAILURE_THRESHOLD_RATE },
  };
}
