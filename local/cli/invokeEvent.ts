import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { listKeys } from '../../lib/aws/listKeys.js';
import { createLambdaContext } from '../stack/lambdaContext.js';
import { seedSampleData } from '../stack/sampleData.js';
import { startLocalStack, type LocalStack } from '../stack/startLocalStack.js';

/** The handler an event is for. */
export type HandlerName = 'manual' | 'queue' | 'schedule';

/**
 * Picks the handler from the event's shape: SQS records → `queue`; an EventBridge scheduled event,
 * or Scheduler input (an object with at most `prefix` and `maxManifests`) → `schedule`; anything
 * else is a cleanup job → `manual`.
 */
export function handlerFor(event: unknown): HandlerName {
  if (typeof event !== 'object' || event === null) return 'manual';
  const records = (event as { Records?: unknown }).Records;
  if (Array.isArray(records) && records.every((record) => (record as { eventSource?: unknown })?.eventSource === 'aws:sqs')) return 'queue';
  if ((event as { 'detail-type'?: unknown })['detail-type'] === 'Scheduled Event') return 'schedule';
  if (!Array.isArray(event) && Object.keys(event).every((key) => key === 'prefix' || key === 'maxManifests')) return 'schedule';
  return 'manual';
}

/** What an invocation did: the handler's answer and the reports written meanwhile. */
export interface InvokeOutput {
  handler: HandlerName;
  result: unknown;
  /** Contents of each `summary.json` and `rejected.json` written during the invocation. */
  reports: unknown[];
}

/**
 * Invokes the handler for `event` in this process. Without `REPORT_BUCKET` in the environment it
 * starts an embedded stack, seeds the sample data (`local/stack/sampleData.ts`) and stops it afterwards.
 */
export async function invoke(event: unknown): Promise<InvokeOutput> {
  let stack: LocalStack | undefined;
  if (process.env.REPORT_BUCKET === undefined) {
    stack = await startLocalStack();
    Object.assign(process.env, stack.env);
    await seedSampleData(stack.emulator, stack.s3, stack.env.MANIFEST_BUCKET as string);
  }
  const s3 = new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
  try {
    const bucket = process.env.REPORT_BUCKET as string;
    const prefix = process.env.REPORT_PREFIX ?? 'reports/';
    const before = new Set(await reportKeys(s3, bucket, prefix));
    const handler = handlerFor(event);
    // Imported only now: a handler reads its configuration at load time, as at a Lambda cold start.
    const module = (await import(`../../handlers/${handler}.js`)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
    const result = await module.handler(event, createLambdaContext(`image-cleanup-${handler}`));
    const written = (await reportKeys(s3, bucket, prefix)).filter((key) => !before.has(key));
    const reports = await Promise.all(
      written.map(async (key) => JSON.parse((await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString('utf8')) ?? 'null') as unknown),
    );
    return { handler, result, reports };
  } finally {
    s3.destroy();
    await stack?.stop();
  }
}

async function reportKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of listKeys(s3, bucket, prefix)) if (/\/(summary|rejected)\.json$/.test(key)) keys.push(key);
  return keys;
}
