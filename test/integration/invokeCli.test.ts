import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import type { InvokeOutput } from '../../local/cli/invokeEvent.js';
import { DEMO_DELETE_COUNT, DEMO_IMAGE_COUNT, DEMO_TARGET } from '../../local/stack/demoData.js';
import { seedSampleData } from '../../local/stack/sampleData.js';
import { useLocalStack } from '../support/useLocalStack.js';

// `npm run invoke` as a user runs it (a subprocess), pointed by its environment at a stack this
// test owns, so that what it did is read in the emulator's store and the buckets afterwards.
const root = new URL('../../', import.meta.url);
const stack = useLocalStack();
const scratch = mkdtempSync(join(tmpdir(), 'invoke-cli-'));
const pendingKey = `pending/v1/${DEMO_TARGET.projectId}/282/drop-2026-11-28.txt`;

type Run = { code: number; stdout: string; stderr: string };
type Report = { status: string; counts: Record<string, number>; invocations: number };

/** Runs `npm run invoke -- ...args` against the test's stack (plus `env`; undefined unsets), never throwing on a non-zero exit. */
async function invoke(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const full: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...stack.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', ...env };
  for (const [key, value] of Object.entries(full)) if (value === undefined) delete full[key];
  try {
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', '--silent', 'invoke', '--', ...args], { cwd: root, env: full, timeout: 80_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Writes an event to a file of its own, for `invoke`. */
function eventFile(name: string, event: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(event));
  return path;
}

/** The demo job of events/manual-inline.json under a job id of its own (one report per test). */
function demoJob(jobId: string): string {
  const event = JSON.parse(readFileSync(new URL('events/manual-inline.json', root), 'utf8')) as object;
  return eventFile(`${jobId}.json`, { ...event, jobId });
}

const pendingStillThere = async () =>
  stack.s3.send(new HeadObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: pendingKey })).then(
    () => true,
    () => false,
  );

beforeEach(async () => {
  stack.emulator.settings.latencyMs = 0;
  await seedSampleData(stack.emulator, stack.s3, stack.env.MANIFEST_BUCKET!);
  await stack.sqs.send(new PurgeQueueCommand({ QueueUrl: stack.env.WORK_QUEUE_URL }));
  stack.emulator.requests.length = 0;
});

describe('npm run invoke: which handler', () => {
  it('refuses {} (a manual job with every field missing, or the Scheduler input of a full scan) unless --handler says which, and touches nothing', async () => {
    // Act
    const run = await invoke([eventFile('empty.json', {})]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('names no handler');
    expect(run.stderr).toContain('--handler manual|queue|schedule');
    expect(run.stdout).toBe('');
    expect(await pendingStillThere()).toBe(true);
    expect(stack.emulator.requests).toHaveLength(0);
  }, 90_000);

  it.each([
    ['a JSON array', ['076e3caed758a1c18c91a0e9cae3368f']],
    ['an S3 notification not wrapped in an SQS record', { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: {} }] }],
    ['a continuation body not wrapped in an SQS record', { continueJob: 'manual-demo' }],
  ])('refuses %s, saying what it looks like', async (_label, event) => {
    // Act
    const run = await invoke([eventFile('ambiguous.json', event)]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('names no handler');
    expect(stack.emulator.requests).toHaveLength(0);
  }, 90_000);

  it('runs {} as the Scheduler input when --handler schedule says so, printing the endpoints and buckets it uses', async () => {
    // Act
    const run = await invoke(['--handler', 'schedule', eventFile('empty.json', {})]);

    // Assess
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as InvokeOutput;
    expect(output.handler).toBe('schedule');
    expect(output.result).toMatchObject({ status: 'completed', prefix: 'pending/', errors: [] });
    expect(await pendingStillThere()).toBe(false);
    expect(run.stderr).toContain(stack.env.MODELARTS_ENDPOINT);
    expect(run.stderr).toContain(`s3://${stack.env.REPORT_BUCKET}/`);
    expect(run.stderr).toContain(`s3://${stack.env.MANIFEST_BUCKET}/`);
  }, 90_000);

  it('rejects an unknown --handler', async () => {
    // Act
    const run = await invoke(['--handler', 'scheduler', eventFile('empty.json', {})]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--handler');
    expect(await pendingStillThere()).toBe(true);
  }, 90_000);
});

describe('npm run invoke: where it runs', () => {
  it.each([
    ['a ModelArts endpoint', { MODELARTS_ENDPOINT: 'https://modelarts.cn-north-4.myhuaweicloud.com' }, 'https://modelarts.cn-north-4.myhuaweicloud.com'],
    ['the AWS S3 endpoint (none set: the SDK\'s default)', { AWS_ENDPOINT_URL_S3: '' }, 'S3'],
  ])('refuses to run against %s off this machine unless --allow-remote, and sends nothing', async (_label, env, named) => {
    // Act
    const run = await invoke(['events/manual-inline.json'], env);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(named);
    expect(run.stderr).toContain('--allow-remote');
    expect(run.stdout).toBe('');
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(DEMO_TARGET.projectId, '282').size).toBe(DEMO_IMAGE_COUNT);
  }, 90_000);
});

describe('npm run invoke -- --timeout-ms', () => {
  // Small margins and a slow service: 80 chunks of 10 at 40 ms each, one at a time, cannot fit in
  // the 1.3 s an invocation of 2 s may use; so the job is cut, continues, and ends.
  const slow = { CHUNK_SIZE: '10', MAX_IN_FLIGHT: '1', LIMITER_INITIAL: '1', DEADLINE_MARGIN_MS: '200', REQUEST_TIMEOUT_MS: '500' };

  it('cuts a job at the deadline of an N ms invocation, and --follow runs its continuations to a report that agrees with the store', async () => {
    // Prepare
    stack.emulator.settings.latencyMs = 40;

    // Act
    const run = await invoke(['--timeout-ms', '2000', '--follow', demoJob('cut-and-follow')], slow);

    // Assess
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as InvokeOutput & { result: { status: string; summary: { continuation?: { queued: boolean } } } };
    expect(output.result.status).toBe('continuing');
    expect(output.result.summary.continuation?.queued).toBe(true);
    expect(output.continuations?.length).toBeGreaterThanOrEqual(1);
    for (const continuation of output.continuations ?? []) expect(continuation.result).toEqual({ batchItemFailures: [] });
    // The 3 invalid entries make it completed_with_failures, as in one invocation (events.test.ts).
    const [report] = output.reports as Report[];
    expect(output.reports).toHaveLength(1);
    expect(report).toMatchObject({ status: 'completed_with_failures', counts: { received: 817, deleted: DEMO_DELETE_COUNT, already_deleted: 4, failed: 0, invalid: 3, duplicate: 10, skipped: 0 } });
    expect(report!.invocations).toBe(1 + output.continuations!.length);
    expect(stack.emulator.labellingJobImages(DEMO_TARGET.projectId, '282').size).toBe(DEMO_IMAGE_COUNT - DEMO_DELETE_COUNT);
  }, 90_000);

  it('without --follow, against a stack of the environment, leaves the continuation on its work queue and says so', async () => {
    // Prepare
    stack.emulator.settings.latencyMs = 40;

    // Act
    const run = await invoke(['--timeout-ms', '2000', demoJob('cut-no-follow')], slow);

    // Assess
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as InvokeOutput & { result: { status: string } };
    expect(output.result.status).toBe('continuing');
    expect(output.continuations).toBeUndefined();
    expect(output.reports).toEqual([]);
    expect(run.stderr).toContain('--follow');
    expect(stack.emulator.labellingJobImages(DEMO_TARGET.projectId, '282').size).toBeGreaterThan(DEMO_IMAGE_COUNT - DEMO_DELETE_COUNT);
  }, 90_000);

  it('on an embedded stack of its own (the by-hand recipe: --latency-ms), runs the continuations itself before stopping it', async () => {
    // Prepare: no stack in the environment, so invoke starts (and stops) one of its own.
    const unset = Object.fromEntries(Object.keys(stack.env).map((key) => [key, undefined]));

    // Act
    const run = await invoke(['--timeout-ms', '2000', '--latency-ms', '40', demoJob('cut-own-stack')], { ...unset, ...slow });

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('an embedded stack of its own');
    const output = JSON.parse(run.stdout) as InvokeOutput & { result: { status: string } };
    expect(output.result.status).toBe('continuing');
    expect(output.continuations?.length).toBeGreaterThanOrEqual(1);
    expect(output.reports).toEqual([expect.objectContaining({ status: 'completed_with_failures', invocations: 1 + output.continuations!.length, counts: expect.objectContaining({ deleted: DEMO_DELETE_COUNT, skipped: 0 }) as unknown })]);
    // The test's own stack was not used.
    expect(stack.emulator.requests).toHaveLength(0);
  }, 90_000);

  it('refuses --latency-ms against a stack of the environment: it sets only the embedded one', async () => {
    // Act
    const run = await invoke(['--latency-ms', '40', demoJob('latency-elsewhere')]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--latency-ms');
    expect(stack.emulator.requests).toHaveLength(0);
  }, 90_000);

  it('rejects a timeout that is not a whole number of milliseconds above 0', async () => {
    // Act
    const run = await invoke(['--timeout-ms', '2s', 'events/manual-inline.json']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--timeout-ms');
    expect(stack.emulator.requests).toHaveLength(0);
  }, 90_000);
});
