import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RejectionReport } from '../../lib/report/writeRejectionReport.js';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { sqsEvent, sqsRecord } from '../support/sqsEvents.js';
import { imageIds, readS3Text, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { capturingLogger } from '../support/capturingLogger.js';

// Integration: the queue handler's logic against the real local servers (fauxqs S3, the emulator).
const PROJECT = '0123456789abcdef0123456789abcdef';
const JOB = '282';
const target = { projectId: PROJECT, dataAnnotationId: JOB };

const stack = useLocalStack();

beforeEach(() => {
  stack.emulator.requests.length = 0;
});


/** The rejection report of a refused message (`msg-{messageId}`) or job (its `jobId`). */
async function rejection(jobId: string): Promise<RejectionReport> {
  return JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/${jobId}/rejected.json`)) as RejectionReport;
}

/** A live claim on a job, as a run in another invocation holds it. */
async function holdClaim(jobId: string): Promise<void> {
  const claim = { manifestKey: jobId, owner: 'another-invocation', claimedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 600_000).toISOString() };
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: `reports/${jobId}/claim.json`, Body: JSON.stringify(claim) }));
}

async function reportCount(): Promise<number> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.env.REPORT_BUCKET, Prefix: 'reports/' }));
  return (listed.Contents ?? []).filter((object) => object.Key?.endsWith('/summary.json')).length;
}

describe('processQueueBatch (partial batch responses)', () => {
  it('of 10 messages with 3 malformed, runs the 7 jobs and answers the 3 with a rejection report each, without a retry', async () => {
    // Prepare
    const ids = imageIds('queue-batch', 70);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    const good = Array.from({ length: 7 }, (_, i) => sqsRecord(JSON.stringify({ target, imageIds: ids.slice(i * 10, i * 10 + 10) }), `good-${i}`));
    const bad = [
      sqsRecord('{"target": {"projectId": "x"', 'bad-json'),
      sqsRecord(JSON.stringify({ target: { projectId: '../etc', dataAnnotationId: JOB }, imageIds: ids.slice(0, 1) }), 'bad-target'),
      sqsRecord(JSON.stringify({ target, imageIds: 'not-a-list' }), 'bad-ids'),
    ];
    const records = [good[0]!, bad[0]!, good[1]!, good[2]!, bad[1]!, good[3]!, good[4]!, good[5]!, bad[2]!, good[6]!];
    const before = await reportCount();

    // Act
    const response = await processQueueBatch(sqsEvent(...records), stackDeps(stack), createLambdaContext('queue'));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(0);
    expect(await reportCount()).toBe(before + 7);
    for (const id of ['bad-json', 'bad-target', 'bad-ids']) expect(await rejection(`msg-${id}`)).toMatchObject({ jobId: `msg-${id}`, status: 'rejected', trigger: { type: 'queue', source: id } });
    expect((await rejection('msg-bad-target')).error.issues.map((issue) => issue.path)).toContain('body.target.projectId');
  });

  it('reports every message when every message fails, instead of answering success or throwing', async () => {
    // Prepare: five jobs, each running in another invocation (its claim is live): none can run now.
    const jobIds = Array.from({ length: 5 }, (_, i) => `busy-${i}-${Date.now()}`);
    for (const jobId of jobIds) await holdClaim(jobId);
    const records = jobIds.map((jobId, i) => sqsRecord(JSON.stringify({ jobId, target, imageIds: imageIds(jobId, 1) }), `m-${i}`));

    // Act
    const response = await processQueueBatch(sqsEvent(...records), stackDeps(stack), createLambdaContext('queue'));

    // Assess
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it('answers a job refused as a whole (its manifest is missing) at once with a rejection report, instead of a retry', async () => {
    // Prepare
    const record = sqsRecord(JSON.stringify({ jobId: `missing-manifest-${Date.now()}`, target, manifest: `s3://${stack.env.MANIFEST_BUCKET}/uploads/never-uploaded.txt` }), 'missing-manifest');
    const jobId = (JSON.parse(record.body) as { jobId: string }).jobId;

    // Act
    const response = await processQueueBatch(sqsEvent(record), stackDeps(stack), createLambdaContext('queue'));

    // Assess: acknowledged (not retried three times, then dead-lettered), with the job's own report.
    expect(response.batchItemFailures).toEqual([]);
    const report = await rejection(jobId);
    expect(report).toMatchObject({ jobId, status: 'rejected', error: { code: 'INVALID_JOB' } });
    expect(report.error.message).toContain('no such object');
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it("keeps a refusal's own code (JOB_ID_CONFLICT) in its log line and its rejected.json, instead of INVALID_MESSAGE", async () => {
    // Prepare: a dry run completed under a jobId; the real job is then sent under the same id.
    const { logger, lines } = capturingLogger();
    const ids = imageIds('queue-conflict', 5);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    const jobId = `queue-conflict-${Date.now()}`;
    const dry = sqsRecord(JSON.stringify({ jobId, target, imageIds: ids, options: { dryRun: true } }), 'conflict-dry');
    expect((await processQueueBatch(sqsEvent(dry), stackDeps(stack), createLambdaContext('queue'))).batchItemFailures).toEqual([]);
    const real = sqsRecord(JSON.stringify({ jobId, target, imageIds: ids }), 'conflict-real');

    // Act
    const response = await processQueueBatch(sqsEvent(real), stackDeps(stack, {}, { logger }), createLambdaContext('queue'));

    // Assess: answered (not retried), nothing deleted, and every trace of it says JOB_ID_CONFLICT.
    expect(response.batchItemFailures).toEqual([]);
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(5);
    const refusals = lines.filter((line) => line.message === 'queue message refused');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ level: 'ERROR', messageId: 'conflict-real', code: 'JOB_ID_CONFLICT', jobId: 'msg-conflict-real' });
    // The rejection goes to the message's folder: the job's own folder holds the dry run's report.
    expect((await rejection('msg-conflict-real')).error).toMatchObject({ code: 'JOB_ID_CONFLICT', issues: [expect.objectContaining({ path: 'options.dryRun' })] });
  });

  it('fails only the record whose processing threw something that is not an Error, and runs the others', async () => {
    // Prepare: a Lambda context whose clock throws `undefined` once, at the first record. Our own
    // code inspects what it catches (an `undefined` from S3 would become a TypeError there), so a
    // non-Error can only come from outside it; no local server can make the AWS SDK reject with one.
    const ids = imageIds('non-error', 5);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    const context = createLambdaContext('queue');
    const remaining = context.getRemainingTimeInMillis.bind(context);
    let calls = 0;
    context.getRemainingTimeInMillis = () => {
      calls += 1;
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point: a non-Error thrown at the record handler
      if (calls === 1) throw undefined;
      return remaining();
    };
    const records = [sqsRecord(JSON.stringify({ target, imageIds: imageIds('never-run', 1) }), 'throws'), sqsRecord(JSON.stringify({ target, imageIds: ids }), 'runs')];

    // Act: Powertools batch 2.35 reads `error.message` of what a record handler throws (its issue 5624).
    const response = await processQueueBatch(sqsEvent(...records), stackDeps(stack), context);

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'throws' }]);
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(0);
  });

  it('logs one structured line per malformed message, naming the message id and the field', async () => {
    // Prepare
    const { logger, lines } = capturingLogger();
    const record = sqsRecord(JSON.stringify({ target, imageIds: [], options: { chunkSize: 5000 } }), 'msg-123');

    // Act
    await processQueueBatch(sqsEvent(record), stackDeps(stack, {}, { logger }), createLambdaContext('queue'));

    // Assess
    const refusals = lines.filter((line) => line.message === 'queue message refused');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ level: 'ERROR', messageId: 'msg-123', code: 'INVALID_MESSAGE' });
    expect((refusals[0]!.issues as Array<{ path: string }>).map((issue) => issue.path).sort()).toEqual(['body.imageIds', 'body.options.chunkSize']);
  });

  it('refuses a record without the attributes Lambda always sets, naming the attribute', async () => {
    // Prepare
    const { logger, lines } = capturingLogger();
    const record = sqsRecord(JSON.stringify({ target, imageIds: imageIds('attr', 1) }), 'no-attrs');
    delete (record.attributes as Partial<typeof record.attributes>).SentTimestamp;

    // Act
    const response = await processQueueBatch(sqsEvent(record), stackDeps(stack, {}, { logger }), createLambdaContext('queue'));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(lines.find((line) => line.message === 'queue message refused')?.issues).toEqual([expect.objectContaining({ path: 'attributes.SentTimestamp' })]);
    expect((await rejection('msg-no-attrs')).error).toMatchObject({ code: 'INVALID_MESSAGE', issues: [expect.objectContaining({ path: 'attributes.SentTimestamp' })] });
  });

  it('ignores S3\'s s3:TestEvent without failing it', async () => {
    // Prepare
    const body = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-28T17:00:00.000Z', Bucket: 'image-cleanup-manifests', RequestId: 'X', HostId: 'Y' });

    // Act
    const response = await processQueueBatch(sqsEvent(sqsRecord(body, 'test-event')), stackDeps(stack), createLambdaContext('queue'));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it('hands back messages it has no time left to start, without starting them', async () => {
    // Prepare
    const ids = imageIds('late', 3);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    const record = sqsRecord(JSON.stringify({ target, imageIds: ids }), 'late');

    // Act: 10 s left, under the 15 s default margin
    const response = await processQueueBatch(sqsEvent(record), stackDeps(stack), createLambdaContext('queue', 10_000));

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'late' }]);
    expect(stack.emulator.requests).toHaveLength(0);
  });
});
