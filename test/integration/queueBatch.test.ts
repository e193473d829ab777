import { Logger } from '@aws-lambda-powertools/logger';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { sqsEvent, sqsRecord } from '../support/sqsEvents.js';
import { imageIds, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: the queue handler's logic against the real local servers (fauxqs S3, the emulator).
const PROJECT = '0123456789abcdef0123456789abcdef';
const JOB = '282';
const target = { projectId: PROJECT, dataAnnotationId: JOB };

const stack = useLocalStack();

beforeEach(() => {
  stack.emulator.requests.length = 0;
});

// A logger whose JSON lines are kept, to check what an operator would read.
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = new Logger({ serviceName: 'image-cleanup-test', logLevel: 'INFO' });
  // Powertools writes through its console; catch the lines it prints.
  const print = (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>);
  Object.assign(logger as unknown as { console: unknown }, { console: { log: print, info: print, warn: print, error: print, debug: print, trace: print } });
  return { logger, lines };
}

async function reportCount(): Promise<number> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.env.REPORT_BUCKET, Prefix: 'reports/' }));
  return (listed.Contents ?? []).filter((object) => object.Key?.endsWith('/summary.json')).length;
}

describe('processQueueBatch (partial batch responses)', () => {
  it('of 10 messages with 3 malformed, reports exactly those 3 and runs the 7 jobs', async () => {
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
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['bad-ids', 'bad-json', 'bad-target']);
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(0);
    expect(await reportCount()).toBe(before + 7);
  });

  it('reports every message when every message fails, instead of answering success or throwing', async () => {
    // Prepare
    const records = ['{', '[]', '42', JSON.stringify({ imageIds: ['x'] }), JSON.stringify({ target, manifest: 's3://elsewhere/x.txt' })].map((body, i) => sqsRecord(body, `m-${i}`));

    // Act
    const response = await processQueueBatch(sqsEvent(...records), stackDeps(stack), createLambdaContext('queue'));

    // Assess
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    expect(stack.emulator.requests).toHaveLength(0);
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

  it('fails a record without the attributes Lambda always sets, naming the attribute', async () => {
    // Prepare
    const { logger, lines } = capturingLogger();
    const record = sqsRecord(JSON.stringify({ target, imageIds: imageIds('attr', 1) }), 'no-attrs');
    delete (record.attributes as Partial<typeof record.attributes>).SentTimestamp;

    // Act
    const response = await processQueueBatch(sqsEvent(record), stackDeps(stack, {}, { logger }), createLambdaContext('queue'));

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'no-attrs' }]);
    expect(lines.find((line) => line.message === 'queue message refused')?.issues).toEqual([expect.objectContaining({ path: 'attributes.SentTimestamp' })]);
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
