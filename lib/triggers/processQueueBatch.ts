import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { CleanupError, DeadlineReachedError, JobInProgressError, JobValidationError, QueueMessageError, type ValidationIssue } from '../core/errors.js';
import { invocationBudget } from '../job/invocationBudget.js';
import { deriveJobIdentity, jobIdSchema } from '../job/jobIdentity.js';
import type { JobSummary } from '../report/jobSummary.js';
import { processPendingManifest, type PendingManifestOutcome } from './processPendingManifest.js';
import { readQueueMessage, type QueueWork } from './queueMessage.js';
import { continueCleanupJob, runCleanupJob } from '../job/runCleanupJob.js';
import { type CleanupDeps } from '../job/types.js';
import { runScaleOutPart } from '../scaleout/runScaleOutPart.js';
import { reportRefusal } from './reportRefusal.js';

/** What one message led to, when it succeeded. */
export type QueueRecordResult =
  | { kind: 'job'; summary: JobSummary }
  | { kind: 'manifests'; manifests: PendingManifestOutcome[] }
  /** Refused as a whole (a malformed message, a job refused before anything was deleted): answered with `rejected.json`, not retried. */
  | { kind: 'refused'; jobId: string; report: string; code: string }
  | { kind: 'ignored'; reason: string };

type LambdaContext = Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>;

/**
 * Processes a batch from the work queue with partial batch responses (Powertools batch): each
 * message succeeds or fails alone, and only the failures are reported in `batchItemFailures`, so
 * SQS redelivers just those (and moves them to the dead-letter queue after `maxReceiveCount`).
 * Messages run one after the other, so a worker never has more than one job's requests in flight
 * (see the capacity arithmetic in docs/deployment.md). A batch where every message fails reports every
 * message rather than throwing, so the answer is the same whatever the mix.
 */
export async function processQueueBatch(event: SQSEvent, deps: CleanupDeps, context: LambdaContext): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(event, (record: SQSRecord) => asErrors(processQueueRecord(record, deps, context)), processor, {
    context: context as Context,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
}

/**
 * Processes one queue message: a job runs as given (trigger `queue`, source the message id); a
 * manifest notification processes each pending manifest it names, and a pending continuation the
 * version it names (lib/triggers/processPendingManifest.ts); a continuation or a part goes on with
 * its job; an S3 test event is ignored.
 *
 * A message is acknowledged only when that is safe. Work refused as a whole — a malformed message,
 * a job its validation or guard rails refuse, a pending key refused — cannot succeed by retrying:
 * it is answered at once with `rejected.json` (in `{REPORT_PREFIX}{jobId}/`: the job's own
 * `jobId`, else `msg-{messageId}`), one structured log line, and success. Everything else that
 * stops the work fails the record, so SQS brings it back: the job running elsewhere, a pending
 * manifest claimed by another run (a version uploaded during a run is a job of its own, run when
 * the message comes back), a continuation or part message that could not be sent, S3 down.
 *
 * @throws {DeadlineReachedError} when too little time is left to start: the message comes back.
 * @throws {JobInProgressError} when the job runs in another invocation, and a {@link CleanupError}
 *   `MANIFEST_CLAIMED` when a pending manifest does: the message comes back.
 */
export async function processQueueRecord(record: SQSRecord, deps: CleanupDeps, context: LambdaContext): Promise<QueueRecordResult> {
  const { config, clock, logger } = deps;
  const { messageId } = record;
  const remainingMs = context.getRemainingTimeInMillis();
  if (remainingMs < config.DEADLINE_MARGIN_MS) {
    logger.warn('queue message not started: deadline near; it will be redelivered', { messageId, remainingMs });
    throw new DeadlineReachedError(remainingMs);
  }
  const budget = invocationBudget(clock.now(), remainingMs, config);
  const trigger = { type: 'queue' as const, source: messageId };
  let work: QueueWork | undefined;
  try {
    work = readQueueMessage(record);
    switch (work.kind) {
      case 'ignore':
        logger.info('queue message ignored', { messageId, reason: work.reason });
        return { kind: 'ignored', reason: work.reason };
      case 'job': {
        const { summary } = await runCleanupJob(work.job, trigger, deps, budget);
        return { kind: 'job', summary };
      }
      case 'continuation': {
        const { summary } = await continueCleanupJob(work.jobId, deps, budget);
        return { kind: 'job', summary };
      }
      case 'part': {
        const { summary } = await runScaleOutPart(work.jobId, work.part, trigger, deps, budget);
        return { kind: 'job', summary };
      }
      case 'pending_continuation':
        return pendingOutcomes(record, [await processPendingManifest({ bucket: config.MANIFEST_BUCKET ?? '', key: work.key, version: work.version }, trigger, deps, budget, context.awsRequestId)], deps);
      case 'manifests': {
        const manifests: PendingManifestOutcome[] = [];
        for (const object of work.objects) manifests.push(await processPendingManifest(object, trigger, deps, budget, context.awsRequestId));
        return pendingOutcomes(record, manifests, deps);
      }
    }
  } catch (error) {
    if (error instanceof JobValidationError || error instanceof QueueMessageError) return answerRefusal(record, work, error, deps);
    if (error instanceof JobInProgressError) {
      logger.info('job already running elsewhere; the message comes back later', { messageId, jobId: error.jobId });
    } else if (!(error instanceof CleanupError && error.code === 'MANIFEST_CLAIMED')) {
      logger.error('queue message failed; it will be redelivered', { messageId, error: error as Error });
    }
    throw error;
  }
}

// A notification's (or continuation's) pending manifests: refused keys are answered (their reports
// are written); one claimed by another run fails the message, so it comes back once that run ended.
function pendingOutcomes(record: SQSRecord, manifests: PendingManifestOutcome[], deps: CleanupDeps): QueueRecordResult {
  const { messageId } = record;
  const refused = manifests.filter((m) => m.status === 'refused');
  if (refused.length > 0) {
    const issues: ValidationIssue[] = refused.flatMap((m) => m.issues);
    deps.logger.error('queue message refused', { messageId, code: 'INVALID_MESSAGE', issues, reports: refused.map((m) => m.report), receiveCount: record.attributes?.ApproximateReceiveCount });
  }
  const busy = manifests.filter((m) => m.status === 'skipped' && m.reason === 'claimed_elsewhere').map((m) => m.manifestKey);
  if (busy.length > 0) {
    deps.logger.info('pending manifest claimed by another run; the message comes back later', { messageId, manifests: busy });
    throw new CleanupError('MANIFEST_CLAIMED', `Pending manifest ${busy.join(', ')} is claimed by another run; the message comes back once it is free`);
  }
  return { kind: 'manifests', manifests };
}

// Refused as a whole: retrying cannot help, so the answer is a report and success.
async function answerRefusal(record: SQSRecord, work: QueueWork | undefined, error: JobValidationError | QueueMessageError, deps: CleanupDeps): Promise<QueueRecordResult> {
  const { messageId } = record;
  const jobId = refusedJobId(record, work, error);
  // The one line that tells an operator which message is wrong and where, with the refusal's own
  // code (INVALID_MESSAGE, INVALID_JOB, JOB_ID_CONFLICT, MANIFEST_CHANGED…), as rejected.json has it.
  deps.logger.error('queue message refused', { messageId, code: error.code, cause: error.code, issues: error.issues, jobId, receiveCount: record.attributes?.ApproximateReceiveCount });
  const report = await reportRefusal(deps, jobId, { type: 'queue', source: messageId }, error instanceof QueueMessageError ? error : { code: error.code, message: error.message, issues: error.issues });
  return { kind: 'refused', jobId, report, code: error.code };
}

// The refused job's own folder when it named its id (and that id is not another job's); else the message's.
function refusedJobId(record: SQSRecord, work: QueueWork | undefined, error: CleanupError): string {
  const given = work?.kind === 'job' ? (work.job as { jobId?: unknown }).jobId : undefined;
  if (error.code !== 'JOB_ID_CONFLICT' && jobIdSchema.safeParse(given).success) return given as string;
  return deriveJobIdentity({ messageId: typeof record.messageId === 'string' && record.messageId !== '' ? record.messageId : 'unknown', content: null }).jobId;
}

// Powertools batch (2.35) reads `error.message` of whatever a record handler throws, so a throw of
// anything but an Error (undefined, a string) rejects the whole batch instead of failing one
// record (aws-powertools/powertools-lambda-typescript#5624): every throw reaches it as an Error.
async function asErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof Error) throw error;
    throw new CleanupError('NOT_AN_ERROR', `the record's processing threw ${describe(error)}, not an Error`, { cause: error });
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return (JSON.stringify(value) ?? typeof value).slice(0, 200);
  } catch {
    return typeof value;
  }
}
