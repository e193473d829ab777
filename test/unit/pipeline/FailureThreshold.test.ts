import { describe, expect, it } from 'vitest';
import { FailureThreshold } from '../../../lib/pipeline/FailureThreshold.js';

describe('FailureThreshold', () => {
  it('does not judge before minAttempted IDs, however bad', () => {
    const threshold = new FailureThreshold({ minAttempted: 10, maxFailureRate: 0.5 });
    for (let i = 0; i < 9; i += 1) expect(threshold.observe('failed')).toBeUndefined();
    expect(threshold.observe('failed')?.attempted).toBe(10);
  });

  it('stops when the failure rate goes over the threshold, and stays stopped', () => {
    // Prepare
    const threshold = new FailureThreshold({ minAttempted: 4, maxFailureRate: 0.5 });

    // Act
    const seen = (['deleted', 'failed', 'already_deleted', 'failed', 'failed', 'deleted'] as const).map((outcome) => threshold.observe(outcome));

    // Assess: 2 of 4 is not over 50%; 3 of 5 is.
    expect(seen.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(seen[4]).toMatchObject({ attempted: 5, failed: 3, rate: 0.6 });
    expect(seen[5]).toBe(seen[4]);
    expect(seen[4]?.reason).toMatch(/3 of the first 5 IDs attempted failed \(60\.0%, over the threshold of 50\.0%\)/);
  });

  it('counts already_deleted as a success', () => {
    const threshold = new FailureThreshold({ minAttempted: 2, maxFailureRate: 0 });
    expect(threshold.observe('already_deleted')).toBeUndefined();
    expect(threshold.observe('already_deleted')).toBeUndefined();
    expect(threshold.observe('failed')).toBeDefined();
  });

  it('counts an ID left unresolved in a batch refused as not found as attempted, not failed (the not-found threshold judges it)', () => {
    const threshold = new FailureThreshold({ minAttempted: 2, maxFailureRate: 0 });
    expect(threshold.observe('failed', 'NOT_FOUND_UNRESOLVED')).toBeUndefined();
    expect(threshold.observe('failed', 'NOT_FOUND_UNRESOLVED')).toBeUndefined();
    expect(threshold.state).toEqual({ attempted: 2, failed: 0 });
    expect(threshold.observe('failed', 'ModelArts.0104')).toMatchObject({ attempted: 3, failed: 1 });
  });

  it('refuses nonsense settings', () => {
    expect(() => new FailureThreshold({ minAttempted: 0, maxFailureRate: 0.5 })).toThrow(RangeError);
    expect(() => new FailureThreshold({ minAttempted: 1, maxFailureRate: 1.5 })).toThrow(RangeError);
  });
});
