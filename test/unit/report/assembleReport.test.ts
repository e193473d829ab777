import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isS3NotFound } from '../../../lib/aws/isS3NotFound.js';
import { listKeys } from '../../../lib/aws/listKeys.js';
import { assembleReport, concatenateReports, deletePartFiles, partKeys } from '../../../lib/report/assembleReport.js';
import { reportLocation, type ReportLocation } from '../../../lib/report/ReportLocation.js';
import { useLocalStack } from '../../support/useLocalStack.js';

// Assembly of report part files against the local S3 (fauxqs): real objects, copied and streamed.
const stack = useLocalStack();
const HEADER = 'image_id,outcome,error_code,error_message,line,project_id,data_annotation_id,dataset_id\n';

const location = (jobId: string, prefix = 'reports/'): ReportLocation => reportLocation(stack.env.REPORT_BUCKET!, prefix, jobId);

async function put(key: string, body: string | Buffer): Promise<void> {
  // Multipart, as the report streams write (the local S3 caps single PUT bodies).
  await new Upload({ client: stack.s3, params: { Bucket: stack.env.REPORT_BUCKET, Key: key, Body: body } }).done();
}

async function bytes(key: string): Promise<Buffer> {
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of listKeys(stack.s3, stack.env.REPORT_BUCKET!, prefix)) keys.push(key);
  return keys.sort();
}

async function exists(key: string): Promise<boolean> {
  try {
    await stack.s3.send(new HeadObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: key }));
    return true;
  } catch (error) {
    if (isS3NotFound(error)) return false;
    throw error;
  }
}

// One invocation's part files: CSV rows (after the header) and result lines (one gzip member).
interface Part {
  rows: string[];
  results: string[];
}

function part(label: string, failed: number, results: number): Part {
  return {
    rows: Array.from({ length: failed }, (_, i) => `${label}${i},failed,ModelArts.0104,"bad, ""quoted""",${i + 1},p,282,\n`),
    results: Array.from({ length: results }, (_, i) => `${JSON.stringify({ image_id: `${label}${i}`, outcome: 'deleted', line: i + 1 })}\n`),
  };
}

async function writeParts(at: ReportLocation, parts: readonly Part[]): Promise<void> {
  for (const [index, { rows, results }] of parts.entries()) {
    const keys = partKeys(at, index + 1);
    await put(keys.failedKey, HEADER + rows.join(''));
    await put(keys.resultsKey, gzipSync(results.join('')));
  }
}

describe('partKeys', () => {
  it('puts each invocation in its own folder under the parts prefix', () => {
    // Act
    const keys = partKeys(reportLocation('b', 'r/', 'job-1'), 3);

    // Assess
    expect(keys).toEqual({ failedKey: 'r/job-1/parts/3/failed.csv', resultsKey: 'r/job-1/parts/3/results.jsonl.gz' });
  });
});

describe('assembleReport', () => {
  it('copies a single part as it is, and leaves the part in place', async () => {
    // Prepare
    const at = location('single');
    const only = part('a', 3, 5);
    await writeParts(at, [only]);
    const [failedPart, resultsPart] = [await bytes(partKeys(at, 1).failedKey), await bytes(partKeys(at, 1).resultsKey)];

    // Act
    await assembleReport(stack.s3, at, 1);

    // Assess
    expect(await bytes(at.failedKey)).toEqual(failedPart);
    expect(await bytes(at.resultsKey)).toEqual(resultsPart);
    expect(gunzipSync(await bytes(at.resultsKey)).toString('utf8')).toBe(only.results.join(''));
    expect(await exists(partKeys(at, 1).failedKey)).toBe(true);
  });

  it('copies a single part whose key needs encoding (spaces, "+")', async () => {
    // Prepare
    const at = location('encoded', 'reports/a b+c/');
    await writeParts(at, [part('e', 1, 1)]);

    // Act
    await assembleReport(stack.s3, at, 1);

    // Assess
    expect((await bytes(at.failedKey)).toString('utf8')).toBe(HEADER + part('e', 1, 1).rows.join(''));
  });

  it('concatenates several parts in order: the CSV header once, the gzip members into one valid gzip', async () => {
    // Prepare: the middle invocation failed nothing (a header-only part).
    const at = location('several');
    const parts = [part('a', 2, 4), part('b', 0, 3), part('c', 3, 1)];
    await writeParts(at, parts);

    // Act
    await assembleReport(stack.s3, at, 3);

    // Assess
    const failed = (await bytes(at.failedKey)).toString('utf8');
    expect(failed).toBe(HEADER + parts.flatMap((p) => p.rows).join(''));
    expect(failed.split(HEADER)).toHaveLength(2);
    expect(gunzipSync(await bytes(at.resultsKey)).toString('utf8')).toBe(parts.flatMap((p) => p.results).join(''));
    const [csvHead, resultsHead] = await Promise.all([at.failedKey, at.resultsKey].map((key) => stack.s3.send(new HeadObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: key }))));
    expect(csvHead!.ContentType).toBe('text/csv; charset=utf-8');
    expect(resultsHead!.ContentType).toBe('application/x-ndjson');
    for (let invocation = 1; invocation <= 3; invocation += 1) expect(await exists(partKeys(at, invocation).resultsKey)).toBe(true);
  });

  it('streams parts larger than one upload part (multipart) into the same bytes', async () => {
    // Prepare: poorly compressible results, about 3 MiB compressed per part, so the whole is over the 5 MiB part size.
    const at = location('large');
    const lines = (label: string) => Array.from({ length: 60_000 }, (_, i) => `${JSON.stringify({ image_id: randomBytes(16).toString('hex'), outcome: 'deleted', line: i + 1, note: randomBytes(24).toString('base64'), label })}\n`).join('');
    const [first, second] = [lines('one'), lines('two')];
    await put(partKeys(at, 1).resultsKey, gzipSync(first));
    await put(partKeys(at, 2).resultsKey, gzipSync(second));
    await put(partKeys(at, 1).failedKey, HEADER);
    await put(partKeys(at, 2).failedKey, HEADER);

    // Act
    await assembleReport(stack.s3, at, 2);

    // Assess
    const assembled = await bytes(at.resultsKey);
    expect(assembled.length).toBeGreaterThan(5 * 1024 * 1024);
    expect(gunzipSync(assembled).toString('utf8')).toBe(first + second);
    expect((await bytes(at.failedKey)).toString('utf8')).toBe(HEADER);
  });

  it('fails when a part is missing, and writes no report file', async () => {
    // Prepare: invocation 2 left no parts.
    const at = location('missing-part');
    await writeParts(at, [part('a', 1, 1)]);

    // Act
    const assembling = assembleReport(stack.s3, at, 2);

    // Assess
    await expect(assembling).rejects.toSatisfy(isS3NotFound);
    expect(await exists(at.failedKey)).toBe(false);
    expect(await exists(at.resultsKey)).toBe(false);
  });
});

describe('deletePartFiles', () => {
  it("deletes every invocation's parts and nothing else of the job", async () => {
    // Prepare
    const at = location('cleanup');
    await writeParts(at, [part('a', 1, 1), part('b', 1, 1), part('c', 1, 1)]);
    await assembleReport(stack.s3, at, 3);
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: at.summaryKey, Body: '{}' }));

    // Act
    await deletePartFiles(stack.s3, at, 3);

    // Assess
    expect(await keysUnder(at.partsPrefix)).toEqual([]);
    expect(await keysUnder(at.prefix)).toEqual([at.failedKey, at.resultsKey, at.summaryKey].sort());
  });
});

describe('concatenateReports', () => {
  it('streams the given report files, in the order given, into the job report', async () => {
    // Prepare: two other jobs' reports stand for the parts of a split job, named out of order.
    const [x, y, job] = [location('split-x'), location('split-y'), location('split-job')];
    const [px, py] = [part('x', 2, 2), part('y', 1, 3)];
    await writeParts(x, [px]);
    await writeParts(y, [py]);
    await assembleReport(stack.s3, x, 1);
    await assembleReport(stack.s3, y, 1);

    // Act
    await concatenateReports(stack.s3, job, [
      { failedKey: y.failedKey, resultsKey: y.resultsKey },
      { failedKey: x.failedKey, resultsKey: x.resultsKey },
    ]);

    // Assess
    expect((await bytes(job.failedKey)).toString('utf8')).toBe(HEADER + py.rows.join('') + px.rows.join(''));
    expect(gunzipSync(await bytes(job.resultsKey)).toString('utf8')).toBe(py.results.join('') + px.results.join(''));
    expect(await exists(x.failedKey)).toBe(true);
  });

  it('keeps a single given part as it is (streamed, not copied)', async () => {
    // Prepare
    const [x, job] = [location('one-x'), location('one-job')];
    const px = part('x', 2, 2);
    await writeParts(x, [px]);

    // Act
    await concatenateReports(stack.s3, job, [partKeys(x, 1)]);

    // Assess
    expect((await bytes(job.failedKey)).toString('utf8')).toBe(HEADER + px.rows.join(''));
    expect(gunzipSync(await bytes(job.resultsKey)).toString('utf8')).toBe(px.results.join(''));
  });
});
