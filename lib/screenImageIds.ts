import { checkImageId } from './imageId.js';
import type { ImageRef, OutcomeRecord } from './outcome.js';

/** What screening one entry yields: an ID to delete, or the outcome that settles it right away. */
export type ScreenedEntry = { kind: 'valid'; ref: ImageRef } | { kind: 'settled'; record: OutcomeRecord };

/**
 * Checks each entry of a job's ID list, in order: invalid entries and repeats of an earlier entry
 * are settled here (never sent to the service); the rest are yielded as IDs to delete.
 *
 * @param entries - The job's raw entries, in input order; positions are 1-based.
 */
export function* screenImageIds(entries: Iterable<unknown>): Generator<ScreenedEntry> {
  const seen = new Set<string>();
  let position = 0;
  for (const entry of entries) {
    position += 1;
    const key = typeof entry === 'string' ? entry : undefined;
    if (key !== undefined && seen.has(key)) {
      yield { kind: 'settled', record: { imageId: key, position, outcome: 'duplicate' } };
      continue;
    }
    if (key !== undefined) seen.add(key);
    const check = checkImageId(entry);
    if (check.ok) {
      yield { kind: 'valid', ref: { id: check.id, position } };
    } else {
      yield {
        kind: 'settled',
        record: { imageId: printable(entry), position, outcome: 'invalid', errorCode: 'INVALID_IMAGE_ID', errorMessage: check.reason },
      };
    }
  }
}

// A bounded, single-line rendering of any entry, safe for a CSV cell and a log line.
function printable(entry: unknown): string {
  const text = typeof entry === 'string' ? entry : (JSON.stringify(entry) ?? String(entry));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
