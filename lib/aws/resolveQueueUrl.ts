import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Where a queue is: its URL, or its name in the client's account and region. A deployment gives
 * the name (serverless.yml builds it from the service and stage, which `serverless invoke local`
 * resolves offline; the URL holds the account id, which only CloudFormation knows).
 */
export type QueueAddress = string | { queueName: string };

// Per SQS client (one per container), per queue name: the lookup in flight or done.
const lookups = new WeakMap<SQSClient, Map<string, Promise<string>>>();

/**
 * The queue's URL: the address itself when it is one, else GetQueueUrl at the first call for that
 * client and name, cached for the container's life (a queue's URL never changes). A failed lookup
 * is not cached: the next send looks it up again.
 *
 * @throws the SDK's error when the lookup fails (no such queue, no sqs:GetQueueUrl, no network).
 */
export async function resolveQueueUrl(sqs: SQSClient, queue: QueueAddress): Promise<string> {
  if (typeof queue === 'string') return queue;
  let byName = lookups.get(sqs);
  if (byName === undefined) lookups.set(sqs, (byName = new Map<string, Promise<string>>()));
  const { queueName } = queue;
  const cached = byName.get(queueName);
  if (cached !== undefined) return cached;
  const lookup = sqs.send(new GetQueueUrlCommand({ QueueName: queueName })).then(({ QueueUrl }) => {
    if (QueueUrl === undefined) throw new Error(`GetQueueUrl answered no URL for ${queueName}`);
    return QueueUrl;
  });
  byName.set(queueName, lookup);
  lookup.catch(() => {
    if (byName.get(queueName) === lookup) byName.delete(queueName);
  });
  return lookup;
}
