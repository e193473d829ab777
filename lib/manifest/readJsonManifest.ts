import { parseTree, type ParseError } from 'jsonc-parser';
import { jsonDepthExcess } from './jsonDepthExcess.js';
import { ManifestError } from './ManifestError.js';
import type { ManifestItem } from './ManifestItem.js';

/** Default cap on `.json` manifests: line formats stream; JSON must be parsed whole. */
export const DEFAULT_MAX_JSON_BYTES = 10 * 1024 * 1024;

/**
 * Reads a `.json` manifest — an object with an `imageIds` array and optionally a `target` — whole,
 * up to `maxBytes`. Its entries sit two levels deep (the object, the array): the text may nest at
 * most `maxDepth` levels below them, checked before anything parses it, so neither `JSON.parse`'s
 * value nor the error-locating parser (recursive) meets a deeper one.
 *
 * @throws {ManifestError} naming the line (or byte).
 */
export async function* readJsonManifest(bytes: AsyncIterable<Buffer>, maxBytes: number, maxDepth: number): AsyncGenerator<ManifestItem> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of bytes) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new ManifestError(`a .json manifest is parsed whole and may be at most ${maxBytes} bytes; this one is larger: use .jsonl, .csv or .txt for big lists`, { byte: maxBytes });
    }
    parts.push(chunk);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(parts));
  } catch (error) {
    throw new ManifestError('the bytes are not valid UTF-8 text', {}, { cause: error });
  }
  const deep = jsonDepthExcess(text, maxDepth + 2);
  if (deep !== -1) throw new ManifestError(`an entry is nested deeper than ${maxDepth} levels (MANIFEST_MAX_DEPTH)`, { line: lineOf(text, deep) });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the error, line ends included: one line is enough for a message.
    throw new ManifestError(`not valid JSON (${(error as Error).message.replace(/\s+/g, ' ')})`, syntaxErrorLine(text), { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Array.isArray((value as { imageIds?: unknown }).imageIds)) {
    throw new ManifestError('expected a JSON object with an "imageIds" array (and optionally a "target")', { line: 1 });
  }
  const { target, imageIds } = value as { target?: unknown; imageIds: unknown[] };
  if (target !== undefined) {
    if (typeof target !== 'object' || target === null || Array.isArray(target)) throw new ManifestError('"target" must be an object', { line: 1 });
    yield { kind: 'target', line: 1, target: target };
  }
  // A JSON manifest has no meaningful line per ID: the position in imageIds (1-based) stands in.
  let position = 0;
  for (const id of imageIds) {
    position += 1;
    yield { kind: 'entry', line: position, value: typeof id === 'string' ? id.trim() : id };
  }
}

// V8's message does not always say where: find the first syntax error's line ourselves. The depth
// is bounded by now; should the parser still fail, the error goes without its line.
function syntaxErrorLine(text: string): { line?: number } {
  try {
    const errors: ParseError[] = [];
    parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
    const offset = errors[0]?.offset;
    return offset === undefined ? {} : { line: lineOf(text, offset) };
  } catch {
    return {};
  }
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line += 1;
  return line;
}
