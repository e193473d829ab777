import { describe, expect, it } from 'vitest';
import { backoffDelay, type RetryPolicy } from '../../../lib/pipeline/backoff.js';

const POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 20_000 };
const fixed = (value: number) => () => value;

describe('backoffDelay', () => {
  it.each([
    { retry: 1, ceiling: 200 },
    { retry: 2, ceiling: 400 },
    { retry: 3, ceiling: 800 },
    { retry: 7, ceiling: 12_800 },
  ])('draws from [0, base*2^(retry-1)) for retry $retry (ceiling $ceiling)', ({ retry, ceiling }) => {
    // Act
    const lowest = backoffDelay(retry, POLICY, fixed(0));
    const middle = backoffDelay(retry, POLICY, fixed(0.5));
    const highest = backoffDelay(retry, POLICY, fixed(0.999));

    // Assess
    expect(lowest).toBe(0);
    expect(middle).toBe(ceiling / 2);
    expect(highest).toBe(Math.floor(0.999 * ceiling));
    expect(highest).toBeLessThan(ceiling);
  });

  it('caps the ceiling at maxDelayMs', () => {
    // Act
    const delays = [8, 9, 20, 60].map((retry) => backoffDelay(retry, POLICY, fixed(0.999)));

    // Assess
    expect(delays).toEqual([Math.floor(0.999 * 20_000), Math.floor(0.999 * 20_000), Math.floor(0.999 * 20_000), Math.floor(0.999 * 20_000)]);
    expect(backoffDelay(60, POLICY, fixed(0.5))).toBe(10_000);
  });

  it('stays within [0, min(max, base*2^(n-1))) for many draws', () => {
    // Prepare
    const draws = Array.from({ length: 50 }, (_, i) => i / 50);

    // Act & Assess
    for (let retry = 1; retry <= 12; retry += 1) {
      const ceiling = Math.min(POLICY.maxDelayMs, POLICY.baseDelayMs * 2 ** (retry - 1));
      for (const draw of draws) {
        const delay = backoffDelay(retry, POLICY, fixed(draw));
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });

  it('uses Retry-After as a floor when it exceeds the jittered delay', () => {
    // Act
    const delay = backoffDelay(1, POLICY, fixed(0.5), 5_000);

    // Assess
    expect(delay).toBe(5_000);
  });

  it('keeps the jittered delay when it exceeds Retry-After', () => {
    // Act
    const delay = backoffDelay(4, POLICY, fixed(0.5), 100);

    // Assess
    expect(delay).toBe(800);
  });

  it('honours a Retry-After above maxDelayMs', () => {
    // Act
    const delay = backoffDelay(1, POLICY, fixed(0), 60_000);

    // Assess
    expect(delay).toBe(60_000);
  });

  it('honours a Retry-After of zero as no floor', () => {
    // Act
    const delay = backoffDelay(2, POLICY, fixed(0.5), 0);

    // Assess
    expect(delay).toBe(200);
  });
});
