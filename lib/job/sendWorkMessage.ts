import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { resolveQueueUrl } from '../aws/resolveQueueUrl.js';
import { workQueueAddress } from '../config/config.js';
import { QueueSendError } from '../core/errors.js';
import type { CleanupDeps } from './types.js';

/**
 * Puts one message on the work queue (`WORK_QUEUE_URL`, or `WORK_QUEUE_NAME` looked up at the first
 * send): a job's continuation, a part's own `runPart` message again, or a pending manifest's
 * continuation. The one send for all of them.
 *
 * A message that resumes a job must not be lost silently: when the send fails, this throws, so the
 * work that needed it is not acknowledged (its SQS record fails, and the redelivery resumes from
 * the checkpoint, which is already saved).
 *
 * @returns false when this deployment has no work queue (the job is then resumed as `what` says),
 *   true once the message is on the queue.
 * @throws {QueueSendError} when the queue refused the message, could not be reached or its URL
 *   not looked up (the SDK's own retries spent); the log line says how to resume by hand.
 */
export async function sendWorkMessage(deps: Pick<CleanupDeps, 'config' | 'sqs' | 'logger'>, body: object, what: { jobId: string; resumeByHand: string }): Promise<boolean> {
  const queue = workQueueAddress(deps.config);
  if (queue === undefined || deps.sqs === undefined) return false;
  try {
    const queueUrl = await resolveQueueUrl(deps.sqs, queue);
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
    return true;
  } catch (error) {
    deps.logger.error(`work message not queued; the work that needs it is not acknowledged, so it comes back (or ${what.resumeByHand})`, { jobId: what.jobId, error: error as Error });
    throw new QueueSendError(typeof queue === 'string' ? queue : queue.queueName, 1, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
}
