import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import type { AddressInfo } from 'node:net';
import { ModelArtsEmulator, type EmulatorSettings } from '../emulator/modelArtsEmulator.js';
import { createWorkQueues, type WorkQueueOptions } from './createWorkQueues.js';
import { enforceS3ConditionalWrites } from './s3ConditionalWrites.js';
import { emulateS3Versioning } from './s3Versioning.js';
import { registerLocalCredentials } from './localCredentials.js';

/** The embedded local stack: S3 and SQS (fauxqs) and the ModelArts emulator, all on 127.0.0.1. */
export interface LocalStack {
  /** Environment that points the function (and the AWS SDK) at this stack. */
  env: Record<string, string>;
  emulator: ModelArtsEmulator;
  /** An S3 client for this stack, for seeding and checking. */
  s3: S3Client;
  /** An SQS client for this stack (work queue and dead-letter queue URLs are in `env`). */
  sqs: SQSClient;
  stop(): Promise<void>;
}

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  /** Bucket for reports, created at start. @default 'image-cleanup-reports' */
  reportBucket?: string;
  /** Bucket for manifests, created at start. @default 'image-cleanup-manifests' */
  manifestBucket?: string;
  /**
   * Keep versions in the manifest bucket, as serverless.yml configures it on AWS
   * (local/stack/s3Versioning.ts): writes answer a `VersionId`, older versions stay readable.
   * @default false (objects have no `VersionId`: the ETag names a version)
   */
  manifestVersioning?: boolean;
  /** The work queue and its dead-letter queue, created at start. */
  workQueue?: WorkQueueOptions;
  emulator?: Partial<EmulatorSettings>;
  /** Fixed ports (0 picks free ones). */
  awsPort?: number;
  modelArtsPort?: number;
}

// Placeholder credentials: the local stack accepts any, and the SDK needs some to sign.
const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1' };

/** Starts the embedded stack and creates the report bucket. Call `stop()` when done. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  // fauxqs's own start helper binds to 0.0.0.0; its app builder lets us bind to loopback only.
  const aws = buildApp({ logger: false });
  // Real S3 enforces If-None-Match / If-Match on writes (the manifest claims rely on it); fauxqs does not.
  enforceS3ConditionalWrites(aws);
  const manifestBucket = options.manifestBucket ?? 'image-cleanup-manifests';
  if (options.manifestVersioning === true) emulateS3Versioning(aws, [manifestBucket]);
  await aws.listen({ port: options.awsPort ?? 0, host: '127.0.0.1' });
  const awsUrl = `http://127.0.0.1:${(aws.server.address() as AddressInfo).port}`;

  const emulator = new ModelArtsEmulator(options.emulator);
  const modelArtsUrl = await emulator.start(options.modelArtsPort ?? 0);

  const reportBucket = options.reportBucket ?? 'image-cleanup-reports';
  const env: Record<string, string> = {
    ...LOCAL_CREDENTIALS,
    AWS_ENDPOINT_URL_S3: awsUrl,
    AWS_ENDPOINT_URL_SQS: awsUrl,
    S3_FORCE_PATH_STYLE: 'true',
    REPORT_BUCKET: reportBucket,
    MODELARTS_ENDPOINT: modelArtsUrl,
    // The local stack may delete from any target; deployments list theirs (docs/safety.md).
    ALLOWED_TARGETS: '*',
    // With `emulator.auth` set, made-up credentials for it (MODELARTS_AUTH and MODELARTS_*).
    ...registerLocalCredentials(emulator),
  };
  const s3 = new S3Client({
    endpoint: awsUrl,
    forcePathStyle: true,
    region: LOCAL_CREDENTIALS.AWS_REGION,
    credentials: { accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY },
  });
  await s3.send(new CreateBucketCommand({ Bucket: reportBucket }));
  env.MANIFEST_BUCKET = manifestBucket;
  await s3.send(new CreateBucketCommand({ Bucket: env.MANIFEST_BUCKET }));
  const sqs = new SQSClient({ endpoint: awsUrl, region: LOCAL_CREDENTIALS.AWS_REGION, credentials: { accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY } });
  const queues = await createWorkQueues(sqs, options.workQueue);
  env.WORK_QUEUE_URL = queues.workQueueUrl;
  env.DEAD_LETTER_QUEUE_URL = queues.deadLetterQueueUrl;

  return {
    env,
    emulator,
    s3,
    sqs,
    async stop() {
      s3.destroy();
      sqs.destroy();
      await emulator.stop();
      await aws.close();
    },
  };
}
