import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactIdSet } from '../../../lib/pipeline/CompactIdSet.js';

const hexId = fc.stringMatching(/^[0-9a-f]{32}$/);

describe('CompactIdSet', () => {
  it('behaves as a Set<string> of lower-cased IDs over random sequences, across growth', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(hexId, fc.constantFrom('0'.repeat(32), 'f'.repeat(32), 'ABCDEF0123456789ABCDEF0123456789')), { maxLength: 400 }), (ids) => {
        // Prepare
        const compact = new CompactIdSet(4);
        const reference = new Set<string>();

        for (const id of ids) {
          // Act
          const added = compact.add(id);

          // Assess
          expect(added).toBe(!reference.has(id.toLowerCase()));
          reference.add(id.toLowerCase());
        }
        expect(compact.size).toBe(reference.size);
        for (const id of reference) expect(compact.has(id)).toBe(true);
      }),
      { numRuns: 200, seed: 20261128 },
    );
  });

  it('does not hold what was never added', () => {
    // Prepare
    const set = new CompactIdSet();
    set.add('0'.repeat(32));

    // Assess
    expect(set.has('0'.repeat(31) + '1')).toBe(false);
    expect(set.has('0'.repeat(32))).toBe(true);
  });

  it('keeps a million IDs in 20 bytes each when sized for them, counting every distinct one once', () => {
    // Prepare
    const set = new CompactIdSet(1_000_000);
    const md5 = (i: number) => createHash('md5').update(String(i)).digest('hex');

    // Act
    for (let i = 0; i < 1_000_000; i += 1) set.add(md5(i));
    const repeated = [0, 1, 999_999].map((i) => set.add(md5(i)));

    // Assess
    expect(set.size).toBe(1_000_000);
    expect(repeated).toEqual([false, false, false]);
    expect(set.byteLength).toBe(1_000_000 * CompactIdSet.BYTES_PER_ID);
    expect(CompactIdSet.BYTES_PER_ID).toBe(20);
  });

  it('answers repeats without growing once full, and grows for a new ID', () => {
    // Prepare
    const set = new CompactIdSet(100);
    const ids = Array.from({ length: 100 }, (_, i) => createHash('md5').update(String(i)).digest('hex'));
    for (const id of ids) set.add(id);
    const full = set.byteLength;

    // Act
    const repeats = ids.map((id) => set.add(id));
    const afterRepeats = set.byteLength;
    const added = set.add(createHash('md5').update('new').digest('hex'));

    // Assess
    expect(repeats.every((result) => !result)).toBe(true);
    expect(afterRepeats).toBe(full);
    expect(added).toBe(true);
    expect(set.byteLength).toBe(2 * full);
    expect(set.size).toBe(101);
    for (const id of ids) expect(set.has(id)).toBe(true);
  });

  it('refuses what is not a 32-character hexadecimal ID', () => {
    const set = new CompactIdSet();
    expect(() => set.add('xyz')).toThrow(RangeError);
    expect(() => set.add('g'.repeat(32))).toThrow(RangeError);
    expect(() => set.add(`${'0'.repeat(31)}/`)).toThrow(RangeError);
    expect(() => set.add(`${'0'.repeat(31)}:`)).toThrow(RangeError);
    expect(() => set.has(`${'a'.repeat(31)}G`)).toThrow(RangeError);
  });
});
