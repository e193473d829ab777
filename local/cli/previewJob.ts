import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig, workQueueAddress } from '../../lib/config/config.js';
import { CleanupError } from '../../lib/core/errors.js';
import { systemClock } from '../../lib/core/clock.js';
import { readJobRecord } from '../../lib/job/jobRecord.js';
import { prepareJob } from '../../lib/job/prepareJob.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import type { OperatorEnvironment } from './operatorEnvironment.js';

/** What the preparing pass says of a job, before it is sent; `lines` say it for a person. */
export type JobPreview = { lines: string[]; jobId: string } & (
  | { kind: 'complete'; summary: JobSummary }
  | { kind: 'ready'; entries: number; dryRun: boolean; targetText: string }
);

const number = (n: number): string => n.toLocaleString('en');

/**
 * Runs the job's real preparing pass (lib/job/prepareJob.ts) here, read-only, with the
 * deployment's own settings: the job's shape and options, its job record (a job id naming
 * another job is refused), its manifest read once and counted, the target settled, the
 * allow-list, the blast-radius cap and the option limits — what the function will check when the
 * job arrives. Nothing is written and nothing is sent to ModelArts: the pass reads S3 only.
 *
 * @throws {JobValidationError} when the job is refused: nothing may be sent then.
 */
export async function previewJob(job: Record<string, unknown> & { jobId: string }, where: OperatorEnvironment): Promise<JobPreview> {
  const config = loadConfig(where.env);
  const deps: CleanupDeps = {
    config,
    s3: where.s3,
    clock: systemClock,
    logger: new Logger({ serviceName: 'image-cleanup-cli', logLevel: 'SILENT' }),
    // The preparing pass reads S3 only; these would delete or split, which a preview must never do.
    modelArts: { deleteBatch: () => Promise.reject(new CleanupError('CLI_PREVIEW', 'a preview sends nothing to ModelArts')) },
    planScaleOut: () => Promise.reject(new CleanupError('CLI_PREVIEW', 'a preview splits nothing')),
  };
  const prepared = await prepareJob({ input: job, trigger: { type: 'manual', source: 'image-cleanup submit (preview)' }, access: {} }, deps);
  if (prepared.kind === 'complete') {
    const { summary } = prepared.result;
    return { kind: 'complete', jobId: job.jobId, summary, lines: [`job ${job.jobId} is complete already (${summary.status}): nothing to send`, `report: ${summary.report.summary}`] };
  }
  const { source, options, identity, location } = prepared.job;
  const record = await readJobRecord(where.s3, location);
  const target = source.target;
  const targetText = target.api === 'v1' ? `labelling job ${target.projectId}/${target.dataAnnotationId} (v1)` : `dataset ${target.projectId}/${target.datasetId} (v2${target.deleteSource ? ', its source files deleted too' : ''})`;
  const scaleOut = prepared.job.job.options.scaleOut;
  const partSize = typeof scaleOut === 'object' ? scaleOut.partSize : config.SCALE_OUT_PART_SIZE;
  // planScaleOut's rule (lib/scaleout/planScaleOut.ts): manifest jobs only, forced by the option or above SCALE_OUT_THRESHOLD.
  const splits = source.manifest !== undefined && scaleOut !== false && (scaleOut !== undefined || source.entryCount > config.SCALE_OUT_THRESHOLD) && workQueueAddress(config) !== undefined;
  const lines = [
    `job ${identity.jobId}${record === undefined ? '' : ` — already started (job.json of ${record.createdAt}): sending it again resumes it`}`,
    `  target:      ${targetText}`,
    `  entries:     ${number(source.entryCount)}${source.manifest === undefined ? ' (inline)' : ` in ${source.manifest}`}`,
    `  guard rails: target allowed by ALLOWED_TARGETS; ${source.entryCount > config.MAX_IDS_PER_JOB ? `${number(source.entryCount)} entries over MAX_IDS_PER_JOB (${number(config.MAX_IDS_PER_JOB)}), confirmed` : `within MAX_IDS_PER_JOB (${number(config.MAX_IDS_PER_JOB)})`}`,
    `  runs with:   ${options.dryRun ? 'DRY RUN (nothing deleted), ' : ''}chunks of ${options.chunkSize}, up to ${options.maxInFlight} requests in flight; stops when ${options.failureThreshold.maxFailureRate * 100}% of ${number(options.failureThreshold.minAttempted)}+ attempted fail${options.notFoundThreshold === undefined ? '' : `, or ${options.notFoundThreshold.maxNotFoundRate * 100}% of ${number(options.notFoundThreshold.minAttempted)}+ are not found`}`,
    `  split:       ${splits ? `yes, into ${Math.ceil(source.entryCount / partSize)} parts of up to ${number(partSize)} on the work queue` : 'no, one job (continued from its checkpoint if the deadline cuts it)'}`,
    `  report:      s3://${location.bucket}/${location.prefix}`,
  ];
  return { kind: 'ready', jobId: identity.jobId, entries: source.entryCount, dryRun: options.dryRun, targetText, lines };
}
