import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { QueueSendError } from '../core/errors.js';
import type { CleanupDeps } from './types.js';

/**
 * Puts one message on the work queue (`WORK_QUEUE_URL`): a job's continuation, a part's own
 * `runPart` message again, or a pending manifest's continuation. The one send for all of them.
 *
 * A message that resumes a job must not be lost silently: when the send fails, this throws, so the
 * work that needed it is not acknowledged (its SQS record fails, and the redelivery resumes from
 * the checkpoint, which is already saved).
 *
 * @returns false when this deployment has no work queue (the job is then resumed as `what` says),
 *   true once the message is on the queue.
 * @throws {QueueSendError} when the queue refused the message or could not be reached (the SDK's
 *   own retries spent); the log line says how to resume by hand.
 */
export async function sendWorkMessage(deps: Pick<CleanupDeps, 'config' | 'sqs' | 'logger'>, body: object, what: { jobId: string; resumeByHand: string }): Promise<boolean> {
  const queueUrl = deps.config.WORK_QUEUE_URL;
  if (queueUrl === undefined || deps.sqs === undefined) return false;
  try {
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
    return true;
  } catch (error) {
    deps.logger.error(`work message not queued; the work that needs it is not acknowledged, so it comes back (or ${what.resumeByHand})`, { jobId: what.jobId, error: error as Error });
    throw new QueueSendError(queueUrl, 1, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
}
