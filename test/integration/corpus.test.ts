import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import { runScheduledScan } from '../../lib/triggers/scheduledRun.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { capturingLogger } from '../support/capturingLogger.js';
import { sqsEvent, sqsRecord } from '../support/sqsEvents.js';
import { readS3Text, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: every file of the bad-input corpus (test/corpus/, described by expectations.json)
// through its entry point against the local stack, with an allow-list that is not '*'.
const CORPUS = join(import.meta.dirname, '..', 'corpus');
const PROJECT = '0123456789abcdef0123456789abcdef';
const FOREIGN = 'fedcba9876543210fedcba9876543210';
const SEEDED = ['076e3caed758a1c18c91a0e9cae3368f', '2b04df3ecc1d94afddff082d139c6f15'];
const ENV = { ALLOWED_TARGETS: `${PROJECT}/282` };

/** What a corpus file must lead to. */
interface Expectation {
  entry: 'manual' | 'queue' | 'schedule' | 'manifest';
  /** The error code of a refusal; absent for `expect: "invalid_entries"`. */
  code?: string;
  /** The path of the field an issue must name ('' for the whole input). */
  path?: string;
  /** A substring the error message (or, for invalid entries, failed.csv) must contain. */
  contains: string;
  /** The job runs, but every entry ends `invalid` with its reason, and nothing is sent. */
  expect?: 'invalid_entries';
  /** For a manifest: the project in its key (…/v1/{project}/282/name). @default PROJECT */
  keyProject?: string;
  /** A bug found by this corpus, reported to the lead: the case is expected to fail until it is fixed. */
  knownBug?: string;
}

const expectations = JSON.parse(readFileSync(join(CORPUS, 'expectations.json'), 'utf8')) as Record<string, Expectation>;

const stack = useLocalStack();
let run = 0;

beforeEach(() => {
  stack.emulator.requests.length = 0;
  stack.emulator.seedLabellingJob(PROJECT, '282', SEEDED);
  stack.emulator.seedLabellingJob(FOREIGN, '282', SEEDED);
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [relative(CORPUS, path)];
  });
}

/** Asserts a refusal: the code, an issue on the expected path, the expected words. */
function assessRefusal(error: { code: string; message: string; issues: ReadonlyArray<{ path: string; message: string }> }, expected: Expectation): void {
  expect(error.code).toBe(expected.code);
  expect(error.issues.map((issue) => issue.path)).toContain(expected.path);
  expect(error.message).toContain(expected.contains);
}

/** Runs one input through its entry point and checks the clear error; the handler must not throw. */
async function check(file: string, body: Buffer, expected: Expectation): Promise<void> {
  run += 1;
  switch (expected.entry) {
    case 'manual': {
      const result = await runManualInvocation(JSON.parse(body.toString('utf8')), stackDeps(stack, ENV, { logger: capturingLogger().logger }));
      if (expected.expect === 'invalid_entries') {
        // A bad ID does not refuse the job: it ends invalid with its reason, and is never sent.
        expect(result.status).toBe('completed');
        if (result.status !== 'completed') return;
        expect(result.summary.counts.invalid + result.summary.counts.duplicate).toBe(result.summary.counts.received);
        expect(await readS3Text(stack.s3, result.report.failed)).toContain(expected.contains);
        return;
      }
      expect(result.status).toBe('rejected');
      if (result.status === 'rejected') assessRefusal(result.error, expected);
      return;
    }
    case 'queue': {
      const record = file.endsWith('.record.json') ? (JSON.parse(body.toString('utf8')) as SQSRecord) : sqsRecord(body.toString('utf8'), `corpus-${run}`);
      const { logger, lines } = capturingLogger();
      const response = await processQueueBatch(sqsEvent(record), stackDeps(stack, ENV, { logger }), createLambdaContext('queue'));
      // A batch item failure (the message comes back, then goes to the dead-letter queue), with one structured log line.
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
      const refused = lines.filter((line) => line.message === 'queue message refused');
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ messageId: record.messageId, code: expected.code });
      const issues = refused[0]!.issues as Array<{ path: string; message: string }>;
      assessRefusal({ code: String(refused[0]!.code), message: issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues }, expected);
      return;
    }
    case 'schedule': {
      const result = await runScheduledScan(JSON.parse(body.toString('utf8')), stackDeps(stack, ENV, { logger: capturingLogger().logger }), createLambdaContext('schedule'));
      expect(result.status).toBe('rejected');
      if (result.status === 'rejected') assessRefusal(result.error, expected);
      return;
    }
    case 'manifest': {
      // Dropped under pending/ with a key that names its target; the schedule processes it.
      const name = file.split('/').pop() ?? file;
      const folder = `pending/corpus-${run}/`;
      const key = `${folder}v1/${expected.keyProject ?? PROJECT}/282/${name}`;
      const bucket = stack.env.MANIFEST_BUCKET!;
      await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      const result = await runScheduledScan({ prefix: folder }, stackDeps(stack, ENV, { logger: capturingLogger().logger }), createLambdaContext('schedule'));
      expect(result.status).toBe('completed');
      if (result.status !== 'completed') return;
      expect(result.errors).toEqual([]);
      const [outcome] = result.manifests;
      if (expected.expect === 'invalid_entries') {
        // Readable, but no entry is an ID: the job runs, every entry ends invalid with its reason.
        expect(outcome?.status).toBe('done');
        if (outcome?.status !== 'done') return;
        const summary = JSON.parse(await readS3Text(stack.s3, outcome.report)) as { counts: Record<string, number>; report: { failed: string } };
        expect(summary.counts.invalid! + summary.counts.duplicate!).toBe(summary.counts.received);
        expect(await readS3Text(stack.s3, summary.report.failed)).toContain(expected.contains);
        return;
      }
      expect(outcome?.status).toBe('failed');
      if (outcome?.status !== 'failed') return;
      // Moved to failed/ (and gone from pending/), with rejected.json saying why.
      expect(outcome.movedTo).toMatch(new RegExp(`^s3://${bucket}/failed/`));
      await expect(stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      const moved = /^s3:\/\/[^/]+\/(.+)$/.exec(outcome.movedTo)![1]!;
      const copy = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: moved }));
      expect(Buffer.from(await copy.Body!.transformToByteArray()).equals(body)).toBe(true);
      const rejected = JSON.parse(await readS3Text(stack.s3, outcome.report)) as { status: string; error: { code: string; message: string; issues: Array<{ path: string; message: string }> } };
      expect(rejected.status).toBe('rejected');
      assessRefusal(rejected.error, expected);
      return;
    }
  }
}

describe('the bad-input corpus', () => {
  it('holds at least 40 files, each with an expectation, and every expectation has its file', () => {
    // Prepare
    const files = filesUnder(CORPUS).filter((file) => file !== 'expectations.json');

    // Act
    const missing = files.filter((file) => expectations[file] === undefined);
    const orphans = Object.keys(expectations).filter((file) => !files.includes(file));

    // Assess
    expect(files.length).toBeGreaterThanOrEqual(40);
    expect(missing).toEqual([]);
    expect(orphans).toEqual([]);
  });

  const checkFile = async (file: string, expected: Expectation) => {
    // Prepare
    const body = readFileSync(join(CORPUS, file));

    // Act and Assess
    await check(file, body, expected);
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, '282').size).toBe(2);
    expect(stack.emulator.labellingJobImages(FOREIGN, '282').size).toBe(2);
  };
  const cases = Object.entries(expectations);
  it.each(cases.filter(([, expected]) => expected.knownBug === undefined))('%s: gets its clear error, and nothing is deleted', checkFile);
  // Bugs this corpus found (see each file's knownBug in expectations.json): these fail until lib/ is fixed.
  it.fails.each(cases.filter(([, expected]) => expected.knownBug !== undefined))('KNOWN BUG %s: gets its clear error, and nothing is deleted', checkFile);

  // Too big to commit: generated here.
  const tooMany = Array.from({ length: 100_001 }, (_, i) => i.toString(16).padStart(32, '0'));
  const generated: Array<[string, Buffer, Expectation]> = [
    ['a manual event with 100,001 inline IDs', Buffer.from(JSON.stringify({ target: { projectId: PROJECT, dataAnnotationId: '282' }, imageIds: tooMany })), { entry: 'manual', code: 'INVALID_JOB', path: 'imageIds', contains: 'at most 100000 inline IDs' }],
    ['a queue message over the SQS size limit (3.5 MB of IDs)', Buffer.from(JSON.stringify({ target: { projectId: PROJECT, dataAnnotationId: '282' }, imageIds: tooMany })), { entry: 'queue', code: 'INVALID_MESSAGE', path: 'body.imageIds', contains: 'put larger lists in a manifest' }],
  ];

  it.each(generated)('%s: gets its clear error, and nothing is deleted', async (label, body, expected) => {
    // Act and Assess
    await check(label, body, expected);
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, '282').size).toBe(2);
  });
});
