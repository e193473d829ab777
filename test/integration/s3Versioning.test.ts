import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: the local S3 with versioning on in the manifest bucket (local/stack/s3Versioning.ts)
// must answer as a versioned S3 bucket does, or the VersionId paths of the pending flow and the job
// record would be tested against a store that cannot keep an old version.
const stack = useLocalStack({ manifestVersioning: true });

async function refusal(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  expect.fail('expected the S3 call to be refused');
}

describe('versioning on the local S3', () => {
  it('gives each write a VersionId, answers the current one, and serves an older one by its id (If-Match checked against it)', async () => {
    // Prepare
    const Bucket = stack.env.MANIFEST_BUCKET!;
    const Key = `ver/${randomUUID().slice(0, 8)}/a.txt`;
    const v1 = await stack.s3.send(new PutObjectCommand({ Bucket, Key, Body: 'one' }));
    const v2 = await stack.s3.send(new PutObjectCommand({ Bucket, Key, Body: 'two' }));

    // Act
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket, Key }));
    const old = await stack.s3.send(new GetObjectCommand({ Bucket, Key, VersionId: v1.VersionId, IfMatch: v1.ETag }));
    const stale = await refusal(stack.s3.send(new GetObjectCommand({ Bucket, Key, VersionId: v1.VersionId, IfMatch: v2.ETag })));
    const unknown = await refusal(stack.s3.send(new GetObjectCommand({ Bucket, Key, VersionId: 'no-such-version' })));

    // Assess
    expect(v1.VersionId).toBeTruthy();
    expect(v2.VersionId).not.toBe(v1.VersionId);
    expect(head).toMatchObject({ VersionId: v2.VersionId, ETag: v2.ETag });
    expect(await old.Body?.transformToString()).toBe('one');
    expect(old.VersionId).toBe(v1.VersionId);
    expect(stale).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(unknown).toEqual({ name: 'NoSuchVersion', status: 404 });
  });

  it('copies an older version by its id, conditioned on its ETag', async () => {
    // Prepare
    const Bucket = stack.env.MANIFEST_BUCKET!;
    const Key = `ver/${randomUUID().slice(0, 8)}/b.txt`;
    const v1 = await stack.s3.send(new PutObjectCommand({ Bucket, Key, Body: 'one' }));
    const v2 = await stack.s3.send(new PutObjectCommand({ Bucket, Key, Body: 'two' }));
    const source = (versionId: string | undefined) => `${Bucket}/${Key}?versionId=${versionId}`;

    // Act
    await stack.s3.send(new CopyObjectCommand({ Bucket, Key: `${Key}.old`, CopySource: source(v1.VersionId), CopySourceIfMatch: v1.ETag, MetadataDirective: 'REPLACE', Metadata: { report: 's3://r/1' } }));
    await stack.s3.send(new CopyObjectCommand({ Bucket, Key: `${Key}.new`, CopySource: source(v2.VersionId), CopySourceIfMatch: v2.ETag }));
    const wrong = await refusal(stack.s3.send(new CopyObjectCommand({ Bucket, Key: `${Key}.x`, CopySource: source(v1.VersionId), CopySourceIfMatch: v2.ETag })));

    // Assess
    const copied = await stack.s3.send(new GetObjectCommand({ Bucket, Key: `${Key}.old` }));
    expect(await copied.Body?.transformToString()).toBe('one');
    expect(copied.Metadata?.report).toBe('s3://r/1');
    expect(await (await stack.s3.send(new GetObjectCommand({ Bucket, Key: `${Key}.new` }))).Body?.transformToString()).toBe('two');
    expect(wrong).toEqual({ name: 'PreconditionFailed', status: 412 });
  });

  it('deletes only the version named (the one before becomes current again); without a VersionId, adds a delete marker', async () => {
    // Prepare
    const Bucket = stack.env.MANIFEST_BUCKET!;
    const Key = `ver/${randomUUID().slice(0, 8)}/c.txt`;
    const v1 = await stack.s3.send(new PutObjectCommand({ Bucket, Key, Body: 'one' }));
    const v2 = await stack.s3.send(new PutObjectCommand({ Bucket, Key, Body: 'two' }));

    // Act
    await stack.s3.send(new DeleteObjectCommand({ Bucket, Key, VersionId: v2.VersionId }));
    const afterCurrentDeleted = await stack.s3.send(new GetObjectCommand({ Bucket, Key }));
    const afterText = await afterCurrentDeleted.Body?.transformToString();
    await stack.s3.send(new DeleteObjectCommand({ Bucket, Key }));
    const gone = await refusal(stack.s3.send(new HeadObjectCommand({ Bucket, Key })));
    const stillThere = await stack.s3.send(new GetObjectCommand({ Bucket, Key, VersionId: v1.VersionId }));

    // Assess
    expect(afterText).toBe('one');
    expect(afterCurrentDeleted.VersionId).toBe(v1.VersionId);
    expect(gone.status).toBe(404);
    expect(await stillThere.Body?.transformToString()).toBe('one');
    expect(await refusal(stack.s3.send(new GetObjectCommand({ Bucket, Key, VersionId: v2.VersionId })))).toEqual({ name: 'NoSuchVersion', status: 404 });
  });

  it('keeps the report bucket unversioned, and conditional writes as they were', async () => {
    // Act
    const put = await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: `ver/${randomUUID()}`, Body: 'x' }));
    const claim = `ver/${randomUUID()}.claim`;
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: claim, Body: 'a', IfNoneMatch: '*' }));
    const second = await refusal(stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: claim, Body: 'b', IfNoneMatch: '*' })));

    // Assess
    expect(put.VersionId).toBeUndefined();
    expect(second).toEqual({ name: 'PreconditionFailed', status: 412 });
  });
});
