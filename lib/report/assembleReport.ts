import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { once } from 'node:events';
import type { ReportLocation } from './ReportLocation.js';

/** The part files one invocation of a job writes, before the job's report is assembled. */
export function partKeys(location: ReportLocation, invocation: number): { failedKey: string; resultsKey: string } {
  return { failedKey: `${location.partsPrefix}${invocation}/failed.csv`, resultsKey: `${location.partsPrefix}${invocation}/results.jsonl.gz` };
}

/**
 * Assembles a job's `failed.csv` and `results.jsonl.gz` from the parts its invocations wrote,
 * streaming (never whole in memory): gzip members concatenate into one valid gzip file, and CSV
 * parts after the first lose their header line. One part is simply copied. The parts stay (see
 * {@link deletePartFiles}).
 */
export async function assembleReport(s3: S3Client, location: ReportLocation, invocations: number): Promise<void> {
  const parts = Array.from({ length: invocations }, (_, i) => partKeys(location, i + 1));
  if (parts.length === 1) {
    const [only] = parts as [{ failedKey: string; resultsKey: string }];
    await copy(s3, location.bucket, only.failedKey, location.failedKey);
    await copy(s3, location.bucket, only.resultsKey, location.resultsKey);
  } else {
    await concatenate(s3, location.bucket, parts.map((part) => part.failedKey), location.failedKey, 'text/csv; charset=utf-8', true);
    await concatenate(s3, location.bucket, parts.map((part) => part.resultsKey), location.resultsKey, 'application/x-ndjson', false);
  }
}

/**
 * Deletes the part files of a job's invocations. Only once `summary.json` is written: until then a
 * re-run must be able to assemble the report again from them.
 */
export async function deletePartFiles(s3: S3Client, location: ReportLocation, invocations: number): Promise<void> {
  const parts = Array.from({ length: invocations }, (_, i) => partKeys(location, i + 1));
  await s3.send(new DeleteObjectsCommand({ Bucket: location.bucket, Delete: { Objects: parts.flatMap((part) => [{ Key: part.failedKey }, { Key: part.resultsKey }]) } }));
}

/**
 * Concatenates given report files (each a `failed.csv` and a `results.jsonl.gz`, in order) into a
 * job's own, streamed as {@link assembleReport} does; the parts of a split job. Deletes nothing.
 */
export async function concatenateReports(s3: S3Client, location: ReportLocation, parts: ReadonlyArray<{ failedKey: string; resultsKey: string }>): Promise<void> {
  await concatenate(s3, location.bucket, parts.map((part) => part.failedKey), location.failedKey, 'text/csv; charset=utf-8', true);
  await concatenate(s3, location.bucket, parts.map((part) => part.resultsKey), location.resultsKey, 'application/x-ndjson', false);
}

async function copy(s3: S3Client, bucket: string, from: string, to: string): Promise<void> {
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}` }));
}

async function concatenate(s3: S3Client, bucket: string, keys: readonly string[], to: string, contentType: string, dropLaterHeaders: boolean): Promise<void> {
  const body = new PassThrough();
  const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: to, Body: body, ContentType: contentType, ...(contentType.includes('ndjson') ? { ContentEncoding: 'gzip' } : {}) }, queueSize: 2 });
  // A failed upload stops the writes below (a destroyed stream rejects the drain wait).
  const done = upload.done().catch((error: unknown) => {
    body.destroy(error as Error);
    throw error;
  });
  try {
    for (const [index, key] of keys.entries()) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const source = object.Body as Readable;
      const chunks: AsyncIterable<Buffer> = dropLaterHeaders && index > 0 ? source.pipe(dropFirstLine()) : source;
      for await (const chunk of chunks) {
        if (!body.write(chunk)) await once(body, 'drain');
      }
    }
    body.end();
  } catch (error) {
    body.destroy(error as Error);
    await done.catch(() => undefined);
    throw error;
  }
  await done;
}

function dropFirstLine(): Transform {
  let dropping = true;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!dropping) return callback(null, chunk);
      const newline = chunk.indexOf(0x0a);
      if (newline === -1) return callback();
      dropping = false;
      callback(null, chunk.subarray(newline + 1));
    },
  });
}
