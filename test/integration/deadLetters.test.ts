import { Logger } from '@aws-lambda-powertools/logger';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import { createModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { jobSummarySchema, type JobSummary } from '../../lib/report/jobSummary.js';
import type { RejectionReport } from '../../lib/report/writeRejectionReport.js';
import { jobProgressSchema } from '../../lib/scaleout/jobProgressSchema.js';
import { planSlot, planSlots } from '../../lib/scaleout/planPartition.js';
import { scaleOutPlanSchema } from '../../lib/scaleout/scaleOutPlanSchema.js';
import { processDeadLetters } from '../../lib/triggers/processDeadLetters.js';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { startSqsPoller } from '../../local/stack/sqsPoller.js';
import { seededRandom } from '../../local/emulator/seededRandom.js';
import { clockedModelArts } from '../support/clockedModelArts.js';
import { readResults } from '../support/readResults.js';
import { sqsEvent, sqsRecord } from '../support/sqsEvents.js';
import { imageIds, readS3Text, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { virtualClock } from '../support/virtualClock.js';

// Integration: every message that reaches the dead-letter queue gets a report (issue 12,
// situations 5 and 6), against the local stack: fauxqs's own redrive policy moves a message to the
// dead-letter queue after maxReceiveCount receives, and lib/triggers/processDeadLetters.ts runs on it.
const PROJECT = '0123456789abcdef0123456789abcdef';
const stack = useLocalStack();
let bucket: string;

beforeAll(() => {
  bucket = stack.env.MANIFEST_BUCKET!;
});
beforeEach(() => {
  stack.emulator.requests.length = 0;
});

const context = (): Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'> => createLambdaContext('dead-letter', 900_000);
const deadLetter = (body: string, messageId: string) => {
  const record = sqsRecord(body, messageId);
  record.attributes.ApproximateReceiveCount = '4';
  return record;
};

async function summaryOf(jobId: string): Promise<JobSummary | undefined> {
  return readS3Json(stack.s3, stack.env.REPORT_BUCKET!, `reports/${jobId}/summary.json`, jobSummarySchema);
}

async function rejectionOf(jobId: string): Promise<RejectionReport> {
  return JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/${jobId}/rejected.json`)) as RejectionReport;
}

async function keys(prefix: string): Promise<string[]> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

/** Checks a report against the emulator's store for every ID named: deleted or already gone means absent, anything else present. */
async function expectReportMatchesStore(summary: JobSummary, store: ReadonlySet<string>, named: readonly string[]): Promise<Map<string, { outcome: string; error_code?: string }>> {
  const lines = new Map((await readResults(stack.s3, summary.report.results)).map((line) => [line.image_id, line]));
  for (const id of named) {
    const line = lines.get(id);
    expect(line, `outcome of ${id}`).toBeDefined();
    expect(store.has(id), `${id} is ${line?.outcome}`).toBe(!(line?.outcome === 'deleted' || line?.outcome === 'already_deleted'));
  }
  return lines;
}

/** An S3 client that fails every read of one key, as an outage of that object would (fauxqs cannot fail a chosen read). */
function failingReadsOf(real: S3Client, key: string): S3Client {
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return async (command: { constructor: { name: string }; input: { Key?: string } }, ...rest: unknown[]) => {
        if (command.constructor.name === 'GetObjectCommand' && command.input.Key === key) throw Object.assign(new Error(`injected read failure of ${key}`), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
        return (real.send as (...args: unknown[]) => Promise<unknown>).call(real, command, ...rest);
      };
    },
  });
}

describe('the dead-letter queue handler', () => {
  it('completes a split job whose part failed every delivery: that part\'s entries failed (DEAD_LETTERED), the rest as run, progress done', async () => {
    // Prepare: two parts of about 10 (hash slots); every read of part 2's manifest fails on the workers.
    const ids = imageIds('dead-part', 20);
    stack.emulator.seedLabellingJob(PROJECT, '710', ids);
    const { workQueueUrl, deadLetterQueueUrl } = await createWorkQueues(stack.sqs, { name: `dlq-part-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    const jobId = `dead-part-${randomUUID().slice(0, 8)}`;
    const env = { WORK_QUEUE_URL: workQueueUrl };
    const workers = stackDeps(stack, env, { s3: failingReadsOf(stack.s3, `reports/${jobId}/plan/part-0002.jsonl`) });
    const manifestKey = `uploads/${jobId}.txt`;
    await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey, Body: ids.join('\n') }));
    const job = { jobId, target: { projectId: PROJECT, dataAnnotationId: '710' }, manifest: `s3://${bucket}/${manifestKey}`, options: { chunkSize: 5, scaleOut: { partSize: 10 } } };
    const pollers = [
      startSqsPoller({ sqs: stack.sqs, queueUrl: workQueueUrl, handler: (event, ctx) => processQueueBatch(event, workers, ctx), waitTimeSeconds: 1 }),
      startSqsPoller({ sqs: stack.sqs, queueUrl: deadLetterQueueUrl, handler: (event, ctx) => processDeadLetters(event, stackDeps(stack, env), ctx), batchSize: 1, waitTimeSeconds: 1 }),
    ];

    // Act
    let summary: JobSummary | undefined;
    try {
      await processQueueBatch(sqsEvent(sqsRecord(JSON.stringify(job), `${jobId}-message`)), workers, context());
      for (let waited = 0; summary === undefined && waited < 40_000; waited += 200) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        summary = await summaryOf(jobId);
      }
    } finally {
      await Promise.all(pollers.map((poller) => poller.stop()));
    }

    // Assess: part 2's IDs are those of its hash slot.
    const plan = (await readS3Json(stack.s3, stack.env.REPORT_BUCKET!, `reports/${jobId}/plan.json`, scaleOutPlanSchema))!;
    const partTwo = ids.filter((id) => planSlot(id, planSlots(plan.entries, plan.partSize)) + 1 === plan.parts[1]!.slot);
    expect(partTwo).toHaveLength(plan.parts[1]!.entries);
    expect(summary).toMatchObject({ status: 'stopped_abandoned', stop: { kind: 'abandoned', cause: 'dead_lettered', parts: [2] }, counts: { received: 20, deleted: 20 - partTwo.length, failed: partTwo.length } });
    const store = stack.emulator.labellingJobImages(PROJECT, '710');
    const lines = await expectReportMatchesStore(summary!, store, ids);
    expect(ids.filter((id) => partTwo.includes(id)).map((id) => lines.get(id)?.error_code)).toEqual(Array(partTwo.length).fill('DEAD_LETTERED'));
    expect(ids.filter((id) => !partTwo.includes(id)).map((id) => lines.get(id)?.outcome)).toEqual(Array(20 - partTwo.length).fill('deleted'));
    expect(await readS3Json(stack.s3, stack.env.REPORT_BUCKET!, `reports/${jobId}/progress.json`, jobProgressSchema)).toMatchObject({ state: 'done', status: 'stopped_abandoned', parts: { total: 2, done: 2, running: 0 } });
  }, 60_000);

  it('finishes a job whose continuation was dead-lettered from its checkpoint: the entries not reached failed, the report equal to the store', async () => {
    // Prepare: a job cut after about 10 requests of 10 IDs, its continuation on the queue.
    const ids = imageIds('dead-continuation', 300);
    stack.emulator.seedLabellingJob(PROJECT, '720', ids);
    const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `dlq-cont-${randomUUID().slice(0, 8)}` });
    const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(3), sleeps: 'advance' });
    const config = loadConfig({ ...stack.env, WORK_QUEUE_URL: workQueueUrl, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', DEADLINE_MARGIN_MS: '1000', REQUEST_TIMEOUT_MS: '1000' });
    const modelArts = clockedModelArts(createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, now: () => clock.now() }), clock, 10);
    const deps: CleanupDeps = createCleanupDeps(config, { s3: stack.s3, sqs: stack.sqs, clock, modelArts, logger: new Logger({ serviceName: 'image-cleanup-test', logLevel: 'SILENT' }) });
    delete deps.metrics;
    await processQueueBatch(sqsEvent(sqsRecord(JSON.stringify({ target: { projectId: PROJECT, dataAnnotationId: '720' }, imageIds: ids, options: { chunkSize: 10, maxInFlight: 1 } }), 'dead-continuation-1')), deps, createLambdaContext('queue', 2_100, () => clock.now()));
    const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: workQueueUrl, MaxNumberOfMessages: 1 }));
    const continuation = Messages[0]!;
    await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: workQueueUrl, ReceiptHandle: continuation.ReceiptHandle }));
    const deletedBefore = ids.filter((id) => !stack.emulator.labellingJobImages(PROJECT, '720').has(id)).length;

    // Act: the continuation as it arrives on the dead-letter queue (same message id, its receives counted).
    const response = await processDeadLetters(sqsEvent(deadLetter(continuation.Body ?? '', continuation.MessageId ?? '')), deps, context());

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const summary = await summaryOf('msg-dead-continuation-1');
    expect(summary).toMatchObject({ status: 'stopped_abandoned', stop: { kind: 'abandoned', cause: 'dead_lettered' }, counts: { received: 300, deleted: deletedBefore, failed: 300 - deletedBefore } });
    expect(deletedBefore).toBeGreaterThan(0);
    expect(summary!.stop).toMatchObject({ resumeAfter: deletedBefore });
    await expectReportMatchesStore(summary!, stack.emulator.labellingJobImages(PROJECT, '720'), ids);
    expect(stack.emulator.requests.filter((r) => r.status === 200).flatMap((r) => r.imageIds)).toHaveLength(deletedBefore);
  });

  it('refuses a dead-lettered job sent under another job\'s id in its own folder (JOB_ID_CONFLICT): the job recorded there, cut with a checkpoint, is untouched', async () => {
    // Prepare: the first job under the id is cut by the deadline (a record and a checkpoint).
    const jobId = `dlq-conflict-${randomUUID().slice(0, 8)}`;
    const ids = imageIds(`${jobId}-first`, 300);
    stack.emulator.seedLabellingJob(PROJECT, '725', ids);
    const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(4), sleeps: 'advance' });
    const config = loadConfig({ ...stack.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', DEADLINE_MARGIN_MS: '1000', REQUEST_TIMEOUT_MS: '1000' });
    const modelArts = clockedModelArts(createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, now: () => clock.now() }), clock, 10);
    const deps: CleanupDeps = createCleanupDeps(config, { s3: stack.s3, clock, modelArts, logger: new Logger({ serviceName: 'image-cleanup-test', logLevel: 'SILENT' }) });
    delete deps.metrics;
    const target = { projectId: PROJECT, dataAnnotationId: '725' };
    await processQueueBatch(sqsEvent(sqsRecord(JSON.stringify({ jobId, target, imageIds: ids, options: { chunkSize: 10, maxInFlight: 1 } }), `${jobId}-m1`)), deps, createLambdaContext('queue', 2_100, () => clock.now()));
    const folder = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.env.REPORT_BUCKET, Prefix: `reports/${jobId}/` }));
    const before = (folder.Contents ?? []).map((object) => object.Key).sort();
    const requests = stack.emulator.requests.length;

    // Act: another job under the same id, as it arrives on the dead-letter queue.
    const response = await processDeadLetters(sqsEvent(deadLetter(JSON.stringify({ jobId, target, imageIds: imageIds(`${jobId}-other`, 5) }), `${jobId}-m2`)), deps, context());

    // Assess: refused where the work queue refuses it; the first job's folder as it was, nothing sent.
    expect(response.batchItemFailures).toEqual([]);
    expect(await rejectionOf(`msg-${jobId}-m2`)).toMatchObject({ status: 'rejected', trigger: { type: 'queue', source: `${jobId}-m2` }, error: { code: 'JOB_ID_CONFLICT', issues: [{ path: 'imageIds' }] } });
    const after = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.env.REPORT_BUCKET, Prefix: `reports/${jobId}/` }));
    expect((after.Contents ?? []).map((object) => object.Key).sort()).toEqual(before);
    expect(before).toContain(`reports/${jobId}/checkpoint.json`);
    expect(stack.emulator.requests).toHaveLength(requests);
  });

  it('answers a dead-lettered job that never saved a checkpoint with rejected.json (DEAD_LETTERED), sending nothing', async () => {
    // Act
    const response = await processDeadLetters(sqsEvent(deadLetter(JSON.stringify({ target: { projectId: PROJECT, dataAnnotationId: '730' }, imageIds: imageIds('dead-job', 3) }), 'dead-job-1')), stackDeps(stack), context());

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const report = await rejectionOf('msg-dead-job-1');
    expect(report).toMatchObject({ jobId: 'msg-dead-job-1', status: 'rejected', trigger: { type: 'queue', source: 'dead-job-1' }, error: { code: 'DEAD_LETTERED' } });
    expect(report.error.message).toContain('Send the job again');
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it('moves a pending manifest whose notification was dead-lettered to failed/, with its report, deleting nothing', async () => {
    // Prepare
    const key = `pending/v1/${PROJECT}/740/dead-${randomUUID().slice(0, 8)}.txt`;
    const ids = imageIds('dead-notification', 3);
    stack.emulator.seedLabellingJob(PROJECT, '740', ids);
    await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: ids.join('\n') }));
    const body = JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key } } }] });

    // Act
    const response = await processDeadLetters(sqsEvent(deadLetter(body, 'dead-notification-1')), stackDeps(stack), context());

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await keys(key)).toEqual([]);
    const moved = (await keys('failed/')).filter((k) => k.endsWith(key.slice('pending/'.length)));
    expect(moved).toHaveLength(1);
    const jobId = moved[0]!.split('/')[1]!;
    expect(await rejectionOf(jobId)).toMatchObject({ status: 'rejected', error: { code: 'DEAD_LETTERED' }, trigger: { manifest: `s3://${bucket}/${key}` } });
    expect(stack.emulator.labellingJobImages(PROJECT, '740').size).toBe(3);
    expect(await keys(`claims/v1/${PROJECT}/740/`)).toEqual([]);
  });
});
