import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobValidationError, ManifestChangedError } from '../../../lib/core/errors.js';
import { parseCleanupJob } from '../../../lib/job/cleanupJob.js';
import { prepareJobSource, type JobSource, type JobSourceDeps } from '../../../lib/job/prepareJobSource.js';
import { ManifestError } from '../../../lib/manifest/ManifestError.js';
import type { JobEntry } from '../../../lib/pipeline/JobEntry.js';
import { imageIds } from '../../support/stackDeps.js';
import { useLocalStack } from '../../support/useLocalStack.js';

// The preparing pass against the local S3 (fauxqs): the manifests are real objects, read as streams.
// fauxqs honours If-Match on GetObject (412 when the ETag differs), so the "manifest changed"
// refusal of a re-read is tested end to end.
const PROJECT = 'cc0f0990a56f4a1b9e41c85e79cc511c';
const PREFIX = 'jobs/';
const stack = useLocalStack();
let bucket: string;
let deps: JobSourceDeps;

beforeAll(() => {
  bucket = stack.env.MANIFEST_BUCKET!;
  deps = { config: { MANIFEST_BUCKET: bucket, MANIFEST_PREFIX: PREFIX }, s3: stack.s3 };
});

async function put(key: string, body: string | Buffer): Promise<{ uri: string; etag: string }> {
  const written = await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return { uri: `s3://${bucket}/${key}`, etag: written.ETag! };
}

async function collect(entries: AsyncIterable<JobEntry>): Promise<JobEntry[]> {
  const all: JobEntry[] = [];
  for await (const entry of entries) all.push(entry);
  return all;
}

// The error prepareJobSource was refused with (it must be a JobValidationError).
async function refusal(job: unknown, options: Parameters<typeof prepareJobSource>[2] = {}): Promise<JobValidationError> {
  try {
    await prepareJobSource(parseCleanupJob(job), deps, options);
  } catch (error) {
    expect(error).toBeInstanceOf(JobValidationError);
    return error as JobValidationError;
  }
  expect.fail('expected prepareJobSource to refuse the job');
}

const v1 = { projectId: PROJECT, dataAnnotationId: '282' };

describe('prepareJobSource: an inline job', () => {
  it('counts the IDs and yields them in order with 1-based positions, whatever they are', async () => {
    // Prepare
    const ids = imageIds('inline', 3);
    const job = parseCleanupJob({ target: v1, imageIds: [ids[0], 42, ids[1], ' padded ', ids[2]] });

    // Act
    const source = await prepareJobSource(job, deps);
    const entries = await collect(source.entries());

    // Assess
    expect(source.target).toEqual({ api: 'v1', projectId: PROJECT, dataAnnotationId: '282' });
    expect(source.entryCount).toBe(5);
    expect(source.manifest).toBeUndefined();
    expect(source.manifestETag).toBeUndefined();
    expect(entries).toEqual([
      { position: 1, value: ids[0] },
      { position: 2, value: 42 },
      { position: 3, value: ids[1] },
      { position: 4, value: ' padded ' },
      { position: 5, value: ids[2] },
    ]);
    // Read again: the same entries (the run and a continuation both read from the start).
    expect(await collect(source.entries())).toEqual(entries);
  });
});

describe('prepareJobSource: a manifest job', () => {
  it('counts the entries (blank lines excluded), keeps the ETag, and yields each entry with its line', async () => {
    // Prepare
    const ids = imageIds('text', 3);
    const { uri, etag } = await put(`${PREFIX}lists/a.txt`, `${ids[0]}\n\n  ${ids[1]}  \r\nnot-an-id\n\n${ids[2]}`);

    // Act
    const source = await prepareJobSource(parseCleanupJob({ target: v1, manifest: uri }), deps);
    const entries = await collect(source.entries());

    // Assess
    expect(source.entryCount).toBe(4);
    expect(source.manifest).toBe(uri);
    expect(source.manifestETag).toBe(etag);
    expect(source.target).toEqual({ api: 'v1', projectId: PROJECT, dataAnnotationId: '282' });
    expect(entries).toEqual([
      { position: 1, value: ids[0] },
      { position: 3, value: ids[1] },
      { position: 4, value: 'not-an-id' },
      { position: 6, value: ids[2] },
    ]);
    expect(entries).toHaveLength(source.entryCount);
  });

  it('reads a gzip-compressed manifest', async () => {
    // Prepare
    const ids = imageIds('gzip', 50);
    const { uri } = await put(`${PREFIX}lists/b.txt.gz`, gzipSync(ids.join('\n')));

    // Act
    const source = await prepareJobSource(parseCleanupJob({ target: v1, manifest: uri }), deps);

    // Assess
    expect(source.entryCount).toBe(50);
    expect((await collect(source.entries())).map((entry) => entry.value)).toEqual(ids);
  });

  it.each([
    ['v1', `${PREFIX}drop/v1/${PROJECT}/282/list.txt`, { api: 'v1', projectId: PROJECT, dataAnnotationId: '282' }],
    ['v2', `${PREFIX}drop/v2/${PROJECT}/ds-7/list.txt`, { api: 'v2', projectId: PROJECT, datasetId: 'ds-7', deleteSource: false }],
  ])('settles the target from the %s key convention when the job names none', async (_api, key, expected) => {
    // Prepare
    const { uri } = await put(key, imageIds(key, 2).join('\n'));

    // Act
    const source = await prepareJobSource(parseCleanupJob({ manifest: uri }), deps);

    // Assess
    expect(source.target).toEqual(expected);
    expect(source.entryCount).toBe(2);
  });

  it('settles the target from a JSON manifest, and from CSV target columns', async () => {
    // Prepare
    const ids = imageIds('own-target', 2);
    const json = await put(`${PREFIX}lists/own.json`, JSON.stringify({ target: { projectId: PROJECT, datasetId: 'ds1' }, imageIds: ids }));
    const csv = await put(`${PREFIX}lists/own.csv`, `image_id,project_id,data_annotation_id\n${ids[0]},${PROJECT},9\n${ids[1]},${PROJECT},9\n`);

    // Act
    const [fromJson, fromCsv] = await Promise.all([prepareJobSource(parseCleanupJob({ manifest: json.uri }), deps), prepareJobSource(parseCleanupJob({ manifest: csv.uri }), deps)]);

    // Assess
    expect(fromJson.target).toEqual({ api: 'v2', projectId: PROJECT, datasetId: 'ds1', deleteSource: false });
    expect(fromJson.entryCount).toBe(2);
    expect(fromCsv.target).toEqual({ api: 'v1', projectId: PROJECT, dataAnnotationId: '9' });
    expect((await collect(fromCsv.entries())).map((entry) => [entry.position, entry.value])).toEqual([[2, ids[0]], [3, ids[1]]]);
  });

  it('accepts a job target that agrees with the key convention', async () => {
    // Prepare
    const { uri } = await put(`${PREFIX}agree/v1/${PROJECT}/282/list.txt`, imageIds('agree', 1).join('\n'));

    // Act
    const source = await prepareJobSource(parseCleanupJob({ target: v1, manifest: uri }), deps);

    // Assess
    expect(source.target).toEqual({ api: 'v1', projectId: PROJECT, dataAnnotationId: '282' });
  });

  it('reads a manifest under pending/ only when the caller allows it', async () => {
    // Prepare
    const { uri } = await put(`${PREFIX}pending/v1/${PROJECT}/282/list.txt`, imageIds('pending', 3).join('\n'));
    const job = { manifest: uri };

    // Act
    const refused = await refusal(job);
    const allowed = await prepareJobSource(parseCleanupJob(job), deps, { allowPending: true });

    // Assess
    expect(refused.issues[0]).toMatchObject({ path: 'manifest', message: expect.stringContaining('pending/') as unknown });
    expect(allowed.entryCount).toBe(3);
  });
});

describe('prepareJobSource: refusals', () => {
  it('refuses a manifest that does not exist, naming it', async () => {
    // Act
    const error = await refusal({ target: v1, manifest: `s3://${bucket}/${PREFIX}lists/missing.txt` });

    // Assess
    expect(error).not.toBeInstanceOf(ManifestError);
    expect(error.issues).toEqual([{ path: 'manifest', message: `s3://${bucket}/${PREFIX}lists/missing.txt: no such object` }]);
  });

  it.each([
    ['another bucket', () => `s3://someone-elses-bucket/${PREFIX}list.txt`, 'may only be read from'],
    ['outside MANIFEST_PREFIX', () => `s3://${bucket}/elsewhere/list.txt`, 'may only be read from'],
    ['a claim object', () => `s3://${bucket}/${PREFIX}claims/list.txt`, 'claim object'],
    ['a ".." segment', () => `s3://${bucket}/${PREFIX}a/../../list.txt`, '".."'],
  ])('refuses a manifest in %s, before reading it', async (_where, uri, message) => {
    // Prepare: the object exists, so only the location check can refuse it.
    const key = /^s3:\/\/[^/]+\/(.+)$/.exec(uri())![1]!;
    if (uri().startsWith(`s3://${bucket}/`)) await put(key, imageIds('outside', 1).join('\n'));

    // Act
    const error = await refusal({ target: v1, manifest: uri() });

    // Assess
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.path).toBe('manifest');
    expect(error.issues[0]!.message).toContain(message);
  });

  it('refuses a manifest with no IDs (blank lines only) as a ManifestError naming it', async () => {
    // Prepare
    const { uri } = await put(`${PREFIX}lists/blank.txt`, '\n  \n\r\n');

    // Act
    const error = await refusal({ target: v1, manifest: uri });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).reason).toBe('holds no image IDs');
    expect(error.issues).toEqual([{ path: 'manifest', message: `${uri}: holds no image IDs` }]);
  });

  it('refuses a manifest with a broken line as a ManifestError with the line and the manifest', async () => {
    // Prepare
    const ids = imageIds('broken', 2);
    const { uri } = await put(`${PREFIX}lists/broken.jsonl`, `"${ids[0]}"\n"${ids[1]}"\n{"image_id": `);

    // Act
    const error = await refusal({ target: v1, manifest: uri });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).line).toBe(3);
    expect(error.issues[0]!.message).toMatch(new RegExp(`^${uri.replaceAll('.', '\\.')}: line 3: not valid JSON`));
  });

  it('refuses an unknown extension as a ManifestError naming the manifest', async () => {
    // Prepare
    const { uri } = await put(`${PREFIX}lists/list.xml`, imageIds('xml', 1).join('\n'));

    // Act
    const error = await refusal({ target: v1, manifest: uri });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.issues[0]!.message).toContain(`${uri}: unknown manifest extension ".xml"`);
  });

  it('refuses a job target that contradicts the key convention', async () => {
    // Prepare
    const { uri } = await put(`${PREFIX}other/v1/${PROJECT}/283/list.txt`, imageIds('contradict', 1).join('\n'));

    // Act
    const error = await refusal({ target: v1, manifest: uri });

    // Assess
    expect(error).not.toBeInstanceOf(ManifestError);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.path).toBe('target');
    expect(error.issues[0]!.message).toContain('the job and the manifest key name different targets');
  });

  it('refuses a JSON manifest whose target contradicts its key', async () => {
    // Prepare
    const { uri } = await put(`${PREFIX}both/v1/${PROJECT}/282/job.json`, JSON.stringify({ target: { projectId: PROJECT, datasetId: 'ds1' }, imageIds: imageIds('both', 1) }));

    // Act
    const error = await refusal({ manifest: uri });

    // Assess
    expect(error.issues[0]!.path).toBe('target');
    expect(error.issues[0]!.message).toContain('the manifest and the manifest key name different targets');
  });

  it('refuses a CSV manifest whose lines name two targets, at the line of the second', async () => {
    // Prepare
    const ids = imageIds('two-targets', 3);
    const { uri } = await put(`${PREFIX}lists/two.csv`, `image_id,project_id,data_annotation_id\n${ids[0]},${PROJECT},1\n${ids[1]},${PROJECT},1\n${ids[2]},${PROJECT},2\n`);

    // Act
    const error = await refusal({ manifest: uri });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).line).toBe(4);
    expect(error.issues[0]!.message).toContain('but line 2 named');
  });

  it('refuses a manifest job with no target anywhere', async () => {
    // Prepare
    const { uri } = await put(`${PREFIX}lists/untargeted.txt`, imageIds('untargeted', 1).join('\n'));

    // Act
    const error = await refusal({ manifest: uri });

    // Assess
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.path).toBe('target');
    expect(error.issues[0]!.message).toMatch(/^no target: /);
  });

  it('refuses a key convention whose IDs are not valid target IDs, on path manifest', async () => {
    // Prepare
    const { uri } = await put(`${PREFIX}bad/v1/${PROJECT}/not%valid/list.txt`, imageIds('bad-key', 1).join('\n'));

    // Act
    const error = await refusal({ manifest: uri });

    // Assess
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues.every((issue) => issue.path.startsWith('manifest'))).toBe(true);
  });
});

describe('prepareJobSource: reading the entries again', () => {
  async function prepared(key: string, body: string): Promise<{ source: JobSource; uri: string }> {
    const { uri } = await put(key, body);
    return { source: await prepareJobSource(parseCleanupJob({ target: v1, manifest: uri }), deps), uri };
  }

  it('re-reads the version it prepared, as often as asked', async () => {
    // Prepare
    const ids = imageIds('again', 5);
    const { source } = await prepared(`${PREFIX}again/list.txt`, ids.join('\n'));

    // Act
    const first = await collect(source.entries());
    const second = await collect(source.entries());

    // Assess
    expect(first.map((entry) => entry.value)).toEqual(ids);
    expect(second).toEqual(first);
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${PREFIX}again/list.txt` }));
    expect(source.manifestETag).toBe(head.ETag);
  });

  it('refuses to read a manifest that changed after it was prepared', async () => {
    // Prepare
    const key = `${PREFIX}changed/list.txt`;
    const { source, uri } = await prepared(key, imageIds('before', 3).join('\n'));
    await put(key, imageIds('after', 3).join('\n'));

    // Act
    const reading = collect(source.entries());

    // Assess
    await expect(reading).rejects.toBeInstanceOf(ManifestChangedError);
    await expect(reading).rejects.toMatchObject({ code: 'MANIFEST_CHANGED', manifest: uri });
    await expect(reading).rejects.toThrow(`${uri}: the manifest changed: ETag ${source.manifestVersion!.etag}, the version this job reads, is no longer there (replaced or deleted); start a new job for the new version`);
  });

  it('refuses to read a manifest deleted after it was prepared, as a changed manifest', async () => {
    // Prepare
    const key = `${PREFIX}deleted/list.txt`;
    const { source, uri } = await prepared(key, imageIds('deleted', 2).join('\n'));
    await stack.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));

    // Act
    const reading = collect(source.entries());

    // Assess
    await expect(reading).rejects.toBeInstanceOf(ManifestChangedError);
    await expect(reading).rejects.toThrow(`${uri}: the manifest changed: ETag`);
  });
});

describe('prepareJobSource: a pinned version', () => {
  it('reads the version it is pinned to, and keeps it', async () => {
    // Prepare
    const ids = imageIds('pinned', 4);
    const { uri, etag } = await put(`${PREFIX}pinned/list.txt`, ids.join('\n'));

    // Act
    const source = await prepareJobSource(parseCleanupJob({ target: v1, manifest: uri }), deps, {}, { etag });

    // Assess
    expect(source.manifestVersion).toEqual({ etag });
    expect(source.entryCount).toBe(4);
    expect((await collect(source.entries())).map((entry) => entry.value)).toEqual(ids);
  });

  it('refuses the preparing pass when the manifest holds another version than the pinned one, naming both', async () => {
    // Prepare: the job was pinned to the first version; the file was replaced since.
    const key = `${PREFIX}pinned/replaced.txt`;
    const first = await put(key, imageIds('pinned-first', 3).join('\n'));
    await put(key, imageIds('pinned-second', 3).join('\n'));

    // Act
    const preparing = prepareJobSource(parseCleanupJob({ target: v1, manifest: first.uri }), deps, {}, { etag: first.etag });

    // Assess
    await expect(preparing).rejects.toBeInstanceOf(ManifestChangedError);
    await expect(preparing).rejects.toThrow(`ETag ${first.etag}, the version this job reads, is no longer there`);
  });

  it('refuses the preparing pass of a pinned manifest that is gone as changed, not as missing', async () => {
    // Act
    const preparing = prepareJobSource(parseCleanupJob({ target: v1, manifest: `s3://${bucket}/${PREFIX}pinned/none.txt` }), deps, {}, { etag: '"0123"' });

    // Assess
    await expect(preparing).rejects.toBeInstanceOf(ManifestChangedError);
  });

  it('asks S3 for the VersionId and the ETag it is pinned to, and records the VersionId S3 answers', async () => {
    // fauxqs keeps no object versions, so a bucket with versioning cannot be shown by the local
    // stack: this test records the GetObject requests the real client sends to it, and answers the
    // first with a VersionId as S3 does for a versioned bucket. Everything else is the local S3.
    const ids = imageIds('versioned', 2);
    const { uri, etag } = await put(`${PREFIX}versioned/list.txt`, ids.join('\n'));
    const sent: Array<Record<string, unknown>> = [];
    const s3 = new Proxy(stack.s3, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
        return async (command: { input: Record<string, unknown> }) => {
          sent.push({ ...command.input });
          const answer = (await target.send(command as never)) as unknown as Record<string, unknown>;
          return command.input.VersionId === undefined && sent.length === 1 ? { ...answer, VersionId: 'v-3' } : answer;
        };
      },
    });

    // Act
    const source = await prepareJobSource(parseCleanupJob({ target: v1, manifest: uri }), { ...deps, s3 });
    await collect(source.entries());

    // Assess
    expect(source.manifestVersion).toEqual({ etag, versionId: 'v-3' });
    expect(sent.map((input) => [input.VersionId, input.IfMatch])).toEqual([[undefined, undefined], ['v-3', etag]]);
  });
});

describe('prepareJobSource: what a key cannot say', () => {
  // The key convention cannot carry `deleteSource` (it parses to false): compared with a key, targets
  // are compared without it, and the job's (or the manifest's) stands.
  it('accepts deleteSource: true from the job on a v2 key-convention manifest of the same dataset', async () => {
    // Prepare
    const { uri } = await put(`${PREFIX}source/v2/${PROJECT}/ds1/list.txt`, imageIds('delete-source', 1).join('\n'));

    // Act
    const source = await prepareJobSource(parseCleanupJob({ target: { projectId: PROJECT, datasetId: 'ds1', deleteSource: true }, manifest: uri }), deps);

    // Assess
    expect(source.target).toEqual({ api: 'v2', projectId: PROJECT, datasetId: 'ds1', deleteSource: true });
  });

  it('still refuses deleteSource: true on another dataset than the key names, and a manifest that says deleteSource otherwise', async () => {
    // Prepare
    const byKey = await put(`${PREFIX}source/v2/${PROJECT}/ds1/other.txt`, imageIds('delete-source-other', 1).join('\n'));
    const json = await put(`${PREFIX}source/own.json`, JSON.stringify({ target: { projectId: PROJECT, datasetId: 'ds1', deleteSource: false }, imageIds: imageIds('delete-source-json', 1) }));

    // Act
    const [otherDataset, contradicted] = await Promise.all([
      refusal({ target: { projectId: PROJECT, datasetId: 'ds2', deleteSource: true }, manifest: byKey.uri }),
      refusal({ target: { projectId: PROJECT, datasetId: 'ds1', deleteSource: true }, manifest: json.uri }),
    ]);

    // Assess
    expect(otherDataset.issues[0]!.message).toContain('the job and the manifest key name different targets');
    expect(contradicted.issues[0]!.message).toContain('the job and the manifest name different targets');
  });
});
