import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../../lib/core/errors.js';
import { BYTES_PER_ENTRY, FIXED_MIB, tooBigUnsplit, unsplitEntryCapacity } from '../../../lib/job/unsplitCapacity.js';

describe('unsplitEntryCapacity', () => {
  it('gives 80% of the memory less the fixed cost, at the cost of an entry', () => {
    expect(BYTES_PER_ENTRY).toBe(32);
    expect(unsplitEntryCapacity({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 1024 })).toBe(Math.floor(((1024 * 0.8 - FIXED_MIB) * 1024 * 1024) / 32));
    expect(unsplitEntryCapacity({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 512 })).toBeLessThan(unsplitEntryCapacity({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 1024 }) / 2);
  });

  it('holds the benchmark million in the memory the functions are given, and nothing in memory below the fixed cost', () => {
    expect(unsplitEntryCapacity({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 512 })).toBeGreaterThan(1_000_000);
    expect(unsplitEntryCapacity({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 128 })).toBe(0);
  });

  it('bounds nothing off Lambda', () => {
    expect(unsplitEntryCapacity({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: undefined })).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses a job too big to run unsplit with a clear error naming the memory, the capacity and the remedy', () => {
    const error = tooBigUnsplit(30_000_000, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 1024 }, 'no_queue');
    expect(error).toBeInstanceOf(JobValidationError);
    expect(error.code).toBe('JOB_TOO_BIG');
    expect(error.message).toContain('30000000 entries');
    expect(error.message).toContain('1024 MB');
    expect(error.message).toContain(String(unsplitEntryCapacity({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 1024 })));
    expect(error.message).toContain('WORK_QUEUE_URL');
    expect(tooBigUnsplit(30_000_000, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 1024 }, 'scale_out_false').issues[0]?.path).toBe('options.scaleOut');
  });
});
