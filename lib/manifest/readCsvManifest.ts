import { parse as parseCsv } from 'csv-parse';
import { Readable } from 'node:stream';
import { ManifestError } from './ManifestError.js';
import type { ManifestItem } from './ManifestItem.js';
import type { ManifestLine } from './manifestLines.js';
import type { ManifestReadLimits } from './ManifestReadLimits.js';
import { manifestTargetFields } from './manifestTargetFields.js';
import { fromSpreadsheetSafeCell } from './spreadsheetSafeCell.js';

/**
 * Reads a CSV manifest: a header with an `image_id` column (any case; at most `maxColumns`),
 * optionally the target's columns (no name twice), one entry per row. A record may not grow past `maxLineBytes`
 * (csv-parse `max_record_size`), so an unclosed quote cannot make the parser hold the rest of the
 * file. A cell `failed.csv` protected from spreadsheets (a leading `'`) reads as the value it was.
 *
 * @throws {ManifestError} naming the line.
 */
export async function* readCsvManifest(lines: AsyncIterable<ManifestLine>, limits: Pick<ManifestReadLimits, 'maxLineBytes' | 'maxColumns'>): AsyncGenerator<ManifestItem> {
  // csv-parse does not check the encoding: the lines come decoded strictly, line numbers included.
  const text = Readable.from(textOf(lines));
  const columns = (header: string[]) => {
    if (header.length > limits.maxColumns) throw new ManifestError(`the CSV header has ${header.length} columns, more than ${limits.maxColumns} (MANIFEST_MAX_COLUMNS)`, { line: 1 });
    const names = header.map((name) => name.trim().toLowerCase());
    if (!names.includes('image_id')) throw new ManifestError(`the CSV header has no "image_id" column (found: ${names.join(', ')})`, { line: 1 });
    // csv-parse would keep the last of two columns of one name: which one holds the IDs is anyone's guess.
    const twice = names.find((name, i) => name !== '' && names.indexOf(name) !== i);
    if (twice !== undefined) throw new ManifestError(`the CSV header names the column "${twice}" twice`, { line: 1 });
    return names;
  };
  const parser = text.pipe(parseCsv({ bom: true, trim: true, skip_empty_lines: true, columns, info: true, relax_column_count: false, max_record_size: limits.maxLineBytes }));
  text.on('error', (error) => parser.destroy(error));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const line = info.lines;
      const cells = restoredCells(record);
      const target = manifestTargetFields(cells, line);
      if (target) yield { kind: 'target', line, target };
      yield { kind: 'entry', line, value: cells.image_id };
    }
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    const csvError = error as { code?: string; lines?: number; message?: string };
    const where = csvError.lines === undefined ? {} : { line: csvError.lines };
    if (csvError.code === 'CSV_MAX_RECORD_SIZE') {
      throw new ManifestError(`a CSV record reaches past ${limits.maxLineBytes} characters here (MANIFEST_MAX_LINE_BYTES): is a quote left open above?`, where, { cause: error });
    }
    if (typeof csvError.code === 'string' && csvError.code.startsWith('CSV_')) throw new ManifestError(`not valid CSV (${csvError.message ?? csvError.code})`, where, { cause: error });
    throw error;
  } finally {
    text.destroy();
  }
}

// The row as it was before failed.csv protected it; the row itself (no copy) when no cell starts with "'".
function restoredCells(record: Record<string, string>): Record<string, string> {
  for (const name in record) {
    if (record[name]!.charCodeAt(0) === 0x27) return Object.fromEntries(Object.entries(record).map(([key, cell]) => [key, fromSpreadsheetSafeCell(cell)]));
  }
  return record;
}

async function* textOf(source: AsyncIterable<ManifestLine>): AsyncGenerator<string> {
  for await (const { text } of source) yield `${text}\n`;
}
