import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { manifestBytes } from './manifestBytes.js';
import { ManifestError } from './ManifestError.js';
import type { ManifestFormatInfo } from './manifestFormat.js';
import type { ManifestItem } from './ManifestItem.js';
import { manifestLines } from './manifestLines.js';
import { DEFAULT_MANIFEST_READ_LIMITS, type ManifestReadLimits } from './ManifestReadLimits.js';
import { readCsvManifest } from './readCsvManifest.js';
import { DEFAULT_MAX_JSON_BYTES, readJsonManifest } from './readJsonManifest.js';
import { readJsonLinesManifest } from './readJsonLinesManifest.js';

export type { ManifestItem, ManifestTargetFields } from './ManifestItem.js';

/** How to read a manifest: its bounds, and for the preparing pass its deadline. */
export interface ReadManifestOptions {
  /** The bounds (lib/manifest/ManifestReadLimits.ts: `manifestReadLimits(config, job.options)`). @default every setting's default */
  limits?: ManifestReadLimits;
  /** Epoch ms by which reading must be done: the preparing pass's share of the invocation budget. @default none */
  deadline?: number;
  /** The clock the deadline is read with. @default Date.now */
  now?: () => number;
  /** Largest `.json` manifest (decompressed), which is parsed whole. @default 10 MiB */
  maxJsonBytes?: number;
  /** JSON Lines only: each entry's line is its `"line"` field (a split job's part manifests keep the original lines). */
  lineField?: boolean;
}

/**
 * Reads a manifest as a stream and yields its ID candidates with their 1-based line numbers, and
 * any target it names. Tolerates what real exports contain: a UTF-8 BOM, CRLF line ends, blank
 * lines and surrounding whitespace. Nothing is held whole except a `.json` manifest (capped), and
 * every bound of {@link ManifestReadLimits} is checked as the bytes arrive, so hostile input (a
 * gzip bomb, a gigabyte line, a million columns, deep nesting) is refused within the bytes its
 * permitted entries could need. The source is destroyed when reading ends, however it ends.
 *
 * @throws {ManifestError} naming the line (or byte) and the reason, for every failure of reading
 *   the content: bytes that are not UTF-8, truncated or corrupt gzip, a line that is not valid in
 *   its format, a bound passed, the deadline passed — and anything else that goes wrong on the way.
 *   Only a failure of the source itself (the bytes could not be fetched) is passed on as it is.
 */
export async function* readManifestEntries(source: Readable, info: ManifestFormatInfo, options: ReadManifestOptions = {}): AsyncGenerator<ManifestItem> {
  const limits = options.limits ?? DEFAULT_MANIFEST_READ_LIMITS;
  const bytes = manifestBytes(info.gzip ? gunzip(source) : source, { limits, deadline: options.deadline ?? Infinity, now: options.now ?? Date.now });
  try {
    switch (info.format) {
      case 'text':
        for await (const { line, text } of manifestLines(bytes, limits)) {
          const value = text.trim();
          if (value !== '') yield { kind: 'entry', line, value };
        }
        return;
      case 'jsonl':
        yield* readJsonLinesManifest(manifestLines(bytes, limits), limits.maxDepth, options.lineField ?? false);
        return;
      case 'csv':
        yield* readCsvManifest(manifestLines(bytes, limits), limits);
        return;
      case 'json':
        yield* readJsonManifest(bytes, Math.min(options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES, limits.maxBytes), limits.maxDepth);
        return;
    }
  } catch (error) {
    // A failing source (S3, the network) is not the manifest's fault: the caller may retry it.
    if (error instanceof ManifestError || (error != null && error === source.errored)) throw error;
    throw new ManifestError(`could not be read (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`, {}, { cause: error });
  } finally {
    source.destroy();
  }
}

function gunzip(source: Readable): Readable {
  const inflate = createGunzip();
  source.on('error', (error) => inflate.destroy(error));
  return source.pipe(inflate);
}
