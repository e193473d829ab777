import { PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import { imageIds, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: jobs whose IDs are in a manifest in the local S3, deleted through the emulator.
const PROJECT = '0123456789abcdef0123456789abcdef';
const target = { projectId: PROJECT, dataAnnotationId: '282' };
const stack = useLocalStack();
let bucket: string;

beforeAll(() => {
  bucket = stack.env.MANIFEST_BUCKET!;
});
beforeEach(() => {
  stack.emulator.requests.length = 0;
});

async function put(key: string, body: string): Promise<string> {
  await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return `s3://${bucket}/${key}`;
}

describe('jobs with a manifest', () => {
  it('reads a text manifest with a BOM, CRLF and blank lines, and records the manifest in the report', async () => {
    // Prepare
    const ids = imageIds('text', 4);
    stack.emulator.seedLabellingJob(PROJECT, '282', ids);
    const manifest = await put('uploads/list.txt', `\uFEFF${ids[0]}\r\n\r\n${ids[1]}\r\n  ${ids[2]}  \nnot-an-id\n${ids[3]}`);

    // Act
    const result = await runManualInvocation({ target, manifest }, stackDeps(stack));

    // Assess
    expect(result.status).toBe('completed');
    if (result.status !== 'completed') return;
    expect(result.summary.counts).toEqual({ received: 5, deleted: 4, already_deleted: 0, failed: 0, invalid: 1, duplicate: 0, skipped: 0, would_delete: 0 });
    expect(result.summary.trigger.manifest).toBe(manifest);
    expect(stack.emulator.labellingJobImages(PROJECT, '282').size).toBe(0);
  });

  it('takes the target from a JSON job file, or from the key convention, when the job names none', async () => {
    // Prepare
    const [a, b] = [imageIds('json', 2), imageIds('key', 2)];
    stack.emulator.seedDataset(PROJECT, 'ds1', a);
    stack.emulator.seedLabellingJob(PROJECT, '77', b);
    const json = await put('uploads/job.json', JSON.stringify({ target: { projectId: PROJECT, datasetId: 'ds1' }, imageIds: a }));
    const byKey = await put(`uploads/v1/${PROJECT}/77/list.txt`, b.join('\n'));

    // Act
    const [fromJson, fromKey] = await Promise.all([runManualInvocation({ manifest: json }, stackDeps(stack)), runManualInvocation({ manifest: byKey }, stackDeps(stack))]);

    // Assess
    expect(fromJson).toMatchObject({ status: 'completed', summary: { target: { api: 'v2', datasetId: 'ds1' }, counts: { deleted: 2 } } });
    expect(fromKey).toMatchObject({ status: 'completed', summary: { target: { api: 'v1', dataAnnotationId: '77' }, counts: { deleted: 2 } } });
  });

  it.each([
    ['a manifest in another bucket', () => ({ target, manifest: 's3://someone-elses-bucket/list.txt' }), 'manifest', 'may only be read from'],
    ['a key with ..', () => ({ target, manifest: `s3://image-cleanup-manifests/uploads/../pending/x.txt` }), 'manifest', '".."'],
    ['a missing manifest', () => ({ target, manifest: 's3://image-cleanup-manifests/uploads/none.txt' }), 'manifest', 'no such object'],
    ['an unknown format', async () => ({ target, manifest: await put('uploads/list.xlsx', 'x') }), 'manifest', 'unknown manifest extension'],
    ['JSON that is cut short', async () => ({ target, manifest: await put('uploads/cut.json', '{"imageIds": ["a"') }), 'manifest', 'not valid JSON'],
    ['no target anywhere', async () => ({ manifest: await put('uploads/plain.txt', imageIds('t', 1).join('\n')) }), 'target', 'no target'],
    ['a target that disagrees with the manifest', async () => ({ target, manifest: await put('uploads/other.json', JSON.stringify({ target: { projectId: PROJECT, dataAnnotationId: '999' }, imageIds: imageIds('t', 1) })) }), 'target', 'different targets'],
    ['a manifest target that is malformed', async () => ({ manifest: await put('uploads/bad-target.json', JSON.stringify({ target: { projectId: 'a/b', dataAnnotationId: '1' }, imageIds: imageIds('t', 1) })) }), 'manifest.target.projectId', 'letters, digits'],
  ])('refuses %s, naming the field, and deletes nothing', async (_label, makeEvent, path, message) => {
    // Act
    const result = await runManualInvocation(await makeEvent(), stackDeps(stack));

    // Assess
    expect(result.status).toBe('rejected');
    if (result.status !== 'rejected') return;
    expect(result.error.issues).toContainEqual({ path, message: expect.stringContaining(message) as unknown });
    expect(stack.emulator.requests).toHaveLength(0);
  });
});
