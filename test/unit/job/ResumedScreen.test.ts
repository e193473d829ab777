import { describe, expect, it } from 'vitest';
import { ResumedScreen } from '../../../lib/job/ResumedScreen.js';
import { imageIds } from '../../support/stackDeps.js';

// Pure: no servers. The screen of one invocation of a job resumed after line `resumeAfter`.
describe('ResumedScreen', () => {
  const ids = imageIds('resumed', 10).map((id) => id.toUpperCase());

  it('screens as EntryScreen does, repeats across the resume line included', () => {
    // Prepare
    const screen = new ResumedScreen(10, 3);

    // Act
    const outcomes = [...ids.slice(0, 5), ids[1]].map((id, i) => screen.screen(id, i + 1).kind);

    // Assess
    expect(outcomes).toEqual(['valid', 'valid', 'valid', 'valid', 'valid', 'settled']);
    expect(screen.normalized).toBe(6);
  });

  it('counts the normalised entries after resumeAfter and up to settledThrough only', () => {
    // Prepare: lines 1-3 were settled by an earlier invocation; this one settles 4-7, and reads 8-10 too.
    const screen = new ResumedScreen(10, 3);
    for (const [i, id] of ids.entries()) screen.screen(i % 2 === 0 ? id : id.toLowerCase(), i + 1);

    // Act / Assess: lines 5 and 7 were normalised (upper case) in 4..7; 9 comes after settledThrough.
    expect(screen.normalizedThrough(7)).toBe(2);
    expect(screen.normalizedThrough(3)).toBe(0);
    expect(screen.normalizedThrough(Number.POSITIVE_INFINITY)).toBe(3);
    expect(screen.normalized).toBe(5);
  });
});
