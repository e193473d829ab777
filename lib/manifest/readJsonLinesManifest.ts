import { jsonDepthExcess } from './jsonDepthExcess.js';
import { ManifestError } from './ManifestError.js';
import type { ManifestItem } from './ManifestItem.js';
import type { ManifestLine } from './manifestLines.js';
import { manifestTargetFields } from './manifestTargetFields.js';

const ID_KEYS = ['image_id', 'imageId', 'sample_id', 'id'] as const;

/**
 * Reads a JSON Lines manifest: each line an ID (a JSON string) or an object with `image_id` (or
 * `imageId`, `sample_id`, `id`) and optionally the target's fields. A line nested deeper than
 * `maxDepth` is refused before it is parsed: nothing recursive downstream may meet it.
 *
 * @param lineField - Each entry's line is its `"line"` field (a split job's part manifests keep the original lines).
 * @throws {ManifestError} naming the line.
 */
export async function* readJsonLinesManifest(lines: AsyncIterable<ManifestLine>, maxDepth: number, lineField: boolean): AsyncGenerator<ManifestItem> {
  for await (const { line, text } of lines) {
    const trimmed = text.trim();
    if (trimmed === '') continue;
    if (jsonDepthExcess(trimmed, maxDepth) !== -1) throw new ManifestError(`the line is nested deeper than ${maxDepth} levels (MANIFEST_MAX_DEPTH)`, { line });
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
    const target = manifestTargetFields(record, line);
    if (target) yield { kind: 'target', line, target };
    const key = ID_KEYS.find((k) => k in record);
    if (key === undefined) throw new ManifestError('the object has no "image_id"', { line });
    const id = record[key];
    if (lineField && !(Number.isInteger(record.line) && (record.line as number) > 0)) throw new ManifestError('expected a positive whole "line" in a part manifest', { line });
    yield { kind: 'entry', line: lineField ? (record.line as number) : line, value: typeof id === 'string' ? id.trim() : id };
  }
}
