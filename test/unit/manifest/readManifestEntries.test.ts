import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../../lib/manifest/ManifestError.js';
import { manifestFormatOf } from '../../../lib/manifest/manifestFormat.js';
import { readManifestEntries, type ManifestItem } from '../../../lib/manifest/readManifestEntries.js';

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
