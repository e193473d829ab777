import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLambdaContext } from './lambdaContext.js';

/** The queue handler as Lambda calls it. */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

/** Options of {@link startSqsPoller}. */
export interface SqsPollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  /** Messages per batch, as the event source mapping's `batchSize` (SQS returns at most 10 per receive). @default 10 */
  batchSize?: number;
  /** Long-poll wait per receive; also bounds how long `stop()` takes. @default 2 */
  waitTimeSeconds?: number;
  /** The function timeout given to each invocation's context. @default 900000 */
  functionTimeoutMs?: number;
  /** Called after each batch, for logs and tests. */
  onBatch?: (batch: PollerBatch) => void;
  /** Called when the handler throws or a receive fails; the poller keeps going. */
  onError?: (error: unknown) => void;
}

/** What happened to one batch. */
export interface PollerBatch {
  messageIds: string[];
  /** Messages deleted from the queue (successes). */
  deleted: string[];
  /** Messages left for redelivery (failures; all of them when the handler threw). */
  failed: string[];
}

/** A running poller. */
export interface SqsPoller {
  /** Stops receiving, waits for the batch in progress, and resolves when the loop has ended. */
  stop(): Promise<void>;
}

/**
 * Plays the SQS event source mapping of serverless.yml locally: long-polls the queue, invokes the
 * handler with a Lambda-shaped SQS event (records with the attributes Lambda sets), deletes the
 * messages that succeeded and leaves the failures to come back when their visibility timeout
 * ends (`ReportBatchItemFailures`). The queue's own redrive policy moves a message to the
 * dead-letter queue after `maxReceiveCount` receives, as on AWS. As Lambda does, a handler that
 * throws, or answers with an item identifier that is not in the batch, fails the whole batch.
 */
export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const { sqs, queueUrl, handler } = options;
  const abort = new AbortController();
  let running = true;

  const loop = (async () => {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    const queueArn = Attributes?.QueueArn ?? 'arn:aws:sqs:us-east-1:000000000000:unknown';
    const region = queueArn.split(':')[3] ?? 'us-east-1';
    while (running) {
      let messages: Message[];
      try {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(options.batchSize ?? 10, 10),
            WaitTimeSeconds: options.waitTimeSeconds ?? 2,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = received.Messages ?? [];
      } catch (error) {
        if (!running) break;
        options.onError?.(error);
        continue;
      }
      if (messages.length === 0) continue;
      const records = messages.map((message) => toRecord(message, queueArn, region));
      let failedIds: Set<string>;
      try {
        const response = await handler({ Records: records }, createLambdaContext('image-cleanup-queue', options.functionTimeoutMs ?? 900_000));
        const reported = (response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier);
        const known = new Set(records.map((record) => record.messageId));
        // Lambda treats an unknown or empty identifier as a failure of the whole batch.
        failedIds = reported.every((id) => known.has(id)) ? new Set(reported) : known;
      } catch (error) {
        options.onError?.(error);
        failedIds = new Set(records.map((record) => record.messageId));
      }
      const succeeded = records.filter((record) => !failedIds.has(record.messageId));
      if (succeeded.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: succeeded.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })) }),
        );
      }
      options.onBatch?.({ messageIds: records.map((r) => r.messageId), deleted: succeeded.map((r) => r.messageId), failed: [...failedIds] });
    }
  })();

  return {
    async stop() {
      running = false;
      abort.abort();
      await loop.catch(() => undefined);
    },
  };
}

// A received message in the shape Lambda hands to the function.
function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: value.DataType ?? 'String', stringValue: value.StringValue, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}
