import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter } from '../../../lib/modelarts/adaptiveLimiter.js';
import { PaceMemory } from '../../../lib/modelarts/PaceMemory.js';
import { virtualClock } from '../../support/virtualClock.js';

describe('PaceMemory', () => {
  const clock = virtualClock({ sleeps: 'wait', start: 1_000_000 });
  const carry = (limit: number) => new AdaptiveLimiter({ min: 1, max: 64, initial: limit }, clock).carry();
  const key = PaceMemory.keyOf('https://modelarts.example', 'p1');

  it('recalls what was kept under the key, the latest in place of the earlier', () => {
    // Prepare
    const pace = new PaceMemory();

    // Act
    pace.keep(key, carry(3));
    pace.keep(key, carry(5));

    // Assess
    expect(pace.recall(key, 1_000_000)?.limit).toBe(5);
    expect(pace.recall(PaceMemory.keyOf('https://modelarts.example', 'p2'), 1_000_000)).toBeUndefined();
    expect(pace.recall(PaceMemory.keyOf('https://other.example', 'p1'), 1_000_000)).toBeUndefined();
  });

  it('forgets a pace older than its maximum age', () => {
    // Prepare
    const pace = new PaceMemory(60_000);
    pace.keep(key, carry(3));

    // Act, Assess: kept at 1,000,000; recalled up to 60 s later, not after.
    expect(pace.recall(key, 1_060_000)?.limit).toBe(3);
    expect(pace.recall(key, 1_060_001)).toBeUndefined();
    expect(pace.recall(key, 1_000_000)).toBeUndefined();
  });

  it('holds at most 64 keys, forgetting the least recently kept', () => {
    // Prepare
    const pace = new PaceMemory();

    // Act: 65 keys, the first kept again after the second.
    for (let i = 0; i < 65; i += 1) {
      pace.keep(`k${i}`, carry(2));
      if (i === 1) pace.keep('k0', carry(2));
    }

    // Assess
    expect(pace.recall('k0', 1_000_000)).toBeDefined();
    expect(pace.recall('k1', 1_000_000)).toBeUndefined();
    expect(pace.recall('k64', 1_000_000)).toBeDefined();
  });
});
