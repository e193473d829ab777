import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand, type CompletedPart, type S3Client } from '@aws-sdk/client-s3';

/** The size of every part but the last: the least S3 takes (5 MiB), so a writer holds at most that. */
const PART_BYTES = 5 * 1024 * 1024;
// The buffer starts small and doubles up to PART_BYTES: a small object (a job with few failures)
// costs what it holds, not 5 MiB.
const FIRST_BUFFER_BYTES = 64 * 1024;

/** How {@link S3TextWriter} stores the object. */
export interface S3TextWriterOptions {
  /** `Content-Encoding` of the object (e.g. `gzip` when the bytes written are gzip). */
  contentEncoding?: string;
}

/**
 * An object written to S3 as a stream, never whole in memory, in one buffer of at most 5 MiB that is
 * reused for every part: bytes (or text, as UTF-8) are copied into it; a full buffer is sent as one
 * part of a multipart upload, and writing waits until S3 has it (back-pressure: one part in flight).
 * An object that never fills the buffer is one `PutObject` at {@link close}.
 *
 * Instead of `@aws-sdk/lib-storage`'s `Upload`, which gathers a stream's chunks and concatenates
 * them per part: up to three parts' worth at once (the chunks, their concatenation, the part in
 * flight), and 5 MiB of garbage per part. The checksums are the ones it uses: CRC32 for every
 * part, declared when the upload is created, when the client computes checksums
 * (`requestChecksumCalculation`, `WHEN_SUPPORTED` by default).
 */
export class S3TextWriter {
  private buffer = Buffer.allocUnsafe(FIRST_BUFFER_BYTES);
  private length = 0;
  private uploadId: string | undefined;
  private readonly parts: CompletedPart[] = [];
  // No more writes: close() or abort() was called.
  private closed = false;
  private aborted = false;
  // The close's outcome, once close() was called: a second close gets the same.
  private closing: Promise<void> | undefined;
  private failure: Error | undefined;
  // The last operation begun (a write, the close); it never rejects. Each runs after the one before.
  private tail: Promise<void> = Promise.resolve();

  public constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly contentType: string,
    private readonly options: S3TextWriterOptions = {},
  ) {}

  /** Appends text, as UTF-8; resolves once it is held (after sending a part when the buffer filled). */
  public write(text: string): Promise<void> {
    return this.serially(async () => {
      const bytes = Buffer.byteLength(text);
      if (this.length + bytes <= this.room(bytes)) {
        this.length += this.buffer.write(text, this.length);
        return;
      }
      await this.append(Buffer.from(text));
    });
  }

  /** Appends bytes; resolves once they are held (after sending parts when the buffer filled). */
  public writeBytes(bytes: Uint8Array): Promise<void> {
    return this.serially(() => this.append(bytes));
  }

  private async append(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.byteLength) {
      const taken = Math.min(this.room(bytes.byteLength - offset) - this.length, bytes.byteLength - offset);
      this.buffer.set(bytes.subarray(offset, offset + taken), this.length);
      this.length += taken;
      offset += taken;
      if (this.length === PART_BYTES) await this.sendPart();
    }
  }

  private abortedError(what: string): Error {
    return new Error(`s3://${this.bucket}/${this.key}: ${what} after abort; the object is not stored`);
  }

  // Writes may be started before the last one resolved (two chunks settling at once): each runs
  // after the one before, so the parts hold the bytes in the order they were written.
  private serially(step: () => Promise<void>): Promise<void> {
    const run = this.tail.then(() => {
      if (this.failure !== undefined) throw this.failure;
      if (this.aborted) throw this.abortedError('written');
      if (this.closed) throw new Error(`s3://${this.bucket}/${this.key}: written after close`);
      return step();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Ends the object and waits until S3 holds it whole.
   *
   * Runs after the writes begun before it; a second close resolves or rejects as the first.
   *
   * @throws the S3 error when a part or the object could not be stored (a multipart upload begun is
   *   aborted), and an error when the writer was aborted: nothing is stored then.
   */
  public close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.aborted) return Promise.reject(this.abortedError('closed'));
    this.closed = true;
    const run = this.tail.then(() => this.finish());
    this.tail = run.catch(() => undefined);
    this.closing = run;
    return run;
  }

  private async finish(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    try {
      // An abort that came while earlier writes ran: nothing more is sent.
      if (this.aborted) throw this.abortedError('closed');
      if (this.uploadId === undefined) {
        await this.s3.send(new PutObjectCommand({ ...this.headers(), Body: this.buffer.subarray(0, this.length) }));
        return;
      }
      // The last part may be smaller than 5 MiB; none when the object is a whole number of parts.
      if (this.length > 0) await this.sendPart();
      if (this.aborted) throw this.abortedError('closed');
      await this.s3.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts } }));
      this.uploadId = undefined;
    } catch (error) {
      this.failure ??= asError(error);
      await this.abortUpload();
      throw error;
    } finally {
      this.release();
    }
  }

  /**
   * Gives up the object: later writes and a later close reject, and a multipart upload begun is
   * aborted (its parts are not kept, nor billed). It first waits for the operation in flight (a part
   * being sent, a close), so that no part lands after the abort; an object already stored by a
   * close that ended stays. Never throws.
   */
  public async abort(): Promise<void> {
    this.aborted = true;
    this.closed = true;
    await this.tail;
    await this.abortUpload();
    this.release();
  }

  // Aborts the multipart upload begun, if any; from within an operation (nothing else in flight) or after the last one.
  private async abortUpload(): Promise<void> {
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    if (uploadId === undefined) return;
    await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: uploadId })).catch(() => undefined);
  }

  // The buffer's size for `more` bytes to come: doubled (keeping what it holds) up to PART_BYTES.
  private room(more: number): number {
    const wanted = Math.min(PART_BYTES, this.length + more);
    if (wanted > this.buffer.byteLength) {
      let size = Math.max(FIRST_BUFFER_BYTES, this.buffer.byteLength);
      while (size < wanted) size *= 2;
      const grown = Buffer.allocUnsafe(Math.min(PART_BYTES, size));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    return this.buffer.byteLength;
  }

  // Sends the buffer as the next part and empties it; the buffer is reused once S3 answered. A
  // failure is kept (every later write and the close throw it) and the upload begun is aborted.
  private async sendPart(): Promise<void> {
    try {
      if (this.aborted) throw this.abortedError('written');
      if (this.uploadId === undefined) {
        const checksums = (await this.s3.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
        const created = await this.s3.send(new CreateMultipartUploadCommand({ ...this.headers(), ...(checksums ? { ChecksumAlgorithm: 'CRC32' } : {}) }));
        if (created.UploadId === undefined) throw new Error(`s3://${this.bucket}/${this.key}: CreateMultipartUpload answered no UploadId`);
        this.uploadId = created.UploadId;
        // Aborted while the upload was being created: abort() aborts it once this ends.
        if (this.aborted) throw this.abortedError('written');
      }
      const partNumber = this.parts.length + 1;
      const answer = await this.s3.send(new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: partNumber, Body: this.buffer.subarray(0, this.length) }));
      if (answer.ETag === undefined) throw new Error(`s3://${this.bucket}/${this.key}: part ${partNumber} answered no ETag`);
      if (this.aborted) throw this.abortedError('written');
      this.parts.push({ PartNumber: partNumber, ETag: answer.ETag, ...(answer.ChecksumCRC32 === undefined ? {} : { ChecksumCRC32: answer.ChecksumCRC32 }) });
      this.length = 0;
    } catch (error) {
      // An abort's own error is no S3 failure: abort() ends the upload once this operation ended.
      if (this.aborted) throw error;
      this.failure ??= asError(error);
      await this.abortUpload();
      throw error;
    }
  }

  private headers(): { Bucket: string; Key: string; ContentType: string; ContentEncoding?: string } {
    return { Bucket: this.bucket, Key: this.key, ContentType: this.contentType, ...(this.options.contentEncoding === undefined ? {} : { ContentEncoding: this.options.contentEncoding }) };
  }

  // Once the object is stored or given up, the buffer goes (a closed writer holds nothing).
  private release(): void {
    this.buffer = Buffer.alloc(0);
    this.length = 0;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
