import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';

const FLUSH_CHARS = 256 * 1024;

/**
 * A text object written to S3 as a stream (multipart upload via `@aws-sdk/lib-storage`), never
 * whole in memory: lines are gathered in blocks of ~256 KiB, and writing waits while the upload is
 * behind (back-pressure). Used for the part manifests of a split job.
 */
export class S3TextWriter {
  private readonly body = new PassThrough();
  private readonly done: Promise<unknown>;
  private buffer = '';
  private failure: Error | undefined;

  public constructor(s3: S3Client, bucket: string, key: string, contentType: string) {
    const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: this.body, ContentType: contentType }, partSize: 5 * 1024 * 1024, queueSize: 2 });
    this.done = upload.done().catch((error: unknown) => {
      this.failure ??= error instanceof Error ? error : new Error(String(error));
      // Unblock a writer waiting for a drain that will never come.
      this.body.emit('drain');
    });
  }

  /** Appends text; resolves once the stream can take more. */
  public async write(text: string): Promise<void> {
    this.buffer += text;
    if (this.buffer.length >= FLUSH_CHARS) await this.flush();
  }

  /**
   * Ends the object and waits until S3 holds it whole.
   *
   * @throws the upload's error when it failed.
   */
  public async close(): Promise<void> {
    await this.flush();
    this.body.end();
    await this.done;
    this.throwIfFailed();
  }

  private async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.buffer === '') return;
    const full = !this.body.write(this.buffer);
    this.buffer = '';
    if (full) await once(this.body, 'drain');
    this.throwIfFailed();
  }

  // A method, not an inline check: the upload fails asynchronously, between two awaits.
  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
