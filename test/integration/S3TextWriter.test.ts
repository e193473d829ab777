import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
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

// Whether the report bucket holds `key`.
async function stored(key: string): Promise<boolean> {
  try {
    await stack.s3.send(new HeadObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function openUploads(prefix: string): Promise<number> {
  const uploads = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: stack.env.REPORT_BUCKET, Prefix: prefix }));
  return (uploads.Uploads ?? []).length;
}

/**
 * The local stack's S3 client with every command logged when it is sent and when it is answered,
 * and UploadPart held until `releasePart` is called: a test can act while a part is in flight.
 */
function heldPartClient(): { s3: S3Client; log: string[]; partSent: Promise<void>; releasePart: () => void } {
  const log: string[] = [];
  let partSent!: () => void;
  const sent = new Promise<void>((resolve) => {
    partSent = resolve;
  });
  let releasePart!: () => void;
  const released = new Promise<void>((resolve) => {
    releasePart = resolve;
  });
  const s3 = {
    config: stack.s3.config,
    send: async (command: { constructor: { name: string } }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      log.push(`${name} sent`);
      if (name === 'UploadPart') {
        partSent();
        await released;
      }
      try {
        return await stack.s3.send(command as Parameters<S3Client['send']>[0]);
      } finally {
        log.push(`${name} answered`);
      }
    },
  } as unknown as S3Client;
  return { s3, log, partSent: sent, releasePart };
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

  it('rejects a close after abort, and stores nothing: neither a small object nor a multipart one', async () => {
    // Prepare: one writer under the part size (PutObject at close), one past it (a multipart upload begun)
    const small = new S3TextWriter(stack.s3, stack.env.REPORT_BUCKET!, 'writer/aborted-small.txt', 'text/plain');
    await small.write('never stored\n');
    const big = new S3TextWriter(stack.s3, stack.env.REPORT_BUCKET!, 'writer/aborted-big.bin', 'application/octet-stream');
    await big.writeBytes(bytes('d', 5 * MiB + 10));

    // Act
    await small.abort();
    await big.abort();

    // Assess
    await expect(small.close()).rejects.toThrow(/after abort/);
    await expect(big.close()).rejects.toThrow(/after abort/);
    await expect(small.write('late')).rejects.toThrow(/after abort/);
    expect(await stored('writer/aborted-small.txt')).toBe(false);
    expect(await stored('writer/aborted-big.bin')).toBe(false);
    expect(await openUploads('writer/aborted-')).toBe(0);
  });

  it('rejects a close begun after an abort that came while a write was running', async () => {
    // Prepare: a part in flight when abort is called
    const client = heldPartClient();
    const key = 'writer/aborted-while-writing.bin';
    const writer = new S3TextWriter(client.s3, stack.env.REPORT_BUCKET!, key, 'application/octet-stream');
    const write = writer.writeBytes(bytes('e', 5 * MiB + 10));
    const writeSettled = write.catch(() => undefined);
    await client.partSent;

    // Act
    const aborted = writer.abort();
    const closed = writer.close();
    const closeSettled = closed.catch(() => undefined);
    client.releasePart();
    await Promise.all([aborted, writeSettled, closeSettled]);

    // Assess
    await expect(closed).rejects.toThrow(/after abort/);
    expect(await stored(key)).toBe(false);
    expect(client.log.filter((entry) => entry.startsWith('PutObject') || entry.startsWith('CompleteMultipartUpload'))).toEqual([]);
  });

  it('waits for the part in flight before aborting the multipart upload, so that no part lands after the abort', async () => {
    // Prepare: the first part is sent and held
    const client = heldPartClient();
    const key = 'writer/aborted-in-flight.bin';
    const writer = new S3TextWriter(client.s3, stack.env.REPORT_BUCKET!, key, 'application/octet-stream');
    const write = writer.writeBytes(bytes('f', 5 * MiB));
    const writeSettled = write.catch(() => undefined);
    await client.partSent;

    // Act: abort while the part is in flight, then let the part through
    const aborted = writer.abort();
    client.releasePart();
    await aborted;
    await writeSettled;

    // Assess: the abort was sent only once the part was answered, and the upload is gone
    const partAnswered = client.log.indexOf('UploadPart answered');
    const abortSent = client.log.indexOf('AbortMultipartUpload sent');
    expect(partAnswered).toBeGreaterThanOrEqual(0);
    expect(abortSent).toBeGreaterThan(partAnswered);
    expect(await openUploads(key)).toBe(0);
    expect(await stored(key)).toBe(false);
    await expect(write).rejects.toThrow(/after abort/);
  });
});
