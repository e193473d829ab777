import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DeadlineReachedError, JobInProgressError, JobValidationError, QueueMessageError } from '../core/errors.js';
import { invocationBudget } from '../job/invocationBudget.js';
import type { JobSummary } from '../report/jobSummary.js';
import { checkManifestLocation, manifestLayout } from '../manifest/manifestLocation.js';
import { processPendingManifest, type PendingManifestOutcome } from './processPendingManifest.js';
import { readQueueMessage } from './queueMessage.js';
import { continueCleanupJob, runCleanupJob } from '../job/runCleanupJob.js';
import { type CleanupDeps } from '../job/types.js';
import { runScaleOutPart } from '../scaleout/runScaleOutPart.js';

/** What one message led to, when it succeeded. */
export type QueueRecordResult =
  | { kind: 'job'; summary: JobSummary }
  | { kind: 'manifests'; manifests: PendingManifestOutcome[] }
  | { kind: 'ignored'; reason: string };

/**
 * Processes a batch from the work queue with partial batch responses (Powertools batch): each
 * message succeeds or fails alone, and only the failures are reported in `batchItemFailures`, so
 * SQS redelivers just those (and moves them to the dead-letter queue after `maxReceiveCount`).
 * Messages run one after the other, so a worker never has more than one job's requests in flight
 * (see the capacity arithmetic in docs/deployment.md). A batch where every message fails reports every
 * message rather than throwing, so the answer is the same whatever the mix.
 */
export async function processQueueBatch(event: SQSEvent, deps: CleanupDeps, context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(event, (record: SQSRecord) => processQueueRecord(record, deps, context), processor, {
    context: context as Context,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
}

/**
 * Processes one queue message: a job runs as given (trigger `queue`, source the message id); a
 * manifest notification processes each pending manifest it names (claimed, so a duplicate
 * notification or an overlapping schedule never runs one twice); an S3 test event is ignored.
 *
 * @throws {QueueMessageError} for a malformed message or a job refused as a whole, after one
 *   structured log line naming the message id and each wrong field.
 * @throws {DeadlineReachedError} when too little time is left to start: the message comes back.
 */
export async function processQueueRecord(record: SQSRecord, deps: CleanupDeps, context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<QueueRecordResult> {
  const { config, clock, logger } = deps;
  const { messageId } = record;
  const remainingMs = context.getRemainingTimeInMillis();
  if (remainingMs < config.DEADLINE_MARGIN_MS) {
    logger.warn('queue message not started: deadline near; it will be redelivered', { messageId, remainingMs });
    throw new DeadlineReachedError(remainingMs);
  }
  const budget = invocationBudget(clock.now(), remainingMs, config);
  const trigger = { type: 'queue' as const, source: messageId };
  try {
    const work = readQueueMessage(record);
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
      case 'manifests': {
        const pending = manifestLayout(config).pending;
        const manifests: PendingManifestOutcome[] = [];
        for (const object of work.objects) {
          const location = checkManifestLocation(object.bucket, object.key, config, { allowPending: true });
          if (!location.key.startsWith(pending)) {
            throw new JobValidationError([{ path: 'body.Records.s3.object.key', message: `expected a manifest under ${pending}; got "${location.key}" (check the bucket notification's prefix filter)` }]);
          }
          manifests.push(await processPendingManifest(location.key, trigger, deps, budget, context.awsRequestId));
        }
        return { kind: 'manifests', manifests };
      }
    }
  } catch (error) {
    const refusal = error instanceof JobValidationError ? new QueueMessageError(messageId, error.issues) : error;
    if (error instanceof JobInProgressError) {
      logger.info('job already running elsewhere; the message comes back later', { messageId, jobId: error.jobId });
    } else if (refusal instanceof QueueMessageError) {
      // The one line that tells an operator which message is wrong and where.
      logger.error('queue message refused', { messageId, code: refusal.code, issues: refusal.issues, receiveCount: record.attributes?.ApproximateReceiveCount });
    } else {
      logger.error('queue message failed; it will be redelivered', { messageId, error: error as Error });
    }
    throw refusal;
  }
}
