import type { S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'csv-stringify/sync';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, type Gzip } from 'node:zlib';
import { S3TextWriter } from '../aws/S3TextWriter.js';
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

// Under V8's 128 KiB large-object size: a block is a young string that a scavenge frees, not a
// large object kept until the next full collection (at 256 KiB, 94 MB of results text piled up there).
const FLUSH_CHARS = 64 * 1024;
// A results block's bytes: FLUSH_CHARS and a batch of records more, in UTF-8.
const BLOCK_BYTES = 3 * 2 * FLUSH_CHARS;
const FLUSH_ROWS = 2_000;

/** Where the streamed report files go. */
export interface ReportStreamsLocation {
  bucket: string;
  failedKey: string;
  resultsKey: string;
}

/**
 * The report files that grow with the job, streamed to S3 as the job runs (multipart uploads,
 * lib/aws/S3TextWriter.ts: one buffer of at most 5 MiB per file), never built in memory:
 * `failed.csv` (failed and invalid entries only) and `results.jsonl.gz` (every distinct entry with
 * its outcome; repeats are only counted). Writing waits while a file's part is being sent
 * (back-pressure), so a fast job cannot outrun S3 and pile records up in memory.
 */
export class ReportStreams {
  private readonly failedCsv: S3TextWriter;
  private readonly resultsFile: S3TextWriter;
  private readonly results: Gzip;
  // Lines are gathered and handed on in blocks: one zlib or stream call per record would cost more
  // than everything else the pipeline does per ID.
  private resultsBuffer = '';
  private failedText = stringify([[...FAILED_CSV_COLUMNS]]);
  private failedRows: string[][] = [];
  // The gzip stream's output, taken by the results file as it comes.
  private readonly compressed: Promise<void>;
  // Results text is encoded into two reused blocks, one being compressed while the other is filled:
  // a new Buffer per block (what writing a string to the gzip stream makes) lives until zlib's
  // thread is done with it, long enough to reach V8's old generation, where 94 MB of them for a
  // million lines waited for a full collection outside the heap.
  private readonly blocks = [Buffer.allocUnsafe(BLOCK_BYTES), Buffer.allocUnsafe(BLOCK_BYTES)];
  private readonly blockFree: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
  private nextBlock = 0;
  // Blocks go to zlib in the order they were flushed.
  private resultsTail: Promise<void> = Promise.resolve();
  private failure: ReportWriteError | undefined;

  public constructor(s3: S3Client, private readonly location: ReportStreamsLocation, private readonly target: CleanupTarget) {
    this.failedCsv = new S3TextWriter(s3, location.bucket, location.failedKey, 'text/csv; charset=utf-8');
    this.resultsFile = new S3TextWriter(s3, location.bucket, location.resultsKey, 'application/x-ndjson', { contentEncoding: 'gzip' });
    // Level 1: results lines are mostly random hex IDs, which no level compresses much (a million
    // lines: 1.2% larger than at the default 6) while it costs a third less CPU. zlib's memory is
    // the same at every level: about 270 KiB (15-bit window, memLevel 8).
    this.results = createGzip({ level: 1 });
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.resultsFile.writeBytes(chunk).then(() => done(), (error: unknown) => done(this.failed(location.resultsKey, error)));
      },
    });
    this.compressed = pipeline(this.results, sink).catch((error: unknown) => {
      this.failed(location.resultsKey, error);
    });
  }

  /** Appends entries' outcomes; resolves once the files can take more. */
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
      const text = this.resultsBuffer;
      this.resultsBuffer = '';
      this.resultsTail = this.resultsTail.then(() => this.compress(text));
      writes.push(this.resultsTail);
    }
    if (this.failedRows.length > 0) {
      this.failedText += stringify(this.failedRows);
      this.failedRows = [];
    }
    if (this.failedText !== '') {
      const text = this.failedText;
      this.failedText = '';
      writes.push(this.failedCsv.write(text).catch((error: unknown) => {
        throw this.failed(this.location.failedKey, error);
      }));
    }
    await Promise.all(writes);
  }

  /**
   * Ends both files and waits until S3 holds them whole.
   *
   * @throws {ReportWriteError} when either could not be stored (a multipart upload begun is aborted).
   */
  public async close(): Promise<void> {
    if (this.failure === undefined) await this.flush().catch(() => undefined);
    await Promise.all(this.blockFree);
    this.results.end();
    await this.compressed;
    if (this.failure === undefined) {
      await Promise.all([
        this.failedCsv.close().catch((error: unknown) => this.failed(this.location.failedKey, error)),
        this.resultsFile.close().catch((error: unknown) => this.failed(this.location.resultsKey, error)),
      ]);
    }
    if (this.failure !== undefined) {
      await Promise.all([this.failedCsv.abort(), this.resultsFile.abort()]);
      throw this.failure;
    }
  }

  // The first failure is the one reported; every later write throws it.
  private failed(key: string, error: unknown): ReportWriteError {
    this.failure ??= error instanceof ReportWriteError ? error : new ReportWriteError(`s3://${this.location.bucket}/${key}`, error);
    return this.failure;
  }

  // Hands `text` to zlib in the next free block; resolves once it is handed over (at most two
  // blocks wait for zlib, which waits for S3: back-pressure).
  private async compress(text: string): Promise<void> {
    const index = this.nextBlock;
    this.nextBlock = 1 - index;
    await this.blockFree[index];
    if (this.failure !== undefined) throw this.failure;
    const block = this.blocks[index]!;
    // A block holds FLUSH_CHARS of any text (3 UTF-8 bytes at most per UTF-16 unit); a longer batch gets a Buffer of its own.
    const bytes = Buffer.byteLength(text) <= block.byteLength ? block.subarray(0, block.write(text)) : Buffer.from(text);
    this.blockFree[index] = new Promise((resolve) => {
      this.results.write(bytes, (error) => {
        if (error) this.failed(this.location.resultsKey, error);
        resolve();
      });
    });
  }
}
