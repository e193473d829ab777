import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

// Segment PUTs in flight at once: each holds one slot's block of the window (at 500 parts ~130 KiB).
const PUT_CONCURRENCY = 16;

/**
 * PUTs one planning window's segments (lib/scaleout/PlanWindow.ts), {@link PUT_CONCURRENCY} at a
 * time; each block is built only when a PUT is free, so at most that many blocks are held.
 *
 * @throws the first PUT's error, once the PUTs in flight have ended.
 */
export async function putSegments(s3: S3Client, bucket: string, segments: Iterable<{ slot: number; bytes: Buffer }>, keyOf: (slot: number) => string): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: Error | undefined;
  for (const { slot, bytes } of segments) {
    if (failure !== undefined) break;
    const put = s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(slot), Body: bytes, ContentType: 'application/x-ndjson' })).then(
      () => undefined,
      (error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    const tracked: Promise<void> = put.finally(() => running.delete(tracked));
    running.add(tracked);
    if (running.size >= PUT_CONCURRENCY) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
}
