import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: the local S3 (fauxqs + local/stack/s3ConditionalWrites.ts) must refuse conditional writes
// as real S3 does, or the claim tests would pass against a store that can never refuse a claim.
const stack = useLocalStack();
let bucket: string;

beforeAll(() => {
  bucket = stack.env.MANIFEST_BUCKET as string;
});

// The error an S3 call was refused with: its name and HTTP status.
async function refusal(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  expect.fail('expected the S3 call to be refused');
}

describe('conditional writes on the local S3', () => {
  it('If-None-Match: * creates a missing key and refuses an existing one with 412 PreconditionFailed', async () => {
    // Prepare
    const put = (body: string) => stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/a', Body: body, IfNoneMatch: '*' }));

    // Act
    const first = await put('one');
    const second = await refusal(put('two'));

    // Assess
    expect(first.ETag).toBeTruthy();
    expect(second).toEqual({ name: 'PreconditionFailed', status: 412 });
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond/a' }));
    expect(head.ETag).toBe(first.ETag);
  });

  it('If-Match replaces only the version it names: 412 for a stale ETag, 404 for a missing key', async () => {
    // Prepare
    const v1 = await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/b', Body: 'v1' }));
    const v2 = await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/b', Body: 'v2', IfMatch: v1.ETag }));

    // Act
    const stale = await refusal(stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/b', Body: 'v3', IfMatch: v1.ETag })));
    const missing = await refusal(stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/none', Body: 'x', IfMatch: v1.ETag })));

    // Assess
    expect(v2.ETag).not.toBe(v1.ETag);
    expect(stale).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(missing.status).toBe(404);
  });

  it('If-Match on DeleteObject deletes only the version it names', async () => {
    // Prepare
    const v1 = await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/c', Body: 'v1' }));
    await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/c', Body: 'v2' }));

    // Act
    const stale = await refusal(stack.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'cond/c', IfMatch: v1.ETag })));

    // Assess
    expect(stale).toEqual({ name: 'PreconditionFailed', status: 412 });
    await expect(stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond/c' }))).resolves.toBeTruthy();
  });

  it('x-amz-copy-source-if-match copies only the version it names: 412 for a stale ETag, 404 for a missing source', async () => {
    // Prepare
    const v1 = await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/e', Body: 'v1' }));
    const v2 = await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/e', Body: 'v2' }));
    const copy = (etag: string | undefined, from = 'cond/e') => stack.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cond/e-copy', CopySource: `${bucket}/${from}`, CopySourceIfMatch: etag }));

    // Act
    const stale = await refusal(copy(v1.ETag));
    const missing = await refusal(copy(v1.ETag, 'cond/none'));
    const current = await copy(v2.ETag);

    // Assess
    expect(stale).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(missing.status).toBe(404);
    expect(current.CopyObjectResult?.ETag).toBe(v2.ETag);
    const copied = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond/e-copy' }));
    expect(await copied.Body?.transformToString()).toBe('v2');
  });

  it('of 20 concurrent If-None-Match PUTs of one key, exactly one succeeds; the rest get 412', async () => {
    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/race', Body: `writer-${i}`, IfNoneMatch: '*' }))),
    );

    // Assess
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => (r.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode)).toEqual(Array(19).fill(412));
  });

  it('leaves unconditional writes alone', async () => {
    // Act
    await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/d', Body: 'v1' }));
    const again = await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/d', Body: 'v2' }));

    // Assess
    expect(again.ETag).toBeTruthy();
  });
});
