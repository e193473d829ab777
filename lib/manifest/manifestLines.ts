import { isUtf8 } from 'node:buffer';
import { ManifestError } from './ManifestError.js';
import type { ManifestReadLimits } from './ManifestReadLimits.js';

/** One line of a manifest: its 1-based number and its text (line end and first-line BOM removed). */
export interface ManifestLine {
  line: number;
  text: string;
}

/**
 * Splits bytes into lines at LF (a byte that never occurs inside a multi-byte UTF-8 character),
 * checks each line is UTF-8, strips a CR before the LF and a BOM on the first line. Refuses a line
 * longer than `maxLineBytes` as soon as it is — not once its end arrives, which may be a gigabyte
 * later — and more than `maxLines` lines, blank ones included: a gzip of blank lines holds no
 * entry, yet costs a step each.
 *
 * @throws {ManifestError} naming the line.
 */
export async function* manifestLines(bytes: AsyncIterable<Buffer>, limits: Pick<ManifestReadLimits, 'maxLineBytes' | 'maxLines' | 'permittedEntries'>): AsyncGenerator<ManifestLine> {
  const { maxLineBytes, maxLines } = limits;
  // The bytes of an unfinished line from earlier chunks; short (bounded by maxLineBytes), so
  // joining it costs little, where joining every chunk to it would copy the whole manifest once more.
  let carry: Buffer[] = [];
  let carried = 0;
  let line = 0;
  const next = (): number => {
    line += 1;
    if (line > maxLines) {
      throw new ManifestError(
        `the manifest has more than ${maxLines} lines (blank lines included): more than the ${limits.permittedEntries} entries this job may hold could need at two lines each; a job of more entries needs options.confirmEntries set to their number`,
        { line },
      );
    }
    return line;
  };
  const tooLong = () => new ManifestError(`the line is longer than ${maxLineBytes} bytes (MANIFEST_MAX_LINE_BYTES)`, { line: line + 1 });
  for await (const chunk of bytes) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, end);
      const whole = carried === 0 ? piece : Buffer.concat([...carry, piece]);
      // A CR before the LF is part of the line end.
      if (whole.length - (whole[whole.length - 1] === 0x0d ? 1 : 0) > maxLineBytes) throw tooLong();
      yield { line: next(), text: decodeLine(whole, line) };
      carry = [];
      carried = 0;
      start = end + 1;
    }
    if (start < chunk.length) {
      // A copy, not a view: a view would keep the whole chunk alive for a few bytes.
      carry.push(Buffer.from(chunk.subarray(start)));
      carried += chunk.length - start;
      // One byte of slack: the line may yet end with CR LF.
      if (carried > maxLineBytes + 1) throw tooLong();
    }
  }
  if (carried > 0) {
    const whole = Buffer.concat(carry);
    if (whole.length > maxLineBytes) throw tooLong();
    yield { line: next(), text: decodeLine(whole, line) };
  }
}

function decodeLine(bytes: Buffer, line: number): string {
  if (!isUtf8(bytes)) throw new ManifestError('the bytes are not valid UTF-8 text', { line });
  let text = bytes.toString('utf8');
  if (line === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}
