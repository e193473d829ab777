// Checks of `npm run bench:manifest` on the report files, read back from S3 as streams: every ID of
// the generated manifest is regenerated from its index (bench/manifestData.ts), so a result line
// is matched to the entry it is about without holding the manifest.
import { parse as parseCsv } from 'csv-parse';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { invalidEntry, validIndexOf, type ManifestPlanCounts } from './manifestData.js';

/** What `results.jsonl.gz` held, against the generated manifest. */
export interface ResultsCheck {
  lines: number;
  /** Lines per `outcome`. */
  byOutcome: Record<string, number>;
  /** Lines about an entry that already had a line. */
  repeated: number;
  /** Lines about an ID the manifest does not hold, or that do not parse. */
  unknown: number;
  /** Lines with an unexpected outcome (valid IDs must end `deleted`, invalid entries `invalid`). */
  wrongOutcome: number;
  /** Distinct valid IDs and invalid entries without a line. */
  missingValid: number;
  missingInvalid: number;
  /** A few offending lines, for the report. */
  examples: string[];
}

/** What `failed.csv` held. */
export interface FailedCsvCheck {
  rows: number;
  /** Rows that are not an invalid entry of the manifest with outcome `invalid`. */
  unexpected: number;
  examples: string[];
}

const MAX_EXAMPLES = 5;

function invalidEntries(seed: number, plan: ManifestPlanCounts): Map<string, boolean> {
  const entries = new Map<string, boolean>();
  for (let k = 0; k < plan.invalid; k += 1) entries.set(invalidEntry(seed, k), false);
  return entries;
}

/**
 * Reads `results.jsonl.gz` (gunzipped as it streams) and checks it has exactly one line per
 * distinct valid ID (outcome `deleted`) and per invalid entry (outcome `invalid`), and nothing else.
 */
export async function checkResultsJsonl(body: Readable, seed: number, plan: ManifestPlanCounts): Promise<ResultsCheck> {
  const seen = new Uint8Array(plan.distinctValid);
  const invalid = invalidEntries(seed, plan);
  const check: ResultsCheck = { lines: 0, byOutcome: {}, repeated: 0, unknown: 0, wrongOutcome: 0, missingValid: 0, missingInvalid: 0, examples: [] };
  const note = (line: string): void => {
    if (check.examples.length < MAX_EXAMPLES) check.examples.push(line.slice(0, 200));
  };
  const gunzip = createGunzip();
  body.on('error', (error) => gunzip.destroy(error));
  for await (const line of createInterface({ input: body.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line === '') continue;
    check.lines += 1;
    let record: { image_id?: unknown; outcome?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      check.unknown += 1;
      note(line);
      continue;
    }
    const outcome = String(record.outcome);
    check.byOutcome[outcome] = (check.byOutcome[outcome] ?? 0) + 1;
    const id = typeof record.image_id === 'string' ? record.image_id : String(record.image_id);
    const k = validIndexOf(seed, id, plan.distinctValid);
    if (k !== undefined) {
      const repeated = seen[k] === 1;
      seen[k] = 1;
      if (repeated) check.repeated += 1;
      if (outcome !== 'deleted') check.wrongOutcome += 1;
      if (repeated || outcome !== 'deleted') note(line);
      continue;
    }
    const had = invalid.get(id);
    if (had === undefined) {
      check.unknown += 1;
      note(line);
      continue;
    }
    invalid.set(id, true);
    if (had) check.repeated += 1;
    if (outcome !== 'invalid') check.wrongOutcome += 1;
    if (had || outcome !== 'invalid') note(line);
  }
  for (const flag of seen) if (flag === 0) check.missingValid += 1;
  for (const had of invalid.values()) if (!had) check.missingInvalid += 1;
  return check;
}

/** Reads `failed.csv` (a CSV with a header) and checks that every row is an invalid entry of the manifest. */
export async function checkFailedCsv(body: Readable, seed: number, plan: ManifestPlanCounts): Promise<FailedCsvCheck> {
  const invalid = invalidEntries(seed, plan);
  const check: FailedCsvCheck = { rows: 0, unexpected: 0, examples: [] };
  const parser = body.pipe(parseCsv({ columns: true }));
  body.on('error', (error) => parser.destroy(error));
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    check.rows += 1;
    if (row.outcome !== 'invalid' || row.image_id === undefined || !invalid.has(row.image_id)) {
      check.unexpected += 1;
      if (check.examples.length < MAX_EXAMPLES) check.examples.push(JSON.stringify(row).slice(0, 200));
    }
  }
  return check;
}
