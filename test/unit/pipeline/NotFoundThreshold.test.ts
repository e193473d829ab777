import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../../lib/core/errors.js';
import { NOT_FOUND_UNRESOLVED } from '../../../lib/pipeline/deleteChunk.js';
import { NotFoundThreshold, stricterNotFoundThreshold } from '../../../lib/pipeline/NotFoundThreshold.js';
import type { OutcomeRecord } from '../../../lib/pipeline/outcome.js';

const gone: Pick<OutcomeRecord, 'outcome'> = { outcome: 'already_deleted' };
const deleted: Pick<OutcomeRecord, 'outcome'> = { outcome: 'deleted' };
const unresolved: Pick<OutcomeRecord, 'outcome' | 'errorCode'> = { outcome: 'failed', errorCode: NOT_FOUND_UNRESOLVED };
const refused: Pick<OutcomeRecord, 'outcome' | 'errorCode'> = { outcome: 'failed', errorCode: 'ModelArts.0104' };

describe('NotFoundThreshold', () => {
  it('does not judge before minAttempted IDs, however many were not found', () => {
    const threshold = new NotFoundThreshold({ minAttempted: 10, maxNotFoundRate: 0.9 });
    for (let i = 0; i < 9; i += 1) expect(threshold.observe(gone)).toBeUndefined();
    expect(threshold.observe(gone)).toMatchObject({ attempted: 10, notFound: 10, rate: 1 });
  });

  it('stops when the not-found share goes over the rate, says so in figures, and stays stopped', () => {
    // Prepare
    const threshold = new NotFoundThreshold({ minAttempted: 4, maxNotFoundRate: 0.5 });

    // Act: 2 of 4 is not over 50%; 3 of 5 is.
    const seen = [gone, deleted, unresolved, deleted, gone, deleted].map((record) => threshold.observe(record));

    // Assess
    expect(seen.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(seen[4]).toMatchObject({ attempted: 5, notFound: 3, rate: 0.6 });
    expect(seen[5]).toBe(seen[4]);
    expect(seen[4]?.reason).toBe('3 of the first 5 IDs attempted were not found (60.0%, over the threshold of 50.0%)');
  });

  it('counts already_deleted and NOT_FOUND_UNRESOLVED as not found, any other failure as attempted only', () => {
    const threshold = new NotFoundThreshold({ minAttempted: 100, maxNotFoundRate: 0.9 });
    for (const record of [gone, unresolved, refused, deleted]) threshold.observe(record);
    expect(threshold.state).toEqual({ attempted: 4, notFound: 2 });
  });

  it('ignores entries never sent: invalid, duplicate, skipped, would_delete', () => {
    const threshold = new NotFoundThreshold({ minAttempted: 1, maxNotFoundRate: 0 });
    for (const outcome of ['invalid', 'duplicate', 'skipped', 'would_delete'] as const) expect(threshold.observe({ outcome })).toBeUndefined();
    expect(threshold.state).toEqual({ attempted: 0, notFound: 0 });
  });

  it('never stops at a rate of 1, even when every ID was not found', () => {
    const threshold = new NotFoundThreshold({ minAttempted: 1, maxNotFoundRate: 1 });
    for (let i = 0; i < 1000; i += 1) expect(threshold.observe(gone)).toBeUndefined();
  });

  it('goes on from a checkpoint, and judges it at once (a job cut right after crossing stops in its next invocation)', () => {
    const resumed = new NotFoundThreshold({ minAttempted: 300, maxNotFoundRate: 0.9 }, { attempted: 200, notFound: 200 });
    expect(resumed.crossed).toBeUndefined();
    for (let i = 0; i < 99; i += 1) expect(resumed.observe(gone)).toBeUndefined();
    expect(resumed.observe(gone)).toMatchObject({ attempted: 300, notFound: 300 });
    const crossedBefore = new NotFoundThreshold({ minAttempted: 100, maxNotFoundRate: 0.9 }, { attempted: 100, notFound: 95 });
    expect(crossedBefore.crossed).toMatchObject({ attempted: 100, notFound: 95 });
  });

  it('refuses nonsense settings', () => {
    expect(() => new NotFoundThreshold({ minAttempted: 0, maxNotFoundRate: 0.9 })).toThrow(RangeError);
    expect(() => new NotFoundThreshold({ minAttempted: 1.5, maxNotFoundRate: 0.9 })).toThrow(RangeError);
    expect(() => new NotFoundThreshold({ minAttempted: 1, maxNotFoundRate: 1.5 })).toThrow(RangeError);
  });
});

describe('stricterNotFoundThreshold', () => {
  const deployment = { minAttempted: 100, maxNotFoundRate: 0.9 };

  it("is the deployment's without a job setting", () => {
    expect(stricterNotFoundThreshold(deployment)).toEqual(deployment);
  });

  it("takes a job's stricter settings: judged sooner, or stopping at a lower rate", () => {
    expect(stricterNotFoundThreshold(deployment, { minAttempted: 20 })).toEqual({ minAttempted: 20, maxNotFoundRate: 0.9 });
    expect(stricterNotFoundThreshold(deployment, { maxNotFoundRate: 0.5 })).toEqual({ minAttempted: 100, maxNotFoundRate: 0.5 });
    expect(stricterNotFoundThreshold(deployment, { minAttempted: 100, maxNotFoundRate: 0.9 })).toEqual(deployment);
  });

  it('refuses a job that would loosen it, naming each setting, so nothing is sent', () => {
    // Act
    const refusal = (() => {
      try {
        stricterNotFoundThreshold(deployment, { minAttempted: 1000, maxNotFoundRate: 1 });
      } catch (error) {
        return error;
      }
      return undefined;
    })();

    // Assess
    expect(refusal).toBeInstanceOf(JobValidationError);
    expect((refusal as JobValidationError).issues.map((issue) => issue.path)).toEqual(['options.notFoundThreshold.minAttempted', 'options.notFoundThreshold.maxNotFoundRate']);
    expect((refusal as JobValidationError).message).toMatch(/only make the not-found threshold stricter/);
  });
});
