import { describe, expect, it } from 'vitest';
import { DELETE_OUTCOMES, type OutcomeRecord } from '../../../lib/pipeline/outcome.js';
import { OutcomeTally } from '../../../lib/pipeline/OutcomeTally.js';

const record = (outcome: OutcomeRecord['outcome'], position: number): OutcomeRecord => ({ imageId: `id-${position}`, position, outcome });

describe('OutcomeTally', () => {
  it('starts with every outcome at zero', () => {
    const tally = new OutcomeTally();
    expect(tally.counts).toEqual(Object.fromEntries(DELETE_OUTCOMES.map((outcome) => [outcome, 0])));
    expect(tally.total).toBe(0);
  });

  it('counts each record under its outcome', () => {
    // Prepare
    const tally = new OutcomeTally();

    // Act
    tally.recordAll([record('deleted', 1), record('deleted', 2), record('invalid', 3), record('skipped', 4), record('would_delete', 5)]);

    // Assess
    expect(tally.counts).toMatchObject({ deleted: 2, invalid: 1, skipped: 1, would_delete: 1, failed: 0 });
    expect(tally.total).toBe(5);
  });

  it('goes on from the counts of earlier invocations', () => {
    const tally = new OutcomeTally({ deleted: 10, already_deleted: 1, failed: 2, invalid: 0, duplicate: 3, skipped: 0, would_delete: 0 });
    tally.record(record('deleted', 17));
    expect(tally.counts.deleted).toBe(11);
    expect(tally.total).toBe(17);
  });
});
