import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { SQSRecord } from 'aws-lambda';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import { runScheduledScan } from '../../lib/triggers/scheduledRun.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { capturingLogger } from '../support/capturingLogger.js';
import { scanInOwnProcess } from '../support/hostileManifestProcess.js';
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
      // Refused as a whole: answered at once (acknowledged, not retried: retrying cannot help), with
      // one structured log line and a rejected.json report.
      expect(response.batchItemFailures).toEqual([]);
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
      const moved = /^s3:\/\/[^/]+\/(.+)$/.exec(outcome.movedTo ?? '')![1]!;
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

// Hostile manifests, too big to commit and made here in milliseconds: a gzip file may hold many
// members (RFC 1952 §2.2), each decompressed in turn, so one small member repeated is a bomb of
// any size. Each runs through the schedule in a process of its own (test/support/hostileManifestProcess.ts),
// which measures the time and peak memory of refusing it; the bounds are the defaults of
// lib/manifest/ManifestReadLimits.ts (MAX_IDS_PER_JOB 100,000: 100 MB, 200,001 lines). Every one
// starts with the two seeded IDs, so "nothing deleted" means something.
const MiB = 1024 * 1024;
const gzipMembers = (block: string, times: number): Buffer => Buffer.concat(Array<Buffer>(times).fill(gzipSync(block)));
const seededLines = `${SEEDED.join('\n')}\n`;
/**
 * The bounds a refusal must stay within: seconds from the start of the scan; the scan process's peak
 * RSS, and what refusing added to the RSS it had before the scan (modules and clients loaded).
 */
const REFUSAL_BOUNDS = { maxSeconds: 10, maxPeakRssMiB: 320, maxAddedRssMiB: 64 };

interface HostileManifest {
  name: string;
  file: string;
  body: () => Buffer;
  env?: Record<string, string>;
  /** What rejected.json's message must say after the manifest's URI: where it stopped, and why. */
  says: string;
  /** Waits for a change outside this file: the case is expected to fail until then. */
  knownBug?: string;
}

const hostileManifests: HostileManifest[] = [
  { name: 'a 1 MB .gz of one 1 GiB line', file: 'one-line-1gib.txt.gz', body: () => Buffer.concat([gzipSync(seededLines), gzipMembers('a'.repeat(MiB), 1024)]), says: 'line 3: the line is longer than 8192 bytes (MANIFEST_MAX_LINE_BYTES)' },
  { name: 'a 4 MB .gz of 4 GiB of blank lines', file: 'blank-lines-4gib.txt.gz', body: () => Buffer.concat([gzipSync(seededLines), gzipMembers('\n'.repeat(MiB), 4096)]), says: 'line 200002: the manifest has more than 200001 lines (blank lines included)' },
  { name: 'a .gz of 4 GiB of CRLF lines of spaces', file: 'space-lines-4gib.txt.gz', body: () => Buffer.concat([gzipSync(seededLines), gzipMembers('  \r\n'.repeat(MiB / 4), 4096)]), says: 'line 200002: the manifest has more than 200001 lines' },
  { name: 'a .gz of 4 GiB of lines just under the line bound', file: 'long-lines-4gib.txt.gz', body: () => Buffer.concat([gzipSync(seededLines), gzipMembers(`${'x'.repeat(8191)}\n`.repeat(128), 4096)]), says: 'byte 102408192: the manifest is larger than 102408192 bytes (decompressed)' },
  { name: 'a .jsonl.gz of 4 GiB of short entries', file: 'entries-4gib.jsonl.gz', body: () => Buffer.concat([gzipSync(seededLines.replace(/^(.+)$/gm, '"$1"')), gzipMembers('"x"\n'.repeat(MiB / 4), 4096)]), says: 'line 200002: the manifest has more than 200001 lines' },
  {
    name: 'a CSV whose header has 1,000,000 columns, with 200 rows',
    file: 'columns-1m.csv.gz',
    body: () => Buffer.concat([gzipSync(`image_id,${Array.from({ length: 999_999 }, (_, i) => `c${i}`).join(',')}\n${SEEDED.map((id) => `${id}${','.repeat(999_999)}\n`).join('')}`), gzipMembers(`x${','.repeat(999_999)}\n`, 198)]),
    says: 'line 1: the line is longer than 8192 bytes (MANIFEST_MAX_LINE_BYTES)',
  },
  {
    name: 'a CSV with 1,000 columns in lines under the line bound',
    file: 'columns-1000.csv',
    body: () => Buffer.from(`image_id,${Array.from({ length: 999 }, (_, i) => `c${i}`).join(',')}\n${SEEDED.map((id) => `${id}${','.repeat(999)}\n`).join('')}`),
    says: 'line 1: the CSV header has 1000 columns, more than 256 (MANIFEST_MAX_COLUMNS)',
  },
  { name: 'a .csv.gz with a quote left open over 1 GiB of short lines', file: 'open-quote-1gib.csv.gz', body: () => Buffer.concat([gzipSync(`image_id,note\n${SEEDED[0]},x\n${SEEDED[1]},"open\n`), gzipMembers('x,y\n'.repeat(MiB / 4), 1024)]), says: 'line 2043: a CSV record reaches past 8192 characters here (MANIFEST_MAX_LINE_BYTES): is a quote left open above?' },
  { name: 'a truncated .json of 200,000 "["', file: 'brackets-200k.json', body: () => Buffer.from(`{"imageIds":${JSON.stringify(SEEDED).slice(0, -1)},\n${'['.repeat(200_000)}`), says: 'line 2: an entry is nested deeper than 16 levels (MANIFEST_MAX_DEPTH)' },
  { name: 'a .json.gz of 1 GiB of spaces', file: 'spaces-1gib.json.gz', body: () => Buffer.concat([gzipSync(`{"imageIds":${JSON.stringify(SEEDED)}`), gzipMembers(' '.repeat(MiB), 1024)]), says: 'byte 10485760: a .json manifest is parsed whole and may be at most 10485760 bytes' },
  { name: 'a .jsonl whose image_id is nested 10,000 deep', file: 'nested-10k.jsonl', body: () => Buffer.from(`${SEEDED.map((id) => `"${id}"`).join('\n')}\n{"image_id":${'['.repeat(10_000)}"x"${']'.repeat(10_000)}}\n`), says: 'line 3: the line is longer than 8192 bytes' },
  {
    name: 'a .jsonl whose image_id is nested 10,000 deep, where lines may be 1 MiB long',
    file: 'nested-10k-long-lines.jsonl',
    env: { MANIFEST_MAX_LINE_BYTES: String(MiB) },
    body: () => Buffer.from(`${SEEDED.map((id) => `"${id}"`).join('\n')}\n{"image_id":${'['.repeat(10_000)}"x"${']'.repeat(10_000)}}\n`),
    says: 'line 3: the line is nested deeper than 16 levels (MANIFEST_MAX_DEPTH)',
  },
];

describe('hostile manifests, each refused in its own process', () => {
  const figures: string[] = [];
  afterAll(() => {
    // The figures docs/manifests.md quotes (time from the start of the scan; the scan process's peak RSS and its RSS before the scan).
    if (figures.length > 0) process.stdout.write(`hostile manifests refused:\n${figures.join('\n')}\n`);
  });

  const refusedWithinBounds = async (_name: string, manifest: HostileManifest): Promise<void> => {
    // Prepare
    run += 1;
    const body = manifest.body();
    const folder = `pending/hostile-${run}/`;
    const key = `${folder}v1/${PROJECT}/282/${manifest.file}`;
    const bucket = stack.env.MANIFEST_BUCKET!;
    await new Upload({ client: stack.s3, params: { Bucket: bucket, Key: key, Body: body } }).done();

    // Act
    const measured = await scanInOwnProcess({ ...stack.env, ...ENV, RETRY_BASE_MS: '1', ...manifest.env }, folder, 120_000);

    // Assess
    figures.push(`  ${manifest.name} (${(body.length / MiB).toFixed(1)} MiB stored): ${(measured.elapsedMs / 1000).toFixed(2)} s, peak ${measured.peakRssMiB} MiB (${measured.startRssMiB} MiB before the scan)`);
    expect(measured.result).toMatchObject({ status: 'completed', errors: [] });
    const outcome = 'manifests' in measured.result ? measured.result.manifests[0] : undefined;
    expect(outcome?.status).toBe('failed');
    if (outcome?.status !== 'failed') return;
    // Gone from pending/ (moved to failed/), with rejected.json saying why.
    expect(outcome.movedTo).toMatch(new RegExp(`^s3://${bucket}/failed/`));
    await expect(stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    const rejected = JSON.parse(await readS3Text(stack.s3, outcome.report)) as { error: { code: string; message: string; issues: Array<{ path: string; message: string }> } };
    expect(rejected.error.code).toBe('INVALID_JOB');
    expect(rejected.error.issues).toEqual([{ path: 'manifest', message: expect.stringContaining(`s3://${bucket}/${key}: ${manifest.says}`) as string }]);
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, '282').size).toBe(2);
    expect(measured.elapsedMs).toBeLessThan(REFUSAL_BOUNDS.maxSeconds * 1000);
    expect(measured.peakRssMiB).toBeLessThan(REFUSAL_BOUNDS.maxPeakRssMiB);
    expect(measured.peakRssMiB - measured.startRssMiB).toBeLessThan(REFUSAL_BOUNDS.maxAddedRssMiB);
  };
  const named = (manifests: HostileManifest[]) => manifests.map((manifest) => [manifest.name, manifest] as const);
  it.each(named(hostileManifests.filter((manifest) => manifest.knownBug === undefined)))('%s: refused within the bounds, moved to failed/, nothing deleted', refusedWithinBounds, 150_000);
  it.fails.each(named(hostileManifests.filter((manifest) => manifest.knownBug !== undefined)))('KNOWN BUG %s: refused within the bounds, moved to failed/, nothing deleted', refusedWithinBounds, 150_000);
});

// Both failed with a RangeError while lib/job/jobIdentity.ts (canonicalJson past its depth) and
// lib/pipeline/EntryScreen.ts (printable, the digest) wrote entries with JSON.stringify.
describe('an inline entry nested 10,000 deep', () => {
  const job = () => ({ target: { projectId: PROJECT, dataAnnotationId: '282' }, imageIds: [...SEEDED.map((id) => `${id}0`), JSON.parse(`${'['.repeat(10_000)}"x"${']'.repeat(10_000)}`) as unknown] });

  it('in a manual job: the job completes, the entry is invalid with its reason, nothing is deleted', async () => {
    // Act
    const result = await runManualInvocation(job(), stackDeps(stack, ENV, { logger: capturingLogger().logger }));

    // Assess
    expect(result.status).toBe('completed');
    if (result.status !== 'completed') return;
    expect(result.summary.counts).toMatchObject({ received: 3, invalid: 3, deleted: 0 });
    const failedCsv = await readS3Text(stack.s3, result.report.failed);
    expect(failedCsv).toContain(`${'['.repeat(20)}`);
    expect(failedCsv).toContain('expected a string, got an array');
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it('in a 30 KB SQS body: the message is done, the entry is invalid with its reason, nothing is deleted', async () => {
    // Prepare
    // Written as text: JSON.stringify itself overflows the stack on such an entry.
    const jobId = `corpus-deep-inline-${Date.now()}`;
    const body = `{"jobId":"${jobId}","target":{"projectId":"${PROJECT}","dataAnnotationId":"282"},"imageIds":["${SEEDED[0]}0","${SEEDED[1]}0",${'['.repeat(10_000)}"${'y'.repeat(9_000)}"${']'.repeat(10_000)}]}`;
    const record = sqsRecord(body, `corpus-deep-${run}`);

    // Act
    const response = await processQueueBatch(sqsEvent(record), stackDeps(stack, ENV, { logger: capturingLogger().logger }), createLambdaContext('queue'));

    // Assess
    expect(body.length).toBeGreaterThan(29_000);
    expect(response.batchItemFailures).toEqual([]);
    const summary = JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/${jobId}/summary.json`)) as { counts: Record<string, number>; report: { failed: string } };
    expect(summary.counts).toMatchObject({ received: 3, invalid: 3, deleted: 0 });
    expect(await readS3Text(stack.s3, summary.report.failed)).toContain('expected a string, got an array');
    expect(stack.emulator.requests).toHaveLength(0);
  });
});
