import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

const COUNTS = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

/**
 * How many messages a queue holds: visible, received and not yet deleted, and delayed. A queue
 * handler sends a continuation before it returns, so the message it was given still counts until
 * the new one does: zero means nothing is left to run.
 */
export async function messagesOnQueue(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...COUNTS] }));
  return COUNTS.reduce((sum, name) => sum + Number(Attributes[name] ?? 0), 0);
}
