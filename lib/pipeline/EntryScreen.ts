import { createHash } from 'node:crypto';
import { CompactIdSet } from './CompactIdSet.js';
import { checkImageId, entryText } from './imageId.js';
import type { ImageRef, OutcomeRecord } from './outcome.js';

/** What screening one entry yields: an ID to delete, or the outcome that settles it right away. */
export type ScreenedEntry = { kind: 'valid'; ref: ImageRef } | { kind: 'settled'; record: OutcomeRecord };

/**
 * Screens a job's entries one by one, in input order, in bounded memory: normalises what real
 * exports contain (surrounding whitespace, upper-case hex — counted in `normalized`), settles
 * invalid entries and repeats of an earlier entry, and passes valid IDs on. Repeats are found
 * with compact 16-byte-per-entry sets, so a million IDs cost tens of megabytes, not hundreds.
 */
export class EntryScreen {
  /** Entries changed by normalisation (trimmed or lower-cased) before they were checked. */
  public normalized = 0;
  private readonly validSeen: CompactIdSet;
  // Invalid entries are remembered by a digest of their text, so they are counted once too.
  private readonly invalidSeen = new CompactIdSet(64);

  /**
   * @param expectedEntries - How many entries the job holds (the preparing pass counts them): the
   *   set is sized once, instead of growing by doubling (which briefly holds both tables).
   */
  public constructor(expectedEntries = 1024) {
    this.validSeen = new CompactIdSet(expectedEntries);
  }

  /**
   * Screens one entry.
   *
   * @param value - The entry as read (a string, or anything a JSON list may hold).
   * @param position - Its 1-based line in the manifest, or place in the inline list.
   */
  public screen(value: unknown, position: number): ScreenedEntry {
    const candidate = typeof value === 'string' ? normalise(value) : value;
    if (candidate !== value) this.normalized += 1;
    const check = checkImageId(candidate);
    if (check.ok) {
      if (!this.validSeen.add(check.id)) return { kind: 'settled', record: { imageId: check.id, position, outcome: 'duplicate' } };
      return { kind: 'valid', ref: { id: check.id, position } };
    }
    const text = printable(value);
    // The whole entry (as normalised), not its shortened rendering: two long entries alike at the start are two entries.
    const digest = createHash('md5').update(typeof candidate === 'string' ? `s:${candidate}` : `j:${entryText(value)}`).digest('hex');
    if (!this.invalidSeen.add(digest)) return { kind: 'settled', record: { imageId: text, position, outcome: 'duplicate' } };
    return { kind: 'settled', record: { imageId: text, position, outcome: 'invalid', errorCode: 'INVALID_IMAGE_ID', errorMessage: check.reason } };
  }
}

// Trim, and lower-case an otherwise valid ID written in upper case: the same MD5, the same image.
function normalise(value: string): string {
  const trimmed = value.trim();
  return /^[0-9a-fA-F]{32}$/.test(trimmed) ? trimmed.toLowerCase() : trimmed;
}

// A bounded, single-line rendering of any entry, safe for a CSV cell and a log line.
function printable(entry: unknown): string {
  const text = typeof entry === 'string' ? entry : entryText(entry, 200);
  const line = text.replace(/[\r\n]+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
