import { configSchema, type Config } from '../config/config.js';

/**
 * Bounds on reading one manifest, each refused with a {@link ManifestError} naming the setting
 * that raises it. The byte and line bounds are derived from the entries the job may hold, so a
 * gzip bomb is refused soon after it passes what those entries could need, not at the deadline.
 */
export interface ManifestReadLimits {
  /** Longest line in bytes (its line end excluded); for CSV also the largest record (csv-parse `max_record_size`). */
  maxLineBytes: number;
  /** Most columns in a CSV header. */
  maxColumns: number;
  /** Deepest nesting of an entry: a JSON Lines line, or an item of a `.json` manifest's `imageIds`. */
  maxDepth: number;
  /** Most bytes, decompressed: `permittedEntries × MANIFEST_BYTES_PER_ENTRY + maxLineBytes`. */
  maxBytes: number;
  /** Most lines, blank ones included: two per permitted entry, and a header. */
  maxLines: number;
  /** The entries the job may hold, which `maxBytes` and `maxLines` are derived from (named in their errors). */
  permittedEntries: number;
}

/** The settings {@link manifestReadLimits} reads. */
export type ManifestLimitSettings = Pick<Config, 'MAX_IDS_PER_JOB' | 'MANIFEST_MAX_LINE_BYTES' | 'MANIFEST_MAX_COLUMNS' | 'MANIFEST_MAX_DEPTH' | 'MANIFEST_BYTES_PER_ENTRY'>;

/**
 * The bounds for reading a job's manifest: the configured line, column and depth bounds, and the
 * byte and line bounds for the entries the job may hold — `MAX_IDS_PER_JOB`, or its
 * `options.confirmEntries` when that is more (the job is refused with more entries than that anyway).
 *
 * @example manifestReadLimits(config, job.options)
 */
export function manifestReadLimits(config: ManifestLimitSettings, job: { confirmEntries?: number | undefined }): ManifestReadLimits {
  const permittedEntries = Math.max(config.MAX_IDS_PER_JOB, job.confirmEntries ?? 0);
  return {
    maxLineBytes: config.MANIFEST_MAX_LINE_BYTES,
    maxColumns: config.MANIFEST_MAX_COLUMNS,
    maxDepth: config.MANIFEST_MAX_DEPTH,
    // One longest line on top: a job of a few entries may still have a long header.
    maxBytes: permittedEntries * config.MANIFEST_BYTES_PER_ENTRY + config.MANIFEST_MAX_LINE_BYTES,
    // As many blank lines as entries (a double-spaced export), and a CSV header.
    maxLines: 2 * permittedEntries + 1,
    permittedEntries,
  };
}

/** The bounds with every setting at its default: what a reader that is given none applies. */
export const DEFAULT_MANIFEST_READ_LIMITS: ManifestReadLimits = manifestReadLimits(
  configSchema.pick({ MAX_IDS_PER_JOB: true, MANIFEST_MAX_LINE_BYTES: true, MANIFEST_MAX_COLUMNS: true, MANIFEST_MAX_DEPTH: true, MANIFEST_BYTES_PER_ENTRY: true }).parse({}),
  {},
);
