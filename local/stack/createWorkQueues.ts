import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Settings of the local work queue, mirroring serverless.yml. */
export interface WorkQueueOptions {
  /** @default 'image-cleanup-work' */
  name?: string;
  /** How long a received message stays invisible; failures come back after it. @default 60 */
  visibilityTimeoutSeconds?: number;
  /** Receives before a message moves to the dead-letter queue (serverless.yml's `maxReceiveCount`). @default 3 */
  maxReceiveCount?: number;
}

/** The URLs of the work queue and its dead-letter queue. */
export interface WorkQueues {
  workQueueUrl: string;
  deadLetterQueueUrl: string;
}

/**
 * Creates the work queue and its dead-letter queue with a redrive policy, as serverless.yml does
 * on AWS (fauxqs honours `RedrivePolicy`).
 */
export async function createWorkQueues(sqs: SQSClient, options: WorkQueueOptions = {}): Promise<WorkQueues> {
  const name = options.name ?? 'image-cleanup-work';
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq`, Attributes: { MessageRetentionPeriod: '1209600' } }));
  const dlqUrl = dlq.QueueUrl as string;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const work = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 60),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: options.maxReceiveCount ?? 3 }),
      },
    }),
  );
  return { workQueueUrl: work.QueueUrl as string, deadLetterQueueUrl: dlqUrl };
}
