import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { S3TextWriter } from '../../lib/aws/S3TextWriter.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: PutObject and multipart uploads to the local S3 (fauxqs), read back.
const stack = useLocalStack();
const MiB = 1024 * 1024;

async function object(key: string): Promise<{ body: Buffer; contentType?: string; contentEncoding?: string }> {
  const answer = await stack.s3.send(new GetObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: key }));
  return { body: Buffer.from(await answer.Body!.transformToByteArray()), ...(answer.ContentType === undefined ? {} : { contentType: answer.ContentType }), ...(answer.ContentEncoding === undefined ? {} : { contentEncoding: answer.ContentEncoding }) };
}

// Bytes that do not repeat, so parts cannot be confused with one another.
function bytes(label: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let at = 0, i = 0; at < length; at += 32, i += 1) createHash('sha256').update(`${label}:${i}`).digest().copy(out, at);
  return out;
}

describe('S3TextWriter', () => {
  it('stores an object of several parts byte for byte, text and bytes in the order written, across part boundaries', async () => {
    // Prepare: 12 MiB and a bit (three parts), a multi-byte character straddling the first boundary
    const key = 'writer/multipart.bin';
    const first = bytes('a', 5 * MiB - 1);
    const straddling = 'é€😀 after the boundary\n';
    const rest = bytes('b', 7 * MiB + 12_345);
    const writer = new S3TextWriter(stack.s3, stack.env.REPORT_BUCKET!, key, 'application/octet-stream', { contentEncoding: 'identity' });

    // Act: writes started together run in order
    await Promise.all([writer.writeBytes(first), writer.write(straddling), writer.writeBytes(rest)]);
    await writer.close();

    // Assess
    const stored = await object(key);
    const expected = Buffer.concat([first, Buffer.from(straddling), rest]);
    expect(stored.body.length).toBe(expected.length);
    expect(stored.body.equals(expected)).toBe(true);
    expect(stored.contentType).toBe('application/octet-stream');
    expect(stored.contentEncoding).toBe('identity');
    const uploads = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: stack.env.REPORT_BUCKET, Prefix: 'writer/' }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('stores a small object with one PutObject, and an empty one', async () => {
    // Act
    const small = new S3TextWriter(stack.s3, stack.env.REPORT_BUCKET!, 'writer/small.txt', 'text/plain');
    for (let i = 0; i < 1000; i += 1) await small.write(`line ${i}\n`);
    await small.close();
    const empty = new S3TextWriter(stack.s3, stack.env.REPORT_BUCKET!, 'writer/empty.txt', 'text/plain');
    await empty.close();

    // Assess
    expect((await object('writer/small.txt')).body.toString('utf8')).toBe(Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join(''));
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: 'writer/empty.txt' }));
    expect(head.ContentLength).toBe(0);
  });

  it('fails every write after S3 refused a part, and close throws that error', async () => {
    // Prepare: a bucket that does not exist refuses the multipart upload
    const writer = new S3TextWriter(stack.s3, 'no-such-bucket-for-the-writer', 'writer/refused.bin', 'application/octet-stream');

    // Act
    const firstPart = writer.writeBytes(bytes('c', 5 * MiB));
    const later = writer.write('more');

    // Assess
    await expect(firstPart).rejects.toThrow();
    await expect(later).rejects.toThrow();
    await expect(writer.close()).rejects.toThrow();
  });

  it('refuses writes after close', async () => {
    const writer = new S3TextWriter(stack.s3, stack.env.REPORT_BUCKET!, 'writer/closed.txt', 'text/plain');
    await writer.close();
    await expect(writer.write('late')).rejects.toThrow(/written after close/);
  });
});
