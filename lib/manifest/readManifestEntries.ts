import { parse as parseCsv } from 'csv-parse';
import { parseTree, type ParseError } from 'jsonc-parser';
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ManifestError } from './ManifestError.js';
import type { ManifestFormatInfo } from './manifestFormat.js';

/** Target fields a manifest may name for itself, as written in it (snake_case columns or camelCase JSON). */
export interface ManifestTargetFields {
  projectId?: string;
  dataAnnotationId?: string;
  datasetId?: string;
}

/** One thing read from a manifest: an ID candidate with its line, or the target it names. */
export type ManifestItem =
  | { kind: 'entry'; line: number; value: unknown }
  | { kind: 'target'; line: number; target: ManifestTargetFields };

/** Limits on reading a manifest. */
export interface ReadManifestOptions {
  /** Largest `.json` manifest (decompressed), which is parsed whole. @default 10 MiB */
  maxJsonBytes?: number;
  /** JSON Lines only: each entry's line is its `"line"` field (a split job's part manifests keep the original lines). */
  lineField?: boolean;
}

/** Default cap on `.json` manifests: line formats stream; JSON must be parsed whole. */
export const DEFAULT_MAX_JSON_BYTES = 10 * 1024 * 1024;

/**
 * Reads a manifest as a stream and yields its ID candidates with their 1-based line numbers, and
 * any target it names. Tolerates what real exports contain: a UTF-8 BOM, CRLF line ends, blank
 * lines and surrounding whitespace. Nothing is held whole except a `.json` manifest (capped).
 *
 * @throws {ManifestError} naming the line (or byte) and the reason, for bytes that are not UTF-8,
 *   truncated or corrupt gzip, a line that is not valid in its format, or a JSON manifest over the cap.
 */
export async function* readManifestEntries(source: Readable, info: ManifestFormatInfo, options: ReadManifestOptions = {}): AsyncGenerator<ManifestItem> {
  const input = info.gzip ? gunzip(source) : source;
  switch (info.format) {
    case 'text':
      for await (const { line, text } of lines(input)) {
        const value = text.trim();
        if (value !== '') yield { kind: 'entry', line, value };
      }
      return;
    case 'jsonl':
      yield* readJsonLines(input, options.lineField ?? false);
      return;
    case 'csv':
      yield* readCsv(input);
      return;
    case 'json':
      yield* readJson(input, options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES);
      return;
  }
}

function gunzip(source: Readable): Readable {
  const inflate = createGunzip();
  source.on('error', (error) => inflate.destroy(error));
  return source.pipe(inflate);
}

/**
 * Splits bytes into lines at LF (a byte that never occurs inside a multi-byte UTF-8 character),
 * checks each line is UTF-8, strips a CR before the LF and a BOM on the first line; 1-based numbers.
 */
async function* lines(input: AsyncIterable<Buffer | string>): AsyncGenerator<{ line: number; text: string }> {
  // The bytes of an unfinished line from earlier chunks; short, so joining it costs little, where
  // joining every chunk to it would copy the whole manifest once more.
  let carry: Buffer[] = [];
  let line = 0;
  for await (const chunk of readBytes(input)) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let end = bytes.indexOf(0x0a, start); end !== -1; end = bytes.indexOf(0x0a, start)) {
      line += 1;
      const piece = bytes.subarray(start, end);
      yield { line, text: decodeLine(carry.length === 0 ? piece : Buffer.concat([...carry, piece]), line) };
      carry = [];
      start = end + 1;
    }
    // A copy, not a view: a view would keep the whole chunk alive for a few bytes.
    if (start < bytes.length) carry.push(Buffer.from(bytes.subarray(start)));
  }
  if (carry.length > 0) {
    line += 1;
    yield { line, text: decodeLine(Buffer.concat(carry), line) };
  }
}

function decodeLine(bytes: Buffer, line: number): string {
  if (!isUtf8(bytes)) throw new ManifestError('the bytes are not valid UTF-8 text', { line });
  let text = bytes.toString('utf8');
  if (line === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

async function* readBytes(input: AsyncIterable<Buffer | string>): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of input) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  } catch (error) {
    throw asManifestError(error);
  }
}

function asManifestError(error: unknown): unknown {
  if (error instanceof ManifestError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new ManifestError(`the gzip data is truncated or corrupt (${(error as Error).message})`, {}, { cause: error });
  }
  return error;
}

const ID_KEYS = ['image_id', 'imageId', 'sample_id', 'id'] as const;

async function* readJsonLines(input: Readable, lineField: boolean): AsyncGenerator<ManifestItem> {
  for await (const { line, text } of lines(input)) {
    const trimmed = text.trim();
    if (trimmed === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new ManifestError(`not valid JSON (${(error as Error).message})`, { line }, { cause: error });
    }
    if (typeof value === 'string') {
      yield { kind: 'entry', line, value: value.trim() };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ManifestError('expected a JSON string (the ID) or an object with "image_id"', { line });
    }
    const record = value as Record<string, unknown>;
    const target = targetFields(record, line);
    if (target) yield { kind: 'target', line, target };
    const key = ID_KEYS.find((k) => k in record);
    if (key === undefined) throw new ManifestError('the object has no "image_id"', { line });
    const id = record[key];
    if (lineField && !(Number.isInteger(record.line) && (record.line as number) > 0)) throw new ManifestError('expected a positive whole "line" in a part manifest', { line });
    yield { kind: 'entry', line: lineField ? (record.line as number) : line, value: typeof id === 'string' ? id.trim() : id };
  }
}

async function* readCsv(input: Readable): AsyncGenerator<ManifestItem> {
  // csv-parse does not check the encoding: decode strictly ourselves, line numbers included.
  const text = Readable.from(textOf(lines(input)));
  const columns = (header: string[]) => {
    const names = header.map((name) => name.trim().toLowerCase());
    if (!names.includes('image_id')) throw new ManifestError(`the CSV header has no "image_id" column (found: ${names.join(', ')})`, { line: 1 });
    return names;
  };
  const parser = text.pipe(parseCsv({ bom: true, trim: true, skip_empty_lines: true, columns, info: true, relax_column_count: false }));
  text.on('error', (error) => parser.destroy(error));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const line = info.lines;
      const target = targetFields(record, line);
      if (target) yield { kind: 'target', line, target };
      yield { kind: 'entry', line, value: record.image_id };
    }
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    const csvError = error as { code?: string; lines?: number; message?: string };
    if (typeof csvError.code === 'string' && csvError.code.startsWith('CSV_')) {
      throw new ManifestError(`not valid CSV (${csvError.message ?? csvError.code})`, csvError.lines === undefined ? {} : { line: csvError.lines }, { cause: error });
    }
    throw asManifestError(error);
  }
}

async function* textOf(source: AsyncIterable<{ text: string }>): AsyncGenerator<string> {
  for await (const { text } of source) yield `${text}\n`;
}

async function* readJson(input: Readable, maxBytes: number): AsyncGenerator<ManifestItem> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of readBytes(input)) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new ManifestError(`a .json manifest is parsed whole and may be at most ${maxBytes} bytes; this one is larger: use .jsonl, .csv or .txt for big lists`, { byte: maxBytes });
    }
    parts.push(Buffer.from(chunk));
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(parts));
  } catch (error) {
    throw new ManifestError('the bytes are not valid UTF-8 text', {}, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's message does not always say where: find the first syntax error's offset ourselves.
    const errors: ParseError[] = [];
    parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
    const offset = errors[0]?.offset;
    const where = offset === undefined ? {} : { line: lineOf(text, offset) };
    throw new ManifestError(`not valid JSON (${(error as Error).message})`, where, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Array.isArray((value as { imageIds?: unknown }).imageIds)) {
    throw new ManifestError('expected a JSON object with an "imageIds" array (and optionally a "target")', { line: 1 });
  }
  const { target, imageIds } = value as { target?: unknown; imageIds: unknown[] };
  if (target !== undefined) {
    if (typeof target !== 'object' || target === null) throw new ManifestError('"target" must be an object', { line: 1 });
    yield { kind: 'target', line: 1, target: target };
  }
  // A JSON manifest has no meaningful line per ID: the position in imageIds (1-based) stands in.
  let position = 0;
  for (const id of imageIds) {
    position += 1;
    yield { kind: 'entry', line: position, value: typeof id === 'string' ? id.trim() : id };
  }
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line += 1;
  return line;
}

function targetFields(record: Record<string, unknown>, line: number): ManifestTargetFields | undefined {
  const pick = (...keys: string[]) => {
    for (const key of keys) {
      const value = record[key];
      if (value === undefined || value === '') continue;
      if (typeof value !== 'string') throw new ManifestError(`"${key}" must be a string`, { line });
      return value.trim();
    }
    return undefined;
  };
  const projectId = pick('project_id', 'projectId');
  const dataAnnotationId = pick('data_annotation_id', 'dataAnnotationId');
  const datasetId = pick('dataset_id', 'datasetId');
  if (projectId === undefined && dataAnnotationId === undefined && datasetId === undefined) return undefined;
  return {
    ...(projectId === undefined ? {} : { projectId }),
    ...(dataAnnotationId === undefined ? {} : { dataAnnotationId }),
    ...(datasetId === undefined ? {} : { datasetId }),
  };
}
