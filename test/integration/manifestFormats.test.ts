import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { parse } from 'csv-parse/sync';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import { readS3Text, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: every manifest format through the whole pipeline, against the local S3 and the emulator.
const PROJECT = 'cc0f0990a56f4a1b9e41c85e79cc511c';
const JOB = '282';
const target = { projectId: PROJECT, dataAnnotationId: JOB };
// The IDs the samples in examples/manifests/formats/ name; ids[3] is not in the labelling job.
const ids = Array.from({ length: 6 }, (_, i) => createHash('md5').update(`demo-image-${1000 + i}`).digest('hex'));
const samples = new URL('../../examples/manifests/formats/', import.meta.url);

const stack = useLocalStack();
beforeEach(() => {
  stack.emulator.requests.length = 0;
  stack.emulator.settings.v1UnknownIdCode = 'ModelArts.4420';
  stack.emulator.seedLabellingJob(PROJECT, JOB, [ids[0]!, ids[1]!, ids[2]!, ids[4]!, ids[5]!, 'f'.repeat(32)]);
});

async function put(key: string, body: string | Buffer): Promise<string> {
  // Multipart, as big manifests are uploaded (the local S3 caps single PUT bodies).
  await new Upload({ client: stack.s3, params: { Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: body } }).done();
  return `s3://${stack.env.MANIFEST_BUCKET}/${key}`;
}

async function run(event: unknown, env: Record<string, string> = {}) {
  const result = await runManualInvocation(event, stackDeps(stack, env));
  if (result.status !== 'completed') throw new Error(`expected a completed job, got ${JSON.stringify(result.status === 'rejected' ? result.error : result.status)}`);
  return result;
}

async function results(uri: string): Promise<Array<Record<string, unknown>>> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = gunzipSync(Buffer.from(await object.Body!.transformToByteArray())).toString('utf8');
  return text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

const formats = ['list.txt', 'list.csv', 'list.jsonl', 'list.json'];

describe('manifest formats', () => {
  it.each(formats.flatMap((file) => [[file, false], [file, true]] as const))('%s (gzip: %s) gives the same outcomes for the same IDs', async (file, gzip) => {
    // Prepare
    const body = await readFile(new URL(file, samples));
    const manifest = await put(`uploads/formats/${file}${gzip ? '.gz' : ''}`, gzip ? gzipSync(body) : body);

    // Act
    const { summary } = await run({ target, manifest });

    // Assess
    expect(summary.counts).toEqual({ received: 8, deleted: 5, already_deleted: 1, failed: 0, invalid: 1, duplicate: 1, skipped: 0, would_delete: 0 });
    expect(summary.normalized).toBeGreaterThanOrEqual(1);
    expect(stack.emulator.labellingJobImages(PROJECT, JOB)).toEqual(new Set(['f'.repeat(32)]));
    const lines = await results(summary.report.results);
    expect(lines).toHaveLength(summary.counts.received - summary.counts.duplicate);
    expect(new Set(lines.map((line) => line.image_id)).size).toBe(lines.length);
    expect(lines.filter((line) => line.outcome === 'deleted').map((line) => line.image_id).sort()).toEqual([ids[0], ids[1], ids[2], ids[4], ids[5]].sort());
    expect(lines.find((line) => line.outcome === 'invalid')).toMatchObject({ image_id: 'not-an-id', error_code: 'INVALID_IMAGE_ID' });
  });

  it('reports an invalid line with its line number (blank lines counted)', async () => {
    const { summary } = await run({ target, manifest: await put('uploads/formats/lines.txt', await readFile(new URL('list.txt', samples))) });
    const rows = parse<Record<string, string>>(await readS3Text(stack.s3, summary.report.failed), { columns: true });
    expect(rows).toEqual([expect.objectContaining({ image_id: 'not-an-id', outcome: 'invalid', line: '5' })]);
  });

  it('runs a CSV manifest that names its own target, and refuses one whose target conflicts with the job', async () => {
    const manifest = await put('uploads/formats/with-target.csv', await readFile(new URL('with-target.csv', samples)));
    const ok = await run({ manifest });
    expect(ok.summary.target).toEqual({ api: 'v1', ...target });

    const conflicting = await runManualInvocation({ target: { ...target, dataAnnotationId: '999' }, manifest }, stackDeps(stack));
    expect(conflicting.status).toBe('rejected');
    if (conflicting.status !== 'rejected') return;
    expect(conflicting.error.issues).toEqual([{ path: 'target', message: expect.stringMatching(/the job and the manifest name different targets/) as unknown }]);
  });

  it('re-runs exactly the failed IDs when failed.csv is fed back as the manifest', async () => {
    // Prepare: the unknown ID fails permanently (the emulator's switch), so it lands in failed.csv.
    stack.emulator.settings.v1UnknownIdCode = 'ModelArts.0104';
    const first = await run({ target, manifest: await put('uploads/formats/first.txt', await readFile(new URL('list.txt', samples))) });
    expect(first.summary.counts).toMatchObject({ deleted: 5, failed: 1, invalid: 1 });
    const failedCsv = await readS3Text(stack.s3, first.report.failed);
    stack.emulator.requests.length = 0;
    stack.emulator.settings.v1UnknownIdCode = 'ModelArts.4420';

    // Act: no target in the job: failed.csv names it.
    const rerun = await run({ manifest: await put('uploads/formats/rerun.csv', failedCsv) });

    // Assess
    expect(stack.emulator.requests.flatMap((request) => request.imageIds)).toEqual([ids[3]]);
    expect(rerun.summary.counts).toMatchObject({ received: 2, already_deleted: 1, invalid: 1, deleted: 0, failed: 0 });
  });
});

describe('manifests that fail the job before anything is deleted', () => {
  it.each([
    ['a broken last JSON line', 'uploads/bad/last-line.jsonl', () => `${JSON.stringify(ids[0])}\n${JSON.stringify(ids[1])}\n{"image_id": "${ids[2]}"`, /line 3: not valid JSON/],
    ['a CSV without image_id', 'uploads/bad/no-column.csv', () => `id\n${ids[0]}\n`, /line 1: the CSV header has no "image_id" column/],
    ['truncated gzip', 'uploads/bad/cut.txt.gz', () => gzipSync(ids.join('\n').repeat(20)).subarray(0, 60), /gzip data is truncated or corrupt/],
    ['latin-1 bytes', 'uploads/bad/latin1.txt', () => Buffer.concat([Buffer.from(`${ids[0]}\n`), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('\n')]), /line 2: the bytes are not valid UTF-8/],
    ['an empty manifest', 'uploads/bad/empty.txt', () => '\n\n', /holds no image IDs/],
    ['a 50 MB JSON manifest, over the cap', 'uploads/bad/huge.json', () => JSON.stringify({ imageIds: Array(1_500_000).fill(ids[0]) }), /byte 10485760: a \.json manifest is parsed whole and may be at most 10485760 bytes/],
  ])('%s', async (_label, key, body, message) => {
    // Prepare
    const manifest = await put(key, body());

    // Act
    const result = await runManualInvocation({ target, manifest }, stackDeps(stack));

    // Assess
    expect(result.status).toBe('rejected');
    if (result.status !== 'rejected') return;
    expect(result.error.issues).toEqual([{ path: 'manifest', message: expect.stringMatching(message) as unknown }]);
    expect(result.error.message).toContain(manifest);
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(6);
  });
});
