import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveQueueUrl } from '../../../lib/aws/resolveQueueUrl.js';
import { useLocalStack } from '../../support/useLocalStack.js';

const stack = useLocalStack();

// A client of the stack's SQS that records the commands it sends (an observer, not a stand-in).
function recordingClient(): { sqs: SQSClient; sent: string[] } {
  const sent: string[] = [];
  const sqs = new SQSClient({ endpoint: stack.env.AWS_ENDPOINT_URL_SQS, region: stack.env.AWS_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  sqs.middlewareStack.add((next, context) => (args) => (sent.push(context.commandName ?? '?'), next(args)), { step: 'initialize' });
  return { sqs, sent };
}

describe('resolveQueueUrl', () => {
  it('answers a URL as given, without a call', async () => {
    const { sqs, sent } = recordingClient();
    expect(await resolveQueueUrl(sqs, 'http://127.0.0.1:1/000000000000/q')).toBe('http://127.0.0.1:1/000000000000/q');
    expect(sent).toEqual([]);
  });

  it('looks a name up once per client: later sends reuse the URL', async () => {
    const { sqs, sent } = recordingClient();
    const name = `resolve-${randomUUID().slice(0, 8)}`;
    const { QueueUrl } = await stack.sqs.send(new CreateQueueCommand({ QueueName: name }));

    const urls = await Promise.all([resolveQueueUrl(sqs, { queueName: name }), resolveQueueUrl(sqs, { queueName: name })]);
    urls.push(await resolveQueueUrl(sqs, { queueName: name }));

    expect(urls).toEqual([QueueUrl, QueueUrl, QueueUrl]);
    expect(sent).toEqual(['GetQueueUrlCommand']);
  });

  it('does not keep a failed lookup: once the queue exists, the next call finds it', async () => {
    const { sqs, sent } = recordingClient();
    const name = `resolve-late-${randomUUID().slice(0, 8)}`;

    await expect(resolveQueueUrl(sqs, { queueName: name })).rejects.toThrow();
    const { QueueUrl } = await stack.sqs.send(new CreateQueueCommand({ QueueName: name }));

    expect(await resolveQueueUrl(sqs, { queueName: name })).toBe(QueueUrl);
    expect(sent).toEqual(['GetQueueUrlCommand', 'GetQueueUrlCommand']);
  });
});
