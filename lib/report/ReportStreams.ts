import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { stringify } from 'csv-stringify/sync';
import { once } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import type { CleanupTarget } from '../modelarts/CleanupTarget.js';
import { spreadsheetSafeCell } from '../manifest/spreadsheetSafeCell.js';
import { ReportWriteError } from '../core/errors.js';
import type { OutcomeRecord } from '../pipeline/outcome.js';

/**
 * Columns of `failed.csv`: a valid CSV manifest for a re-run (`image_id` plus the target's columns).
 * A cell a spreadsheet would run as a formula gets a leading `'` (lib/manifest/spreadsheetSafeCell.ts),
 * which the CSV manifest reader removes again, so a re-run reads the entries that failed.
 */
export const FAILED_CSV_COLUMNS = ['image_id', 'outcome', 'error_code', 'error_message', 'line', 'project_id', 'data_annotation_id', 'dataset_id'] as const;

const FLUSH_CHARS = 256 * 1024;
const FLUSH_ROWS = 2_000;

/** Where the streamed report files go. */
export interface ReportStreamsLocation {
  bucket: string;
  failedKey: string;
  resultsKey: string;
}

/**
 * The report files that grow with the job, streamed to S3 as the job runs (multipart uploads via
 * `@aws-sdk/lib-storage`), never built in memory: `failed.csv` (failed and invalid entries only)
 * and `results.jsonl.gz` (every distinct entry with its outcome; repeats are only counted). Writing waits while a stream is full
 * (back-pressure), so a fast job cannot outrun S3 and pile records up in memory.
 */
export class ReportStreams {
  private readonly failedCsv: PassThrough;
  private readonly results: Gzip;
  // Lines are gathered and handed to the streams in blocks: one zlib or stream call per record
  // would cost more than everything else the pipeline does per ID.
  private resultsBuffer = '';
  private failedRows: string[][] = [];
  private readonly uploads: Array<Promise<unknown>>;
  private failure: ReportWriteError | undefined;

  public constructor(s3: S3Client, private readonly location: ReportStreamsLocation, private readonly target: CleanupTarget) {
    this.failedCsv = new PassThrough();
    this.failedCsv.write(stringify([[...FAILED_CSV_COLUMNS]]));
    this.results = createGzip();
    this.uploads = [
      this.upload(s3, location.failedKey, this.failedCsv, 'text/csv; charset=utf-8', undefined),
      this.upload(s3, location.resultsKey, this.results, 'application/x-ndjson', 'gzip'),
    ];
  }

  /** Appends entries' outcomes; resolves once the streams can take more. */
  public async write(records: readonly OutcomeRecord[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    for (const record of records) {
      // One line per distinct entry: a repeat is counted in the summary, its ID has its line already.
      if (record.outcome !== 'duplicate') {
        const line = { image_id: record.imageId, outcome: record.outcome, line: record.position, ...(record.errorCode === undefined ? {} : { error_code: record.errorCode, error_message: record.errorMessage ?? '' }) };
        this.resultsBuffer += `${JSON.stringify(line)}\n`;
      }
      if (record.outcome === 'failed' || record.outcome === 'invalid') {
        // Entries and service messages are anyone's text: none may land in a spreadsheet as a formula.
        this.failedRows.push([
          spreadsheetSafeCell(record.imageId),
          record.outcome,
          spreadsheetSafeCell(record.errorCode ?? ''),
          spreadsheetSafeCell(record.errorMessage ?? ''),
          String(record.position),
          // Target IDs may start with "-" too.
          spreadsheetSafeCell(this.target.projectId),
          spreadsheetSafeCell(this.target.api === 'v1' ? this.target.dataAnnotationId : ''),
          spreadsheetSafeCell(this.target.api === 'v2' ? this.target.datasetId : ''),
        ]);
      }
    }
    if (this.resultsBuffer.length >= FLUSH_CHARS || this.failedRows.length >= FLUSH_ROWS) await this.flush();
  }

  private async flush(): Promise<void> {
    const writes: Array<Promise<void>> = [];
    if (this.resultsBuffer !== '') {
      if (!this.results.write(this.resultsBuffer)) writes.push(this.drained(this.results));
      this.resultsBuffer = '';
    }
    if (this.failedRows.length > 0) {
      if (!this.failedCsv.write(stringify(this.failedRows))) writes.push(this.drained(this.failedCsv));
      this.failedRows = [];
    }
    await Promise.all(writes);
  }

  /**
   * Ends both files and waits until S3 holds them whole.
   *
   * @throws {ReportWriteError} when either upload failed.
   */
  public async close(): Promise<void> {
    await this.flush();
    this.failedCsv.end();
    this.results.end();
    await Promise.all(this.uploads);
    if (this.failure !== undefined) throw this.failure;
  }

  private upload(s3: S3Client, key: string, body: Writable & NodeJS.ReadableStream, contentType: string, contentEncoding: string | undefined): Promise<unknown> {
    const pass = new PassThrough();
    body.pipe(pass);
    const upload = new Upload({
      client: s3,
      params: { Bucket: this.location.bucket, Key: key, Body: pass, ContentType: contentType, ...(contentEncoding ? { ContentEncoding: contentEncoding } : {}) },
      // 5 MiB parts (the least S3 takes), one in flight: about 5 MiB of buffers per file, whatever the job's size.
      partSize: 5 * 1024 * 1024,
      queueSize: 1,
    });
    return upload.done().catch((error: unknown) => {
      this.failure ??= new ReportWriteError(`s3://${this.location.bucket}/${key}`, error);
      // Unblock writers waiting for a drain that will never come.
      body.emit('drain');
    });
  }

  // One wait per full stream, shared by every writer waiting on it (one listener, not one each).
  private readonly drains = new Map<Writable, Promise<void>>();

  private async drained(stream: Writable): Promise<void> {
    let drain = this.drains.get(stream);
    if (drain === undefined) {
      drain = once(stream, 'drain').then(() => undefined);
      this.drains.set(stream, drain);
      void drain.finally(() => this.drains.delete(stream)).catch(() => undefined);
    }
    await drain;
    if (this.failure !== undefined) throw this.failure;
  }
}
