import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { JobValidationError } from './errors.js';
import type { ManifestLocation } from './manifestLocation.js';

/** One ID candidate read from a manifest, with the 1-based line it came from. */
export interface ManifestEntry {
  value: unknown;
  line: number;
}

/** What a manifest holds: its entries and, for a JSON job file, the target it names (unvalidated). */
export interface Manifest {
  target?: unknown;
  entries: AsyncIterable<ManifestEntry>;
}

/** Limits of {@link readManifest}. */
export interface ReadManifestOptions {
  /** Largest manifest read. The minimal reader holds the object whole. @default 10 MiB */
  maxBytes?: number;
}

/** Default cap of the minimal reader; streaming formats (issue 5) lift it. */
export const DEFAULT_MAX_MANIFEST_BYTES = 10 * 1024 * 1024;

/**
 * Reads a manifest from S3 (the location must already be checked, see `checkManifestLocation`).
 * Formats, by extension: `.txt` — one ID per line (blank lines skipped, CRLF and a BOM tolerated);
 * `.json` — a job file `{ "target"?: {...}, "imageIds": [...] }`.
 *
 * This is the one place that knows where the IDs come from: the streaming reader of the manifest
 * issue replaces its body, keeping the shape (entries as an async iterable, with line numbers).
 *
 * @throws {JobValidationError} on path `manifest` when the object is missing, too large, of an
 *   unknown format or not valid in its format (naming the line). Other S3 errors propagate.
 */
export async function readManifest(s3: S3Client, location: ManifestLocation, options: ReadManifestOptions = {}): Promise<Manifest> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const refuse = (message: string): never => {
    throw new JobValidationError([{ path: 'manifest', message: `${location.uri}: ${message}` }]);
  };
  const format = location.key.endsWith('.json') ? 'json' : location.key.endsWith('.txt') ? 'text' : refuse('unknown manifest format: expected a .txt (one ID per line) or .json (a job file) key');

  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    if ((object.ContentLength ?? 0) > maxBytes) {
      object.Body?.transformToWebStream().cancel().catch(() => undefined);
      refuse(`the manifest is ${object.ContentLength} bytes; at most ${maxBytes} are read`);
    }
    text = (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') refuse('no such object');
    throw error;
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);

  if (format === 'text') {
    const lines = text.split('\n');
    return {
      entries: (async function* () {
        for (const [index, raw] of lines.entries()) {
          const value = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
          if (value.trim() !== '') yield { value: value.trim(), line: index + 1 };
        }
      })(),
    };
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    refuse(`not valid JSON: ${(error as Error).message}`);
  }
  const file = parsed as { target?: unknown; imageIds?: unknown } | null;
  if (typeof file !== 'object' || file === null || Array.isArray(file)) refuse('expected a JSON object with "imageIds" (and optionally "target")');
  const unknownKeys = Object.keys(file as object).filter((key) => key !== 'target' && key !== 'imageIds');
  if (unknownKeys.length > 0) refuse(`unknown field(s) ${unknownKeys.map((key) => `"${key}"`).join(', ')}: a JSON manifest holds "target" and "imageIds"`);
  const ids = (file as { imageIds?: unknown }).imageIds;
  if (!Array.isArray(ids) || ids.length === 0) refuse('expected "imageIds" as a non-empty array of image IDs');
  return {
    ...((file as { target?: unknown }).target === undefined ? {} : { target: (file as { target?: unknown }).target }),
    entries: (async function* () {
      // A JSON array has no useful line numbers: entries are numbered by their place in the array.
      for (const [index, value] of (ids as unknown[]).entries()) yield { value, line: index + 1 };
    })(),
  };
}
