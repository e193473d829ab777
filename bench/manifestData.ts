// The manifest of `npm run bench:manifest`, generated deterministically from a seed: line i
// (0-based) is invalid when i % 100 === 37, a repeat of an earlier valid ID when i % 100 === 71,
// and a new valid ID otherwise — exactly 1% invalid and 1% duplicate lines per hundred. Every ID can
// be regenerated from its index, so nothing needs to be held to check the results afterwards.

/** Manifest formats the benchmark writes (the extension of the key). */
export type BenchManifestFormat = 'txt' | 'csv' | 'jsonl';

/** How many entries of each kind a generated manifest holds. */
export interface ManifestPlanCounts {
  /** Non-blank entries (CSV: records after the header). */
  received: number;
  invalid: number;
  duplicate: number;
  /** Distinct valid IDs: the ones to delete. */
  distinctValid: number;
}

const INVALID_AT = 37;
const DUPLICATE_AT = 71;
// Job IDs carry their index (below 2^31) in the last 8 hex digits; the IDs to keep carry 2^31 + k,
// so the two sets cannot meet, and every ID is distinct by construction.
const KEEP_OFFSET = 0x8000_0000;

/** murmur3's 32-bit finaliser over (seed, index, lane): cheap, deterministic, well mixed. */
export function mix(seed: number, index: number, lane: number): number {
  let h = (Math.imul(seed ^ 0x9e37_79b9, 0x85eb_ca6b) ^ Math.imul(index, 0xc2b2_ae35) ^ Math.imul(lane + 1, 0x27d4_eb2f)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const hex8 = (value: number): string => (value >>> 0).toString(16).padStart(8, '0');

function idAt(seed: number, index: number): string {
  return `${hex8(mix(seed, index, 0))}${hex8(mix(seed, index, 1))}${hex8(mix(seed, index, 2))}${hex8(index)}`;
}

/** The k-th distinct valid ID of the manifest (k from 0): 32 lowercase hex characters. */
export function validImageId(seed: number, k: number): string {
  return idAt(seed, k);
}

/** The k-th ID that the job does not name and that must survive it. */
export function keptImageId(seed: number, k: number): string {
  return idAt(seed, KEEP_OFFSET + k);
}

/**
 * The index k of a manifest's valid ID, or `undefined` when `id` is not one of the first
 * `distinctValid` valid IDs of this seed.
 */
export function validIndexOf(seed: number, id: string, distinctValid: number): number | undefined {
  if (id.length !== 32) return undefined;
  const k = Number.parseInt(id.slice(24), 16);
  return Number.isInteger(k) && k < distinctValid && validImageId(seed, k) === id ? k : undefined;
}

/**
 * The k-th invalid entry: four kinds in turn (31 hex characters, 33, 32 with a non-hex letter, a
 * word), each carrying k so that no two are equal; none contains a comma, quote or blank, so it is
 * one plain field in every format.
 */
export function invalidEntry(seed: number, k: number): string {
  const body = `${hex8(mix(seed ^ 0x5a5a_5a5a, k, 0))}${hex8(mix(seed ^ 0x5a5a_5a5a, k, 1))}${hex8(mix(seed ^ 0x5a5a_5a5a, k, 2))}`;
  switch (k % 4) {
    case 0:
      return `${body.slice(0, 23)}${hex8(k)}`;
    case 1:
      return `${body}${hex8(k)}0`;
    case 2:
      return `${body.slice(0, 23)}z${hex8(k)}`;
    default:
      return `not-an-image-id-${k}`;
  }
}

/** The counts of a manifest of `lines` entries. */
export function manifestPlanCounts(lines: number): ManifestPlanCounts {
  const hundreds = Math.floor(lines / 100);
  const rest = lines % 100;
  const invalid = hundreds + (rest > INVALID_AT ? 1 : 0);
  const duplicate = hundreds + (rest > DUPLICATE_AT ? 1 : 0);
  return { received: lines, invalid, duplicate, distinctValid: lines - invalid - duplicate };
}

/** The entries of the manifest, in order (the ID text of each line, before any format). */
export function* manifestEntries(seed: number, lines: number): Generator<string> {
  let valid = 0;
  let invalid = 0;
  // A separate stream for picking which earlier ID a repeat names.
  let pick = seed ^ 0x0dd_ba11;
  for (let i = 0; i < lines; i += 1) {
    const slot = i % 100;
    if (slot === INVALID_AT) {
      yield invalidEntry(seed, invalid);
      invalid += 1;
    } else if (slot === DUPLICATE_AT) {
      pick = mix(pick, i, 3);
      // slot 71 comes after at least 70 valid IDs, so there is always one to repeat.
      yield validImageId(seed, pick % valid);
    } else {
      yield validImageId(seed, valid);
      valid += 1;
    }
  }
}

const CHUNK_CHARS = 64 * 1024;

/**
 * The manifest's bytes as text chunks of about 64 KiB, in one of the formats: `txt` (one ID per
 * line), `csv` (an `image_id` header, then one ID per record), `jsonl` (`{"image_id": "…"}` per line).
 */
export function* manifestText(format: BenchManifestFormat, seed: number, lines: number): Generator<string> {
  let chunk = format === 'csv' ? 'image_id\n' : '';
  for (const entry of manifestEntries(seed, lines)) {
    chunk += format === 'jsonl' ? `{"image_id":${JSON.stringify(entry)}}\n` : `${entry}\n`;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}
