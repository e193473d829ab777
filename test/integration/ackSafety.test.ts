import { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import { createModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { jobSummarySchema, type JobSummary } from '../../lib/report/jobSummary.js';
import { jobProgressSchema } from '../../lib/scaleout/jobProgressSchema.js';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { seededRandom } from '../../local/emulator/seededRandom.js';
import { clockedModelArts } from '../support/clockedModelArts.js';
import { failingSqs, type FailingSqs } from '../support/failingSqs.js';
import { readResults } from '../support/readResults.js';
import { sqsEvent, sqsRecord } from '../support/sqsEvents.js';
import { imageIds, readS3Text } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { virtualClock, type AdvancingClock } from '../support/virtualClock.js';

// Integration: nothing is acknowledged that is not safe (issue 12, situation 5), against the local
// stack. A send is refused through test/support/failingSqs.ts: no local server can refuse one
// SendMessage on demand.
const PROJECT = '0123456789abcdef0123456789abcdef';
const stack = useLocalStack();

beforeEach(() => {
  stack.emulator.requests.length = 0;
});

interface Harness {
  deps: CleanupDeps;
  clock: AdvancingClock;
  queueUrl: string;
  sends: FailingSqs;
}

/** Production deps on a virtual clock (each request moves it 10 ms), with a work queue of the test's own whose sends can be refused. */
async function harness(env: Record<string, string> = {}): Promise<Harness> {
  const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `ack-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 30 });
  const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(11), sleeps: 'advance' });
  const config = loadConfig({ ...stack.env, WORK_QUEUE_URL: workQueueUrl, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', DEADLINE_MARGIN_MS: '1000', REQUEST_TIMEOUT_MS: '1000', ...env });
  const modelArts = clockedModelArts(createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, now: () => clock.now() }), clock, 10);
  const sends = failingSqs(stack.sqs);
  // A part's ticker (the count of running parts, its progress) sleeps 2 s at a time: on this clock it would move
  // time 2 s per tick and cut every invocation at once, so its sleeps never end (the ticker stops when the part does).
  const jobClock = { ...clock, sleep: (ms: number) => (ms >= 2_000 ? new Promise<void>(() => undefined) : clock.sleep(ms)) };
  const deps = createCleanupDeps(config, { s3: stack.s3, sqs: sends.sqs, clock: jobClock, modelArts, logger: new Logger({ serviceName: 'image-cleanup-test', logLevel: 'SILENT' }) });
  delete deps.metrics;
  return { deps, clock, queueUrl: workQueueUrl, sends };
}

/** 1,000 ms of deadline margin and of request timeout leave 100 ms of chunk starts: about 10 requests per invocation. */
function shortInvocation(clock: AdvancingClock) {
  return createLambdaContext('queue', 2_100, () => clock.now());
}

/** The next message on a queue, taken off it; undefined when there is none. */
async function takeMessage(queueUrl: string): Promise<{ id: string; body: string } | undefined> {
  const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
  const [message] = Messages;
  if (message === undefined) return undefined;
  await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  return { id: message.MessageId ?? '', body: message.Body ?? '' };
}

async function readSummary(jobId: string): Promise<JobSummary> {
  return jobSummarySchema.parse(JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/${jobId}/summary.json`)));
}

/** Checks a report against the emulator's store: every ID it names deleted or gone is gone, every other one is still there. */
async function expectReportMatchesStore(summary: JobSummary, store: ReadonlySet<string>, named: readonly string[]): Promise<void> {
  const lines = await readResults(stack.s3, summary.report.results);
  const byId = new Map(lines.map((line) => [line.image_id, line.outcome]));
  for (const id of named) {
    const outcome = byId.get(id);
    expect(outcome, `outcome of ${id}`).toBeDefined();
    if (outcome === 'deleted' || outcome === 'already_deleted') expect(store.has(id), `${id} is ${outcome}`).toBe(false);
    else expect(store.has(id), `${id} is ${outcome}`).toBe(true);
  }
}

describe('a continuation that cannot be sent', () => {
  it('fails the SQS record instead of acknowledging it; its redelivery resumes from the checkpoint and the report equals the store', async () => {
    // Prepare
    const ids = imageIds('unsent-continuation', 300);
    stack.emulator.seedLabellingJob(PROJECT, '500', ids);
    const { deps, clock, queueUrl, sends } = await harness();
    const job = sqsRecord(JSON.stringify({ target: { projectId: PROJECT, dataAnnotationId: '500' }, imageIds: ids, options: { chunkSize: 10, maxInFlight: 1 } }), 'unsent-1');

    // Act: the first invocation is cut and its continuation refused; then the record comes back.
    sends.failSends(1);
    const first = await processQueueBatch(sqsEvent(job), deps, shortInvocation(clock));
    const queuedAfterFirst = await takeMessage(queueUrl);
    const responses: SQSBatchResponse[] = [await processQueueBatch(sqsEvent(job), deps, shortInvocation(clock))];
    for (let message = await takeMessage(queueUrl); message !== undefined; message = await takeMessage(queueUrl)) {
      responses.push(await processQueueBatch(sqsEvent(sqsRecord(message.body, message.id)), deps, shortInvocation(clock)));
    }

    // Assess
    expect(sends.refused).toEqual([JSON.stringify({ continueJob: 'msg-unsent-1' })]);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'unsent-1' }]);
    expect(queuedAfterFirst).toBeUndefined();
    expect(responses.every((response) => response.batchItemFailures.length === 0)).toBe(true);
    const summary = await readSummary('msg-unsent-1');
    expect(summary).toMatchObject({ status: 'completed', counts: { received: 300, deleted: 300 } });
    expect(summary.invocations).toBeGreaterThanOrEqual(3);
    // Each ID sent once: the redelivery resumed where the first invocation stopped.
    const sent = stack.emulator.requests.filter((r) => r.status === 200).flatMap((r) => r.imageIds);
    expect(new Set(sent).size).toBe(sent.length);
    await expectReportMatchesStore(summary, stack.emulator.labellingJobImages(PROJECT, '500'), ids);
  });
});

describe('a part message that cannot be sent again', () => {
  it('fails the part\'s record when its runPart continuation is refused; its redelivery resumes, and the split job ends with a report equal to the store', async () => {
    // Prepare: a split job of 2 parts of 150 IDs; each invocation has time for about 10 requests of 10.
    const ids = imageIds('unsent-part', 300);
    stack.emulator.seedLabellingJob(PROJECT, '510', ids);
    const { deps, clock, queueUrl, sends } = await harness();
    const manifestKey = `uploads/unsent-part-${randomUUID().slice(0, 8)}.txt`;
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: manifestKey, Body: ids.join('\n') }));
    const job = { jobId: `unsent-part-${randomUUID().slice(0, 8)}`, target: { projectId: PROJECT, dataAnnotationId: '510' }, manifest: `s3://${stack.env.MANIFEST_BUCKET}/${manifestKey}`, options: { chunkSize: 10, maxInFlight: 1, scaleOut: { partSize: 150 } } };
    await processQueueBatch(sqsEvent(sqsRecord(JSON.stringify(job), 'unsent-part-job')), deps, shortInvocation(clock));
    const parts = [await takeMessage(queueUrl), await takeMessage(queueUrl)];

    // Act: part 1 is cut and its own message refused; it comes back; then everything runs out.
    sends.failSends(1);
    const cut = await processQueueBatch(sqsEvent(sqsRecord(parts[0]!.body, parts[0]!.id)), deps, shortInvocation(clock));
    const queuedAfterCut = await takeMessage(queueUrl);
    const again = await processQueueBatch(sqsEvent(sqsRecord(parts[0]!.body, parts[0]!.id)), deps, shortInvocation(clock));
    const responses: SQSBatchResponse[] = [again, await processQueueBatch(sqsEvent(sqsRecord(parts[1]!.body, parts[1]!.id)), deps, shortInvocation(clock))];
    for (let message = await takeMessage(queueUrl); message !== undefined; message = await takeMessage(queueUrl)) {
      responses.push(await processQueueBatch(sqsEvent(sqsRecord(message.body, message.id)), deps, shortInvocation(clock)));
    }

    // Assess
    expect(sends.refused).toEqual([parts[0]!.body]);
    expect(cut.batchItemFailures).toEqual([{ itemIdentifier: parts[0]!.id }]);
    expect(queuedAfterCut).toBeUndefined();
    expect(responses.every((response) => response.batchItemFailures.length === 0)).toBe(true);
    const summary = await readSummary(job.jobId);
    expect(summary).toMatchObject({ status: 'completed', counts: { received: 300, deleted: 300 }, scaleOut: { parts: 2 } });
    const sent = stack.emulator.requests.filter((r) => r.status === 200).flatMap((r) => r.imageIds);
    expect(new Set(sent).size).toBe(sent.length);
    await expectReportMatchesStore(summary, stack.emulator.labellingJobImages(PROJECT, '510'), ids);
    const progress = await readS3Json(stack.s3, stack.env.REPORT_BUCKET!, `reports/${job.jobId}/progress.json`, jobProgressSchema);
    expect(progress).toMatchObject({ state: 'done', parts: { total: 2, done: 2 } });
  });
});
