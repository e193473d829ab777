import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkImageId, entryText, IMAGE_ID_PATTERN } from '../../../lib/pipeline/imageId.js';

const VALID_ID = '0123456789abcdef0123456789abcdef';

describe('checkImageId', () => {
  it('accepts 32 lowercase hexadecimal characters and returns the ID unchanged', () => {
    // Prepare
    const candidate = 'ffffffffffffffffffffffffffffffff';

    // Act
    const result = checkImageId(candidate);

    // Assess
    expect(result).toEqual({ ok: true, id: candidate });
    expect(IMAGE_ID_PATTERN.test(candidate)).toBe(true);
  });

  it.each([
    { candidate: 42, reason: 'expected a string, got a number' },
    { candidate: null, reason: 'expected a string, got null' },
    { candidate: undefined, reason: 'expected a string, got a undefined' },
    { candidate: { id: VALID_ID }, reason: 'expected a string, got an object' },
    { candidate: [VALID_ID], reason: 'expected a string, got an array' },
    { candidate: true, reason: 'expected a string, got a boolean' },
  ])('refuses a non-string ($reason)', ({ candidate, reason }) => {
    // Act
    const result = checkImageId(candidate);

    // Assess
    expect(result).toEqual({ ok: false, reason });
  });

  it('refuses an empty string', () => {
    // Act
    const result = checkImageId('');

    // Assess
    expect(result).toEqual({ ok: false, reason: 'empty string' });
  });

  it.each([` ${VALID_ID}`, `${VALID_ID} `, `${VALID_ID}\n`, `\t${VALID_ID}`])('refuses leading or trailing whitespace (%j)', (candidate) => {
    // Act
    const result = checkImageId(candidate);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'has leading or trailing whitespace' });
  });

  it.each([
    { candidate: VALID_ID.slice(0, 31), length: 31 },
    { candidate: `${VALID_ID}0`, length: 33 },
    { candidate: 'abc', length: 3 },
  ])('refuses a wrong length and names the length ($length)', ({ candidate, length }) => {
    // Act
    const result = checkImageId(candidate);

    // Assess
    expect(result.ok).toBe(false);
    expect(result).toEqual({ ok: false, reason: `expected 32 hexadecimal characters, got ${length}` });
  });

  it('refuses upper-case hexadecimal characters', () => {
    // Prepare
    const candidate = VALID_ID.toUpperCase();

    // Act
    const result = checkImageId(candidate);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'contains upper-case hexadecimal characters' });
  });

  it('refuses a non-hexadecimal character and names it', () => {
    // Prepare
    const candidate = `${VALID_ID.slice(0, 10)}g${VALID_ID.slice(11)}`;

    // Act
    const result = checkImageId(candidate);

    // Assess
    expect(candidate).toHaveLength(32);
    expect(result).toEqual({ ok: false, reason: 'contains a character that is not hexadecimal: "g"' });
  });

  it('refuses an inner space as a non-hexadecimal character, not as surrounding whitespace', () => {
    // Prepare
    const candidate = `${VALID_ID.slice(0, 16)} ${VALID_ID.slice(17)}`;

    // Act
    const result = checkImageId(candidate);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'contains a character that is not hexadecimal: " "' });
  });
});

describe('entryText', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = VALID_ID;
    for (let i = 0; i < depth; i += 1) value = [value];
    return value;
  };

  it('writes any parsed JSON value as JSON.stringify does', () => {
    // Act and Assess
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(entryText(value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
    expect(entryText({ a: undefined, b: [undefined, 1, Infinity], c: 'x"y' })).toBe(JSON.stringify({ a: undefined, b: [undefined, 1, Infinity], c: 'x"y' }));
    expect(entryText(undefined)).toBe('null');
  });

  it('writes an entry nested 10,000 deep without overflowing the stack, where JSON.stringify does', () => {
    // Prepare
    const deep = nested(10_000);

    // Act
    const text = entryText(deep);

    // Assess
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(text).toBe(`${'['.repeat(10_000)}"${VALID_ID}"${']'.repeat(10_000)}`);
    expect(checkImageId(deep)).toEqual({ ok: false, reason: 'expected a string, got an array' });
  });

  it('stops at maxChars, with "..." at the cut, however deep or long the entry', () => {
    // Act
    const deep = entryText(nested(1_000_000), 80);
    const long = entryText(Array.from({ length: 100_000 }, () => VALID_ID), 80);

    // Assess
    expect(deep).toBe(`${'['.repeat(77)}...`);
    expect(long).toHaveLength(80);
    expect(long.endsWith('...')).toBe(true);
    expect(entryText('x'.repeat(100), 10)).toBe('"xxxxxx...');
  });
});
