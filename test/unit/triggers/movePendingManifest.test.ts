import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { movePendingManifest } from '../../../lib/triggers/movePendingManifest.js';
import { useLocalStack } from '../../support/useLocalStack.js';

// Against the local S3, whose conditional copies and deletes are real S3's (local/stack/s3ConditionalWrites.ts).
const stack = useLocalStack();

async function put(key: string, body: string): Promise<string> {
  return (await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: body }))).ETag ?? '';
}

async function read(key: string): Promise<string | undefined> {
  try {
    return await (await stack.s3.send(new GetObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key }))).Body?.transformToString();
  } catch {
    return undefined;
  }
}

describe('movePendingManifest', () => {
  it('moves the version that ran: copied with the report as metadata, then deleted from pending/', async () => {
    // Prepare
    const key = `pending/move-${randomUUID().slice(0, 8)}/a b.txt`;
    const etag = await put(key, 'v1');

    // Act
    const moved = await movePendingManifest(stack.s3, stack.env.MANIFEST_BUCKET!, key, { etag }, `done/job-1/${key.slice(8)}`, 's3://reports/job-1/summary.json');

    // Assess
    expect(moved).toEqual({ moved: true, to: `s3://${stack.env.MANIFEST_BUCKET}/done/job-1/${key.slice(8)}` });
    expect(await read(key)).toBeUndefined();
    expect(await read(`done/job-1/${key.slice(8)}`)).toBe('v1');
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: `done/job-1/${key.slice(8)}` }));
    expect(head.Metadata?.report).toBe('s3://reports/job-1/summary.json');
  });

  it('moves nothing and deletes nothing when a newer version replaced the one that ran', async () => {
    // Prepare
    const key = `pending/move-${randomUUID().slice(0, 8)}/replaced.txt`;
    const old = await put(key, 'v1');
    await put(key, 'v2');

    // Act
    const moved = await movePendingManifest(stack.s3, stack.env.MANIFEST_BUCKET!, key, { etag: old }, 'done/job-1/replaced.txt', 's3://reports/job-1/summary.json');

    // Assess
    expect(moved).toEqual({ moved: false });
    expect(await read(key)).toBe('v2');
    expect(await read('done/job-1/replaced.txt')).toBeUndefined();
  });

  it('moves nothing when the version is gone', async () => {
    // Act
    const moved = await movePendingManifest(stack.s3, stack.env.MANIFEST_BUCKET!, `pending/never-${randomUUID().slice(0, 8)}.txt`, { etag: '"0"' }, 'done/job-2/never.txt', 's3://r');

    // Assess
    expect(moved).toEqual({ moved: false });
  });
});
