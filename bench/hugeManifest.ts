// The manifest of `npm run bench:huge`, generated deterministically from a seed and its size N (a
// multiple of 100), one ID per line. Line i (0-based) is, by its slot s = i % 100:
//   s = 37: invalid (bench/manifestData.ts's k-th invalid entry, k = floor(i / 100));
//   s = 73: a repeat, far away: the ID of line (i - D) mod N, whose slot is 72 (D ≡ 1 mod 100, about
//           0.4 N: 4,000,001 lines at 10M), so a repeat and its first occurrence are millions of
//           lines apart — in different read windows, parts and planning invocations of any planner;
//   else:   a new valid ID (bench/manifestData.ts's validImageId, 98 a hundred).
// Slots 72 and 73 pair up one to one; of each pair the later line is the `duplicate`, the earlier
// one is deleted. So exactly 1% of the lines are invalid and 1% repeats, and the expected outcome
// and ID of every line follow from its number: nothing is held to check the report.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { invalidEntry, mix, validImageId } from './manifestData.js';

const INVALID_AT = 37;
const PAIRED_AT = 72;
const REPEAT_AT = 73;

/** What one line of the manifest is, and how it must end. */
export interface HugeManifestLine {
  /** The line's text. */
  entry: string;
  outcome: 'deleted' | 'invalid' | 'duplicate';
}

/** How many lines of each kind a manifest of `entries` lines holds. */
export interface HugeManifestCounts {
  entries: number;
  invalid: number;
  duplicate: number;
  /** Distinct valid IDs: the ones to delete. */
  distinctValid: number;
  /** Lines between a repeat and its first occurrence (mod N). */
  repeatDistance: number;
}

/** The counts of a manifest of `entries` lines. @throws when `entries` is not a positive multiple of 100. */
export function hugeManifestCounts(entries: number): HugeManifestCounts {
  if (!Number.isInteger(entries) || entries <= 0 || entries % 100 !== 0) throw new Error(`a bench:huge manifest has a positive multiple of 100 lines, not ${entries}`);
  const hundreds = entries / 100;
  return { entries, invalid: hundreds, duplicate: hundreds, distinctValid: entries - 2 * hundreds, repeatDistance: Math.floor((entries * 0.4) / 100) * 100 + 1 };
}

// The index k of the distinct valid ID first named at line i (slot neither 37 nor 73).
function validIndex(i: number): number {
  const slot = i % 100;
  return Math.floor(i / 100) * 98 + slot - (slot > INVALID_AT ? 1 : 0) - (slot > REPEAT_AT ? 1 : 0);
}

// How line i must end: from its slot alone (slots 72 and 73 pair up; the later of a pair repeats).
function outcomeAt(counts: HugeManifestCounts, i: number): HugeManifestLine['outcome'] {
  const slot = i % 100;
  const { entries, repeatDistance } = counts;
  if (slot === INVALID_AT) return 'invalid';
  if (slot === REPEAT_AT) return (i - repeatDistance + entries) % entries < i ? 'duplicate' : 'deleted';
  if (slot === PAIRED_AT) return (i + repeatDistance) % entries < i ? 'duplicate' : 'deleted';
  return 'deleted';
}

/** Line i (0-based) of the manifest of `counts.entries` lines. */
export function hugeManifestLine(seed: number, counts: HugeManifestCounts, i: number): HugeManifestLine {
  const slot = i % 100;
  const outcome = outcomeAt(counts, i);
  if (slot === INVALID_AT) return { entry: invalidEntry(seed, Math.floor(i / 100)), outcome };
  const first = slot === REPEAT_AT ? (i - counts.repeatDistance + counts.entries) % counts.entries : i;
  return { entry: validImageId(seed, validIndex(first)), outcome };
}

const HEX = Buffer.from('0123456789abcdef');

function writeHex8(out: Buffer, at: number, value: number): void {
  for (let d = 7; d >= 0; d -= 1) out[at + 7 - d] = HEX[(value >>> (d * 4)) & 15]!;
}

// validImageId(seed, k) as 32 bytes at `at`, without building strings (five times faster: 50M lines in seconds, not minutes).
function writeValidId(out: Buffer, at: number, seed: number, k: number): void {
  writeHex8(out, at, mix(seed, k, 0));
  writeHex8(out, at + 8, mix(seed, k, 1));
  writeHex8(out, at + 16, mix(seed, k, 2));
  writeHex8(out, at + 24, k);
}

const CHUNK_BYTES = 1024 * 1024;

/** The manifest's bytes (one entry a line, `\n` after each) in chunks of about 1 MiB. */
export function* hugeManifestBytes(seed: number, counts: HugeManifestCounts): Generator<Buffer> {
  const probe = Buffer.alloc(32);
  for (const k of [0, 1, 12_345, 2 ** 31 - 1]) {
    writeValidId(probe, 0, seed, k);
    if (probe.toString('latin1') !== validImageId(seed, k)) throw new Error('bench/hugeManifest.ts: the fast ID writer disagrees with bench/manifestData.ts');
  }
  let out = Buffer.allocUnsafe(CHUNK_BYTES + 256);
  let at = 0;
  for (let i = 0; i < counts.entries; i += 1) {
    const slot = i % 100;
    if (slot === INVALID_AT) {
      at += out.write(invalidEntry(seed, Math.floor(i / 100)), at, 'latin1');
    } else {
      writeValidId(out, at, seed, validIndex(slot === REPEAT_AT ? (i - counts.repeatDistance + counts.entries) % counts.entries : i));
      at += 32;
    }
    out[at] = 0x0a;
    at += 1;
    if (at >= CHUNK_BYTES) {
      yield out.subarray(0, at);
      out = Buffer.allocUnsafe(CHUNK_BYTES + 256);
      at = 0;
    }
  }
  if (at > 0) yield out.subarray(0, at);
}

/** The distinct valid IDs of the manifest (what the emulator's store must hold), in batches. */
export function* hugeManifestIds(seed: number, counts: HugeManifestCounts, batch: number): Generator<string[]> {
  const out = Buffer.allocUnsafe(32);
  for (let k = 0; k < counts.distinctValid; k += batch) {
    yield Array.from({ length: Math.min(batch, counts.distinctValid - k) }, (_, j) => {
      writeValidId(out, 0, seed, k + j);
      return out.toString('latin1');
    });
  }
}

/** What `results.jsonl.gz` held, against the generated manifest. */
export interface HugeResultsCheck {
  lines: number;
  byOutcome: Record<string, number>;
  /** Lines whose `line` is outside the manifest, whose ID is not that line's, or that do not parse. */
  wrongLine: number;
  /** Lines about a manifest line that already had one. */
  repeated: number;
  /** Lines whose outcome is not the one the line must end with. */
  wrongOutcome: number;
  /** Invalid lines and first occurrences of a valid ID without a result line. */
  missing: number;
  /** Repeats that have a line of their own (outcome `duplicate`): today none; all or none, never some. */
  duplicatesListed: number;
  examples: string[];
}

/**
 * Reads `results.jsonl.gz` as it streams and checks that every line of the manifest that is not a
 * repeat has exactly one result line, at its line, with its ID and the outcome it must have — a
 * repeat may have one too, `duplicate` (docs/report-format.md lists only the counted repeats today).
 * Holds one byte per manifest line.
 */
export async function checkHugeResults(body: Readable, seed: number, counts: HugeManifestCounts): Promise<HugeResultsCheck> {
  const seen = new Uint8Array(counts.entries);
  const check: HugeResultsCheck = { lines: 0, byOutcome: {}, wrongLine: 0, repeated: 0, wrongOutcome: 0, missing: 0, duplicatesListed: 0, examples: [] };
  const note = (text: string): void => {
    if (check.examples.length < 5) check.examples.push(text.slice(0, 200));
  };
  const gunzip = createGunzip();
  body.on('error', (error) => gunzip.destroy(error));
  for await (const text of createInterface({ input: body.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY })) {
    if (text === '') continue;
    check.lines += 1;
    let record: { image_id?: unknown; outcome?: unknown; line?: unknown };
    try {
      record = JSON.parse(text) as typeof record;
    } catch {
      check.wrongLine += 1;
      note(text);
      continue;
    }
    const outcome = String(record.outcome);
    check.byOutcome[outcome] = (check.byOutcome[outcome] ?? 0) + 1;
    const i = typeof record.line === 'number' ? record.line - 1 : -1;
    if (!Number.isInteger(i) || i < 0 || i >= counts.entries) {
      check.wrongLine += 1;
      note(text);
      continue;
    }
    const expected = hugeManifestLine(seed, counts, i);
    if (record.image_id !== expected.entry) {
      check.wrongLine += 1;
      note(text);
      continue;
    }
    if (seen[i] === 1) {
      check.repeated += 1;
      note(text);
    }
    seen[i] = 1;
    if (outcome !== expected.outcome) {
      check.wrongOutcome += 1;
      note(text);
    }
  }
  for (let i = 0; i < counts.entries; i += 1) {
    const repeat = outcomeAt(counts, i) === 'duplicate';
    if (repeat && seen[i] === 1) check.duplicatesListed += 1;
    else if (!repeat && seen[i] === 0) check.missing += 1;
  }
  return check;
}
