import { ManifestError } from './ManifestError.js';

/** The manifest formats, chosen by the key's extension. */
export type ManifestFormat = 'text' | 'csv' | 'jsonl' | 'json';

/** How to read a manifest: its format, and whether it is gzip-compressed. */
export interface ManifestFormatInfo {
  format: ManifestFormat;
  gzip: boolean;
}

const EXTENSIONS: Record<string, ManifestFormat> = {
  '.txt': 'text',
  '.ids': 'text',
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
};

/**
 * Tells a manifest's format from its key: `.txt`/`.ids` (one ID per line), `.csv` (a header
 * with an `image_id` column), `.jsonl`/`.ndjson` (one ID or object per line), `.json` (an object
 * with `imageIds`), each optionally followed by `.gz`.
 *
 * @throws {ManifestError} for any other extension.
 */
export function manifestFormatOf(key: string): ManifestFormatInfo {
  const lower = key.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const base = gzip ? lower.slice(0, -3) : lower;
  const extension = /\.[a-z0-9]+$/.exec(base)?.[0] ?? '';
  const format = EXTENSIONS[extension];
  if (format === undefined) {
    throw new ManifestError(`unknown manifest extension "${extension || '(none)'}" in ${key}: expected one of ${Object.keys(EXTENSIONS).join(', ')} (optionally + .gz)`);
  }
  return { format, gzip };
}
