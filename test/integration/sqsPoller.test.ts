import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { startSqsPoller, type PollerBatch, type SqsPoller } from '../../local/stack/sqsPoller.js';
import { startLocalStack, type LocalStack } from '../../local/stack/startLocalStack.js';
import { imageIds, stackDeps } from '../support/stackDeps.js';

// Integration: the local poller plays the event source mapping against fauxqs's real SQS (with its
// redrive policy), invoking the real queue handler logic.
const PROJECT = '0123456789abcdef0123456789abcdef';
const target = { projectId: PROJECT, dataAnnotationId: '282' };

let stack: LocalStack | undefined;
let poller: SqsPoller | undefined;

afterEach(async () => {
  await poller?.stop();
  await stack?.stop();
  poller = undefined;
  stack = undefined;
});

async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

async function visibleCount(url: string): Promise<number> {
  const { Attributes } = await stack!.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible);
}

describe('the local SQS poller', () => {
  it('moves a poison message to the dead-letter queue after maxReceiveCount receives, while a good one is processed and deleted', async () => {
    // Prepare
    stack = await startLocalStack({ workQueue: { visibilityTimeoutSeconds: 1, maxReceiveCount: 3 } });
    const ids = imageIds('poller', 5);
    stack.emulator.seedLabellingJob(PROJECT, '282', ids);
    const batches: PollerBatch[] = [];
    const deps = stackDeps(stack);
    poller = startSqsPoller({ sqs: stack.sqs, queueUrl: stack.env.WORK_QUEUE_URL!, handler: (event, context) => processQueueBatch(event, deps, context), waitTimeSeconds: 1, onBatch: (batch) => batches.push(batch) });

    // A message that can never succeed: its job is held by a claim that does not expire (a refused
    // message would not do: it is answered at once with a rejection report, and acknowledged).
    const poisonBody = JSON.stringify({ jobId: 'poller-poison', target, imageIds: imageIds('poison', 1) });
    const claim = { manifestKey: 'poller-poison', owner: 'stuck', claimedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: 'reports/poller-poison/claim.json', Body: JSON.stringify(claim) }));

    // Act
    const poison = await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.env.WORK_QUEUE_URL, MessageBody: poisonBody }));
    const good = await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.env.WORK_QUEUE_URL, MessageBody: JSON.stringify({ target, imageIds: ids }) }));
    const dead = await waitFor(async () => {
      const received = await stack!.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack!.env.DEAD_LETTER_QUEUE_URL, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
      return received.Messages?.[0];
    }, 'the poison message in the dead-letter queue');

    // Assess
    expect(dead.MessageId).toBe(poison.MessageId);
    expect(dead.Body).toBe(poisonBody);
    const poisonReceives = batches.filter((batch) => batch.messageIds.includes(poison.MessageId!));
    expect(poisonReceives).toHaveLength(3);
    expect(poisonReceives.every((batch) => batch.failed.includes(poison.MessageId!))).toBe(true);
    expect(batches.flatMap((batch) => batch.deleted)).toEqual([good.MessageId]);
    expect(stack.emulator.labellingJobImages(PROJECT, '282').size).toBe(0);
    expect(await visibleCount(stack.env.WORK_QUEUE_URL!)).toBe(0);
  });

  it('fails the whole batch when the handler throws, and the messages come back', async () => {
    // Prepare
    stack = await startLocalStack({ workQueue: { visibilityTimeoutSeconds: 1, maxReceiveCount: 5 } });
    const batches: PollerBatch[] = [];
    let calls = 0;
    // A handler that crashes on its first call: only a stand-in shows what the poller does then.
    poller = startSqsPoller({
      sqs: stack.sqs,
      queueUrl: stack.env.WORK_QUEUE_URL!,
      waitTimeSeconds: 1,
      handler: () => {
        calls += 1;
        if (calls === 1) return Promise.reject(new Error('crash'));
        return Promise.resolve({ batchItemFailures: [] });
      },
      onBatch: (batch) => batches.push(batch),
      onError: () => undefined,
    });

    // Act
    const sent = await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.env.WORK_QUEUE_URL, MessageBody: '{}' }));
    await waitFor(() => (batches.length >= 2 ? true : undefined), 'a redelivery');

    // Assess
    expect(batches[0]).toEqual({ messageIds: [sent.MessageId], deleted: [], failed: [sent.MessageId] });
    expect(batches[1]).toEqual({ messageIds: [sent.MessageId], deleted: [sent.MessageId], failed: [] });
  });
});
