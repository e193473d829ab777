/** An image (v1) or sample (v2) ID as the annotation service writes it: 32 lowercase hex characters. */
export type ImageId = string;

/** The shape every known image ID has (inferred from the documentation's examples; see docs/limits.md). */
export const IMAGE_ID_PATTERN = /^[0-9a-f]{32}$/;

/** Result of checking one candidate ID: the ID, or why it was refused. */
export type ImageIdCheck = { ok: true; id: ImageId } | { ok: false; reason: string };

/**
 * Checks one candidate image ID and says precisely what is wrong with it, so a user can fix the
 * input. Never throws.
 *
 * @param candidate - Anything found where an image ID was expected.
 */
export function checkImageId(candidate: unknown): ImageIdCheck {
  if (typeof candidate !== 'string') {
    return { ok: false, reason: `expected a string, got ${describeType(candidate)}` };
  }
  if (IMAGE_ID_PATTERN.test(candidate)) return { ok: true, id: candidate };
  if (candidate.length === 0) return { ok: false, reason: 'empty string' };
  if (candidate.trim() !== candidate) return { ok: false, reason: 'has leading or trailing whitespace' };
  if (candidate.length !== 32) {
    return { ok: false, reason: `expected 32 hexadecimal characters, got ${candidate.length}` };
  }
  if (/^[0-9a-fA-F]{32}$/.test(candidate)) return { ok: false, reason: 'contains upper-case hexadecimal characters' };
  const bad = [...candidate].find((ch) => !/[0-9a-f]/.test(ch));
  return { ok: false, reason: `contains a character that is not hexadecimal: ${JSON.stringify(bad)}` };
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

// One array or object being written: its values (an object's written keys alongside), the next one, its closing bracket.
interface Frame {
  values: readonly unknown[];
  keys: readonly string[] | undefined;
  next: number;
  close: string;
}

/**
 * Any entry as JSON text, as `JSON.stringify` writes a parsed JSON value (`null` for what JSON
 * cannot write) — but built without recursion, so an entry nested 10,000 deep is written like any
 * other (`JSON.stringify` overflows the stack on it), and cut to `maxChars` with `...`, so the
 * work is bounded by what is kept. For describing an invalid entry, telling entries apart, or
 * hashing them. Never throws.
 *
 * @param maxChars - Longest result. @default no bound (the whole entry)
 */
export function entryText(entry: unknown, maxChars = Infinity): string {
  let text = '';
  const frames: Frame[] = [];
  let value = entry;
  let writeValue = true;
  while (text.length <= maxChars) {
    if (writeValue) {
      writeValue = false;
      if (Array.isArray(value)) {
        text += '[';
        frames.push({ values: value, keys: undefined, next: 0, close: ']' });
      } else if (typeof value === 'object' && value !== null) {
        const object = value as Record<string, unknown>;
        // As JSON.stringify: keys whose value JSON cannot write are left out.
        const keys = Object.keys(object).filter((key) => writable(object[key]));
        text += '{';
        frames.push({ values: keys.map((key) => object[key]), keys, next: 0, close: '}' });
      } else {
        text += scalarText(value);
      }
    }
    const frame = frames.at(-1);
    if (frame === undefined) break;
    if (frame.next === frame.values.length) {
      text += frame.close;
      frames.pop();
      continue;
    }
    if (frame.next > 0) text += ',';
    if (frame.keys !== undefined) text += `${JSON.stringify(frame.keys[frame.next])}:`;
    value = frame.values[frame.next];
    frame.next += 1;
    writeValue = true;
  }
  return cut(text, maxChars);
}

function writable(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

// As JSON.stringify writes a value that is not an array or object (a BigInt, which it refuses, as digits); null for what JSON cannot write.
function scalarText(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return 'null';
}

function cut(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, Math.max(0, maxChars - 3))}...` : text;
}
