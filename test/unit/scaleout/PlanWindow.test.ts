import { describe, expect, it } from 'vitest';
import { PlanWindow } from '../../../lib/scaleout/PlanWindow.js';

describe('PlanWindow', () => {
  it('hands out each slot that got lines once, in slot order, its lines in the order they were added', () => {
    // Prepare
    const window = new PlanWindow(1_000, 4);
    const added: Array<[number, string]> = [[2, 'a\n'], [0, 'bb\n'], [2, 'ccc\n'], [3, 'd\n'], [0, 'e\n']];

    // Act
    for (const [slot, line] of added) window.add(slot, line);
    const segments = [...window.segments()].map(({ slot, bytes, lines }) => [slot, bytes.toString('latin1'), lines]);

    // Assess: slot 1 got nothing, so it has no segment.
    expect(segments).toEqual([[0, 'bb\ne\n', 2], [2, 'a\nccc\n', 2], [3, 'd\n', 1]]);
    expect(window.bytes).toBe(13);
  });

  it('is full at its capacity, and empty again after clear (also past its first 1,024 lines)', () => {
    // Prepare
    const window = new PlanWindow(3_000, 2);

    // Act
    for (let i = 0; i < 1_500; i += 1) window.add(i % 2, 'xy\n');
    const full = window.full;
    window.clear();
    window.add(1, 'z\n');

    // Assess
    expect(full).toBe(true);
    expect(window.full).toBe(false);
    expect([...window.segments()].map(({ slot, bytes }) => [slot, bytes.toString('latin1')])).toEqual([[1, 'z\n']]);
  });
});
