import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { CleanupDeps } from './types.js';

/**
 * Puts one message on the work queue (`WORK_QUEUE_URL`): a job's continuation, or a part's own
 * `runPart` message again. The one send for both.
 *
 * @returns false when this deployment has no work queue, or the send failed (logged with `what`,
 *   which tells an operator how to resume by hand).
 */
export async function sendWorkMessage(deps: Pick<CleanupDeps, 'config' | 'sqs' | 'logger'>, body: object, what: { jobId: string; resumeByHand: string }): Promise<boolean> {
  const queueUrl = deps.config.WORK_QUEUE_URL;
  if (queueUrl === undefined || deps.sqs === undefined) return false;
  try {
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
    return true;
  } catch (error) {
    // The checkpoint is saved: resuming by hand goes on from it. Say so rather than fail.
    deps.logger.error(`continuation not queued; ${what.resumeByHand}`, { jobId: what.jobId, error: error as Error });
    return false;
  }
}
