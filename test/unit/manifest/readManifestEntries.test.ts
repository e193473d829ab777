import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../../lib/manifest/ManifestError.js';
import { manifestFormatOf } from '../../../lib/manifest/manifestFormat.js';
import { manifestReadLimits, type ManifestReadLimits } from '../../../lib/manifest/ManifestReadLimits.js';
import { readManifestEntries, type ManifestItem, type ReadManifestOptions } from '../../../lib/manifest/readManifestEntries.js';

const A = '0123456789abcdef0123456789abcdef';
const B = 'fedcba9876543210fedcba9876543210';
const C = '00000000000000000000000000000001';

async function read(key: string, content: string | Buffer, options = {}): Promise<ManifestItem[]> {
  const info = manifestFormatOf(key);
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  // Small chunks, so lines and characters are split across chunk boundaries as in a real stream.
  const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
  const items: ManifestItem[] = [];
  for await (const item of readManifestEntries(Readable.from(chunks), info, options)) items.push(item);
  return items;
}

const entries = (items: ManifestItem[]) => items.filter((item) => item.kind === 'entry').map((item) => (item.kind === 'entry' ? item.value : undefined));

async function failure(key: string, content: string | Buffer, options = {}): Promise<ManifestError> {
  try {
    await read(key, content, options);
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error('expected a ManifestError');
}

const samples: Record<string, string> = {
  'ids.txt': `${A}\n${B}\n${C}\n`,
  'ids.csv': `image_id\n${A}\n${B}\n${C}\n`,
  'ids.jsonl': `"${A}"\n{"image_id":"${B}"}\n{"imageId":"${C}"}\n`,
  'ids.json': JSON.stringify({ imageIds: [A, B, C] }),
};

describe('readManifestEntries', () => {
  it.each(Object.entries(samples))('reads %s and its .gz to the same IDs', async (key, content) => {
    // Act
    const plain = await read(key, content);
    const zipped = await read(`${key}.gz`, gzipSync(content));

    // Assess
    expect(entries(plain)).toEqual([A, B, C]);
    expect(zipped).toEqual(plain);
  });

  it('tolerates a BOM, CRLF, blank lines and surrounding whitespace, keeping real line numbers', async () => {
    // Act
    const items = await read('ids.txt', `\uFEFF${A}\r\n\r\n   ${B}  \r\n\n\t${C}`);

    // Assess
    expect(items).toEqual([
      { kind: 'entry', line: 1, value: A },
      { kind: 'entry', line: 3, value: B },
      { kind: 'entry', line: 5, value: C },
    ]);
  });

  it('reads a CSV with a BOM, CRLF, extra columns and target columns', async () => {
    // Act
    const items = await read('ids.csv', `\uFEFFproject_id,Image_ID,data_annotation_id,note\r\np1, ${A} ,282,"a, b"\r\n\r\np1,${B},282,x\r\n`);

    // Assess
    expect(entries(items)).toEqual([A, B]);
    expect(items[0]).toEqual({ kind: 'target', line: 2, target: { projectId: 'p1', dataAnnotationId: '282' } });
    expect(items.filter((i) => i.kind === 'entry').map((i) => i.line)).toEqual([2, 4]);
  });

  it('passes invalid IDs through with their line, for the pipeline to report', async () => {
    // Act
    const items = await read('ids.jsonl', `"${A}"\n42\n`.replace('42', '{"image_id": 42}'));

    // Assess
    expect(items).toEqual([
      { kind: 'entry', line: 1, value: A },
      { kind: 'entry', line: 2, value: 42 },
    ]);
  });

  it('fails on a broken last JSON line, naming the line', async () => {
    const error = await failure('ids.jsonl', `"${A}"\n"${B}"\n{"image_id": "${C}"`);
    expect(error.line).toBe(3);
    expect(error.message).toMatch(/line 3: not valid JSON/);
  });

  it('fails on a CSV without an image_id column', async () => {
    const error = await failure('ids.csv', `id,name\n${A},x\n`);
    expect(error.line).toBe(1);
    expect(error.message).toContain('image_id');
  });

  it('fails on a CSV row with the wrong number of columns, naming its line', async () => {
    const error = await failure('ids.csv', `image_id,note\n${A},x\n${B},y,z\n`);
    expect(error.line).toBe(3);
  });

  it('fails on bytes that are not UTF-8, naming the line', async () => {
    const error = await failure('ids.txt', Buffer.concat([Buffer.from(`${A}\n${B}\n`), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n')]));
    expect(error.line).toBe(3);
    expect(error.message).toContain('UTF-8');
  });

  it('fails on truncated gzip', async () => {
    const zipped = gzipSync(`${A}\n${B}\n${C}\n`.repeat(50));
    const error = await failure('ids.txt.gz', zipped.subarray(0, zipped.length - 12));
    expect(error.message).toMatch(/gzip data is truncated or corrupt/);
  });

  it('fails on a JSON manifest over the cap, saying where and why', async () => {
    const error = await failure('ids.json', JSON.stringify({ imageIds: Array(100).fill(A) }), { maxJsonBytes: 1000 });
    expect(error.byte).toBe(1000);
    expect(error.message).toMatch(/at most 1000 bytes/);
  });

  it('fails on a JSON manifest without imageIds, or that is not JSON', async () => {
    expect((await failure('ids.json', '{"ids": []}')).message).toContain('imageIds');
    expect((await failure('ids.json', '{\n"imageIds": [\n"a",\n]\n}')).line).toBe(4);
  });

  it('tells formats by extension and refuses unknown ones', () => {
    expect(manifestFormatOf('a/b/list.CSV.gz')).toEqual({ format: 'csv', gzip: true });
    expect(manifestFormatOf('list.ndjson')).toEqual({ format: 'jsonl', gzip: false });
    expect(() => manifestFormatOf('list.xlsx')).toThrow(ManifestError);
    expect(() => manifestFormatOf('list')).toThrow(/unknown manifest extension/);
  });
});

describe('readManifestEntries on a header-only CSV', () => {
  it('refuses a header without image_id even when no rows follow', async () => {
    const error = await failure('ids.csv', 'id,name\n');
    expect(error.line).toBe(1);
  });

  it('accepts a header-only CSV with image_id as an empty list', async () => {
    expect(await read('ids.csv', 'image_id\n')).toEqual([]);
  });
});

// A gzip file may hold many members (RFC 1952 §2.2), each decompressed in turn: repeating one
// small member makes a bomb of any size in milliseconds, where deflating gigabytes would take a minute.
function gzipBomb(block: string, times: number): Buffer {
  return Buffer.concat(Array<Buffer>(times).fill(gzipSync(block)));
}

/**
 * A source that counts what the reader pulled from it, and stops with an error once it has given
 * more than `stopAfter` bytes: a reader that would read on and on fails fast instead of hanging.
 */
function countingSource(bytes: Buffer, stopAfter: number): { source: Readable; pulled: () => number } {
  let pulled = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += 64 * 1024) {
      if (pulled > stopAfter) throw new Error(`read ${pulled} bytes of the source: the reader does not stop`);
      const chunk = bytes.subarray(at, at + 64 * 1024);
      pulled += chunk.length;
      await Promise.resolve();
      yield chunk;
    }
  }
  return { source: Readable.from(chunks()), pulled: () => pulled };
}

async function refusal(key: string, source: Readable, options: ReadManifestOptions = {}): Promise<unknown> {
  try {
    for await (const item of readManifestEntries(source, manifestFormatOf(key), options)) void item;
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

const limits = (overrides: Partial<ManifestReadLimits> = {}): ManifestReadLimits => ({ ...manifestReadLimits(DEFAULTS, {}), ...overrides });
const DEFAULTS = { MAX_IDS_PER_JOB: 100_000, MANIFEST_MAX_LINE_BYTES: 8192, MANIFEST_MAX_COLUMNS: 256, MANIFEST_MAX_DEPTH: 16, MANIFEST_BYTES_PER_ENTRY: 1024 };

describe('readManifestEntries bounds', () => {
  it('refuses a gzip bomb of one 1 GiB line after reading little more than the longest line allowed', async () => {
    // Prepare: 1 GiB of "a" without a line end, about 1 MB compressed
    const bomb = gzipBomb('a'.repeat(1024 * 1024), 1024);
    const { source, pulled } = countingSource(bomb, 256 * 1024);

    // Act
    const error = await refusal('ids.txt.gz', source, { limits: limits() });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).line).toBe(1);
    expect((error as ManifestError).message).toContain('longer than 8192 bytes (MANIFEST_MAX_LINE_BYTES)');
    expect(pulled()).toBeLessThanOrEqual(128 * 1024);
  });

  it('refuses a gzip of 4 GiB of blank lines once it has more lines than its permitted entries could need', async () => {
    // Prepare: 4 GiB of "\n", about 4 MB compressed; the job may hold 1,000 entries
    const bomb = gzipBomb('\n'.repeat(1024 * 1024), 4096);
    const { source, pulled } = countingSource(bomb, 512 * 1024);

    // Act
    const error = await refusal('ids.txt.gz', source, { limits: manifestReadLimits({ ...DEFAULTS, MAX_IDS_PER_JOB: 1_000 }, {}) });

    // Assess: at most 2 lines per entry, blank lines included
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).line).toBe(2_002);
    expect((error as ManifestError).message).toMatch(/more than 2001 lines.*1000 entries/);
    // The stream reads a chunk or two ahead of the reader: 4 MB compressed, a few 64 KiB chunks pulled.
    expect(pulled()).toBeLessThanOrEqual(4 * 64 * 1024);
  });

  it('refuses more decompressed bytes than the permitted entries could need, and says how to allow more', async () => {
    // Prepare: 100 entries of 1 KiB each may hold 100 KiB (plus one longest line); these are 2 KiB lines
    const line = `${A}${' '.repeat(2000)}\n`;
    const { source } = countingSource(Buffer.from(line.repeat(200)), 1024 * 1024);

    // Act
    const error = await refusal('ids.txt', source, { limits: manifestReadLimits({ ...DEFAULTS, MAX_IDS_PER_JOB: 100 }, {}) });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).byte).toBe(100 * 1024 + 8192);
    expect((error as ManifestError).message).toMatch(/larger than 110592 bytes.*100 entries.*MANIFEST_BYTES_PER_ENTRY.*options\.confirmEntries/);
  });

  it('refuses a CSV header of 1,000,000 columns at its first line, without parsing a row', async () => {
    // Prepare
    const header = `image_id,${Array.from({ length: 999_999 }, (_, i) => `c${i}`).join(',')}\n`;
    const rows = `${A}${','.repeat(999_999)}\n`.repeat(2);
    const { source, pulled } = countingSource(Buffer.from(header + rows), 32 * 1024 * 1024);

    // Act
    const error = await refusal('ids.csv', source, { limits: limits() });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).line).toBe(1);
    expect(pulled()).toBeLessThanOrEqual(128 * 1024);
  });

  it('refuses a CSV header with more columns than MANIFEST_MAX_COLUMNS', async () => {
    // Act
    const error = await refusal('ids.csv', Readable.from([`image_id,${Array.from({ length: 300 }, (_, i) => `c${i}`).join(',')}\n${A}${','.repeat(300)}\n`]), { limits: limits() });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).line).toBe(1);
    expect((error as ManifestError).message).toContain('301 columns, more than 256 (MANIFEST_MAX_COLUMNS)');
  });

  it('refuses a CSV record that grows past the longest line allowed (an unclosed quote), without holding the rest of the file', async () => {
    // Prepare: the quote opened on line 2 is never closed; every line is short
    const body = `image_id,note\n${A},"never closed\n${'x,y\n'.repeat(100_000)}`;

    // Act
    const error = await refusal('ids.csv', Readable.from([body]), { limits: limits() });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).line).toBeLessThan(2_100);
    expect((error as ManifestError).message).toContain('a CSV record reaches past 8192 characters here (MANIFEST_MAX_LINE_BYTES): is a quote left open above?');
  });

  it('refuses a truncated .json of 200,000 "[" as a manifest error, not a stack overflow', async () => {
    // Act
    const error = await refusal('ids.json', Readable.from(['['.repeat(200_000)]), { limits: limits() });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).message).toContain('nested deeper than 16 levels (MANIFEST_MAX_DEPTH)');
  });

  it('refuses a .json whose entry is nested 10,000 deep, though it is valid JSON', async () => {
    // Act
    const error = await refusal('ids.json', Readable.from([`{"imageIds":["${A}",\n${'['.repeat(10_000)}${']'.repeat(10_000)}]}`]), { limits: limits() });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).line).toBe(2);
  });

  it('refuses a .jsonl line whose image_id is nested 10,000 deep, naming the line, however long lines may be', async () => {
    // Prepare
    const body = `"${A}"\n{"image_id":${'['.repeat(10_000)}"${B}"${']'.repeat(10_000)}}\n`;

    // Act
    const error = await refusal('ids.jsonl', Readable.from([body]), { limits: limits({ maxLineBytes: 1024 * 1024 }) });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).line).toBe(2);
    expect((error as ManifestError).message).toContain('nested deeper than 16 levels');
  });

  it('reads entries nested within the bound, for the pipeline to report as invalid', async () => {
    // Act
    const items = await read('ids.jsonl', `{"image_id":${'['.repeat(15)}"${B}"${']'.repeat(15)}}\n`, { limits: limits() });

    // Assess
    expect(entries(items)).toHaveLength(1);
  });

  it('stops at the deadline of the preparing pass, as the last resort', async () => {
    // Prepare: a clock that passes the deadline once more than one chunk (64 KiB) has been read
    const { source, pulled } = countingSource(Buffer.from(`${A}\n`.repeat(100_000)), 1024 * 1024);
    const now = () => (pulled() > 64 * 1024 ? 10_000 : 1_000);

    // Act
    const error = await refusal('ids.txt', source, { limits: limits(), deadline: 5_000, now });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).message).toContain('ran out of time');
    expect(pulled()).toBeLessThanOrEqual(4 * 64 * 1024);
  });

  it('turns any other failure while reading into a ManifestError, but leaves a failing source as it is (it is retried)', async () => {
    // Prepare
    const broken = new Readable({ read() { this.destroy(new Error('socket hang up')); } });

    // Act
    const fromSource = await refusal('ids.txt', broken, { limits: limits() });

    // Assess
    expect(fromSource).not.toBeInstanceOf(ManifestError);
    expect((fromSource as Error).message).toBe('socket hang up');
  });

  it('turns a failure of its own on the way (here: a stream of numbers, not bytes) into a ManifestError', async () => {
    // Act
    const error = await refusal('ids.txt', Readable.from([42]), { limits: limits() });

    // Assess
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).message).toMatch(/could not be read \(TypeError: /);
  });

  it('reads a cell that failed.csv protected from spreadsheets as the value it was', async () => {
    // Act
    const items = await read('ids.csv', `image_id,note\n"'=HYPERLINK(""x"")",'@SUM(1)\n'-1,x\n''=x,y\n'plain,'kept\n`);

    // Assess: exactly one "'" before a formula character goes; any other stays
    expect(entries(items)).toEqual(['=HYPERLINK("x")', '-1', "'=x", "'plain"]);
  });
});

describe('readManifestEntries on ambiguous input', () => {
  it('refuses a CSV header that names a column twice: which one holds the IDs is anyone\'s guess', async () => {
    // Act
    const error = await failure('ids.csv', `image_id,note,Image_ID\n${A},x,${B}\n`);

    // Assess
    expect(error.line).toBe(1);
    expect(error.message).toContain('names the column "image_id" twice');
  });

  it('refuses a .json target that is an array', async () => {
    // Act and Assess
    expect((await failure('ids.json', JSON.stringify({ target: [], imageIds: [A] }))).message).toContain('"target" must be an object');
  });
});
