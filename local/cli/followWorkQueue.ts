import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { setTimeout as delay } from 'node:timers/promises';
import { startSqsPoller, type SqsHandler } from '../stack/sqsPoller.js';
import { messagesOnQueue } from './messagesOnQueue.js';

/** One invocation of the queue handler made while following the work queue. */
export interface FollowedInvocation {
  /** The bodies of the messages it was given (a continuation: `{"continueJob": …}`). */
  messages: string[];
  result: SQSBatchResponse | void;
}

/** What following the work queue did, and why it stopped. */
export interface FollowedQueue {
  invocations: FollowedInvocation[];
  /** `drained`: the queue is empty; otherwise messages are left on it. */
  stoppedBy: 'drained' | 'failure' | 'limit';
}

// Enough for any by-hand run (a job cut into this many invocations has a timeout far too short); a bound on a loop that makes no progress.
const MAX_INVOCATIONS = 100;
const CHECK_EVERY_MS = 100;

/**
 * Runs what an invocation left on the work queue (continuations, the parts of a split job) through
 * the queue handler, one message per invocation, each with a Lambda timeout of `timeoutMs` — the
 * event source mapping's work, played by the local poller (`local/stack/sqsPoller.ts`) — until the
 * queue is empty. It stops early when an invocation leaves a message for redelivery (it would come
 * back only after its visibility timeout) or after {@link MAX_INVOCATIONS}.
 */
export async function followWorkQueue(options: { sqs: SQSClient; queueUrl: string; handler: SqsHandler; timeoutMs: number; onError: (error: unknown) => void }): Promise<FollowedQueue> {
  const { sqs, queueUrl } = options;
  const invocations: FollowedInvocation[] = [];
  if ((await messagesOnQueue(sqs, queueUrl)) === 0) return { invocations, stoppedBy: 'drained' };
  let failed = false;
  const poller = startSqsPoller({
    sqs,
    queueUrl,
    batchSize: 1,
    waitTimeSeconds: 1,
    functionTimeoutMs: options.timeoutMs,
    handler: async (event, context) => {
      const result = await options.handler(event, context);
      invocations.push({ messages: event.Records.map((record) => record.body), result });
      return result;
    },
    onBatch: (batch) => {
      if (batch.failed.length > 0) failed = true;
    },
    onError: options.onError,
  });
  let stoppedBy: FollowedQueue['stoppedBy'] = 'drained';
  for (;;) {
    await delay(CHECK_EVERY_MS);
    if (failed) stoppedBy = 'failure';
    else if (invocations.length >= MAX_INVOCATIONS) stoppedBy = 'limit';
    else if ((await messagesOnQueue(sqs, queueUrl)) > 0) continue;
    break;
  }
  await poller.stop();
  return { invocations, stoppedBy };
}
