import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { DEMO_DELETE_COUNT, DEMO_IMAGE_COUNT, DEMO_TARGET } from '../../local/stack/demoData.js';
import { seedSampleData } from '../../local/stack/sampleData.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { oneBuildAtATime } from './template.js';

// `osls invoke local` as an operator runs it, on the ci stage's parameters: the environment is
// serverless.yml's, resolved offline by the CLI (no CloudFormation lookup). Only the ModelArts
// endpoint, its auth and the allowed targets are stage parameters given on the command line, and
// the AWS SDK's endpoints point at a local stack this test owns (127.0.0.1 only), whose buckets
// and queue carry the names serverless.yml gives them on the ci stage in eu-west-1.
const root = new URL('../../', import.meta.url);
const STAGE = 'ci';
const stack = useLocalStack({ reportBucket: `image-cleanup-${STAGE}-eu-west-1-reports`, manifestBucket: `image-cleanup-${STAGE}-eu-west-1-manifests` });
// fauxqs keeps queues per region, and the CLI runs the function in the stage's region (eu-west-1).
let sqs: SQSClient;
let workQueueUrl: string;
beforeAll(async () => {
  sqs = new SQSClient({ endpoint: stack.env.AWS_ENDPOINT_URL_SQS, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  ({ workQueueUrl } = await createWorkQueues(sqs, { name: `image-cleanup-${STAGE}-work` }));
  return () => sqs.destroy();
});
const scratch = mkdtempSync(join(tmpdir(), 'invoke-local-'));

type Run = { code: number; stdout: string; stderr: string };

/** Runs `npx osls invoke local --function <fn> --path <event> --stage ci`, never throwing on a non-zero exit. */
async function invokeLocal(fn: string, eventPath: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Placeholders only satisfy the CLI and the SDK's signer: nothing reaches AWS.
    AWS_ACCESS_KEY_ID: 'placeholder',
    AWS_SECRET_ACCESS_KEY: 'placeholder',
    SLS_TELEMETRY_DISABLED: '1',
    AWS_ENDPOINT_URL_S3: stack.env.AWS_ENDPOINT_URL_S3,
    AWS_ENDPOINT_URL_SQS: stack.env.AWS_ENDPOINT_URL_SQS,
    S3_FORCE_PATH_STYLE: 'true',
    RETRY_BASE_MS: '1',
    RETRY_MAX_MS: '5',
  };
  // The queue's URL must come from its name (GetQueueUrl), not from this process's environment.
  delete env.WORK_QUEUE_URL;
  const params = [`--param=modelArtsEndpoint=${stack.env.MODELARTS_ENDPOINT}`, '--param=modelArtsAuth=none', `--param=allowedTargets=${DEMO_TARGET.projectId}/${DEMO_TARGET.dataAnnotationId}`];
  try {
    const { stdout, stderr } = await oneBuildAtATime(() =>
      promisify(execFile)('npx', ['osls', 'invoke', 'local', '--function', fn, '--path', eventPath, '--stage', STAGE, ...params], { cwd: root, env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }),
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** The handler's answer: the CLI prints it last, indented, after the handler's one-line logs. */
function answer(run: Run): Record<string, unknown> {
  const lines = run.stdout.split('\n');
  const start = lines.lastIndexOf('{');
  expect(start, `no answer in:\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`).toBeGreaterThanOrEqual(0);
  return JSON.parse(lines.slice(start).join('\n')) as Record<string, unknown>;
}

function eventFile(name: string, event: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(event));
  return path;
}

describe('osls invoke local on the stage parameters, offline', () => {
  it('runs the manual function on events/manual-inline.json: the environment resolves, the job deletes, the emulator agrees', async () => {
    // Arrange
    await seedSampleData(stack.emulator, stack.s3, stack.env.MANIFEST_BUCKET!);

    // Act
    const run = await invokeLocal('manual', 'events/manual-inline.json');

    // Assert
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const { summary } = answer(run) as { summary: { status: string; counts: { deleted: number; invalid: number } } };
    // Its 3 invalid entries make it completed_with_failures (test/integration/events.test.ts).
    expect(summary.status).toBe('completed_with_failures');
    expect(summary.counts).toMatchObject({ deleted: DEMO_DELETE_COUNT, invalid: 3 });
    expect(stack.emulator.labellingJobImages(DEMO_TARGET.projectId, DEMO_TARGET.dataAnnotationId).size).toBe(DEMO_IMAGE_COUNT - DEMO_DELETE_COUNT);
  }, 180_000);

  it('splits a manifest job onto the work queue found by its name (GetQueueUrl at the first send)', async () => {
    // Arrange
    await seedSampleData(stack.emulator, stack.s3, stack.env.MANIFEST_BUCKET!);
    const event = JSON.parse(readFileSync(new URL('events/manual-manifest.json', root), 'utf8')) as { manifest: string };
    const path = eventFile('split.json', { ...event, manifest: event.manifest.replace('s3://image-cleanup-manifests/', `s3://${stack.env.MANIFEST_BUCKET}/`), jobId: 'invoke-local-split', options: { scaleOut: { partSize: 300 } } });

    // Act
    const run = await invokeLocal('manual', path);

    // Assert
    expect(run.code, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`).toBe(0);
    const { summary } = answer(run) as { summary: { status: string } };
    expect(summary.status).toBe('continuing');
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: workQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect((received.Messages ?? []).length).toBeGreaterThan(0);
    for (const message of received.Messages ?? []) expect(JSON.parse(message.Body!)).toHaveProperty('runPart');
  }, 180_000);

  it('runs the queue function on events/sqs-inline.json: its job deletes, no record fails', async () => {
    // Arrange
    await seedSampleData(stack.emulator, stack.s3, stack.env.MANIFEST_BUCKET!);
    const before = stack.emulator.labellingJobImages(DEMO_TARGET.projectId, DEMO_TARGET.dataAnnotationId).size;

    // Act
    const run = await invokeLocal('queue', 'events/sqs-inline.json');

    // Assert
    expect(run.code, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`).toBe(0);
    expect(answer(run)).toEqual({ batchItemFailures: [] });
    expect(stack.emulator.labellingJobImages(DEMO_TARGET.projectId, DEMO_TARGET.dataAnnotationId).size).toBeLessThan(before);
  }, 180_000);

  it('runs the deadLetter function on that message, dead-lettered: no record fails', async () => {
    // Arrange
    const event = JSON.parse(readFileSync(new URL('events/sqs-inline.json', root), 'utf8')) as { Records: Array<Record<string, unknown>> };
    const record = { ...event.Records[0], messageId: 'dead-lettered-1', eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:image-cleanup-${STAGE}-work-dlq`, attributes: { ApproximateReceiveCount: '1' } };

    // Act
    const run = await invokeLocal('deadLetter', eventFile('dead-letter.json', { Records: [record] }));

    // Assert
    expect(run.code, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`).toBe(0);
    expect(answer(run)).toEqual({ batchItemFailures: [] });
  }, 180_000);

  it('runs the schedule function on events/schedule-eventbridge.json', async () => {
    // Arrange
    await seedSampleData(stack.emulator, stack.s3, stack.env.MANIFEST_BUCKET!);

    // Act
    const run = await invokeLocal('schedule', 'events/schedule-eventbridge.json');

    // Assert
    expect(run.code, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`).toBe(0);
    expect(run.stdout).not.toContain('errorMessage');
  }, 180_000);
});
