import { describe, expect, it } from 'vitest';
import type { OutcomeRecord } from '../../lib/outcome.js';
import { OutcomeTally } from '../../lib/outcomeTally.js';

const record = (position: number, outcome: OutcomeRecord['outcome'], extra: Partial<OutcomeRecord> = {}): OutcomeRecord => ({
  imageId: `id-${position}`,
  position,
  outcome,
  ...extra,
});

describe('OutcomeTally', () => {
  it('starts with every count at zero and no failures', () => {
    // Act
    const tally = new OutcomeTally();

    // Assess
    expect(tally.counts).toEqual({ deleted: 0, already_deleted: 0, failed: 0, invalid: 0, duplicate: 0 });
    expect(tally.failures).toEqual([]);
    expect(tally.total).toBe(0);
  });

  it('counts each outcome and totals them', () => {
    // Prepare
    const tally = new OutcomeTally();

    // Act
    tally.recordAll([
      record(1, 'deleted'),
      record(2, 'deleted'),
      record(3, 'already_deleted'),
      record(4, 'failed', { errorCode: 'ModelArts.0104', errorMessage: 'bad' }),
      record(5, 'invalid', { errorCode: 'INVALID_IMAGE_ID', errorMessage: 'empty string' }),
      record(6, 'duplicate'),
      record(7, 'deleted'),
    ]);

    // Assess
    expect(tally.counts).toEqual({ deleted: 3, already_deleted: 1, failed: 1, invalid: 1, duplicate: 1 });
    expect(tally.total).toBe(7);
  });

  it('keeps only failed and invalid records as failures, in the order they were settled', () => {
    // Prepare
    const tally = new OutcomeTally();
    const invalid = record(9, 'invalid', { errorCode: 'INVALID_IMAGE_ID' });
    const failed = record(2, 'failed', { errorCode: 'HTTP_500' });

    // Act
    tally.record(record(1, 'deleted'));
    tally.record(invalid);
    tally.record(record(3, 'already_deleted'));
    tally.record(record(4, 'duplicate'));
    tally.record(failed);

    // Assess
    expect(tally.failures).toEqual([invalid, failed]);
  });

  it('accepts any iterable in recordAll', () => {
    // Prepare
    const tally = new OutcomeTally();
    function* records(): Generator<OutcomeRecord> {
      yield record(1, 'deleted');
      yield record(2, 'failed');
    }

    // Act
    tally.recordAll(records());

    // Assess
    expect(tally.counts.deleted).toBe(1);
    expect(tally.counts.failed).toBe(1);
    expect(tally.failures).toHaveLength(1);
  });
});
