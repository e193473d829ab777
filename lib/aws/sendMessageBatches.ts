import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QueueSendError } from '../core/errors.js';
import { resolveQueueUrl, type QueueAddress } from './resolveQueueUrl.js';

const PER_CALL = 10; // SendMessageBatch takes at most 10 entries.
const ATTEMPTS = 3;

/**
 * Sends message bodies to a queue with SendMessageBatch, 10 per call, sending again the entries a
 * call reports as failed (up to 3 attempts each).
 *
 * @param queue - The queue's URL, or its name (its URL looked up once, lib/aws/resolveQueueUrl.ts).
 * @throws {QueueSendError} when some entries were still refused; the ones before were sent.
 */
export async function sendMessageBatches(sqs: SQSClient, queue: QueueAddress, bodies: readonly string[]): Promise<void> {
  if (bodies.length === 0) return;
  const queueUrl = await resolveQueueUrl(sqs, queue);
  for (let start = 0; start < bodies.length; start += PER_CALL) {
    let entries = bodies.slice(start, start + PER_CALL).map((body, i) => ({ Id: String(start + i), MessageBody: body }));
    for (let attempt = 1; entries.length > 0; attempt += 1) {
      const answer = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      const failed = answer.Failed ?? [];
      const again = new Set(failed.map((entry) => entry.Id));
      entries = entries.filter((entry) => again.has(entry.Id));
      if (entries.length > 0 && attempt >= ATTEMPTS) throw new QueueSendError(queueUrl, entries.length, failed.map((entry) => `${entry.Code ?? '?'}: ${entry.Message ?? ''}`).join('; '));
    }
  }
}
