import type { Config } from '../config/config.js';
import { JobValidationError } from '../core/errors.js';
import { CompactIdSet } from '../pipeline/CompactIdSet.js';

/**
 * What one process of a job holds whatever the job's size, MiB: the runtime and the bundle loaded
 * (71 MiB, 51 of them the node binary's pages), the report files' part buffers (6 MiB), V8's young
 * generation and the old generation's slack, buffers awaiting collection. Measured by `npm run
 * bench:manifest` (docs/throughput.md "Memory"): peak RSS of a 1,000,000-entry job (at most 124.8
 * MiB in five runs) less its de-duplication table (19.1 MiB), rounded up.
 */
export const FIXED_MIB = 110;

/**
 * Bytes one entry of an unsplit job costs at most: its 16-byte slot in the de-duplication table at
 * 80% load ({@link CompactIdSet.BYTES_PER_ID}, 20 bytes), and 12 bytes for its line when it was
 * normalised (lib/job/ResumedScreen.ts keeps those lines in an array that grows by half).
 */
export const BYTES_PER_ENTRY = CompactIdSet.BYTES_PER_ID + 12;

// A fifth of the function's memory is left free: V8 collects garbage late, and RSS is not freed
// the moment the heap is.
const HEADROOM = 0.2;

/**
 * How many entries an unsplit job (or one part of a split job) may hold in this function's memory,
 * from `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (Lambda's memory size, in MiB, which Lambda calls MB):
 * 80% of it, less {@link FIXED_MIB}, at {@link BYTES_PER_ENTRY} each. With no memory size known
 * (not on Lambda), no bound: `Infinity`. E.g. 512 MB (the functions'): 9,817,292 entries; 1,024 MB: 23,239,065.
 */
export function unsplitEntryCapacity(config: Pick<Config, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE'>): number {
  const memoryMiB = config.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
  if (memoryMiB === undefined) return Number.POSITIVE_INFINITY;
  const spareMiB = memoryMiB * (1 - HEADROOM) - FIXED_MIB;
  return Math.max(0, Math.floor((spareMiB * 1024 * 1024) / BYTES_PER_ENTRY));
}

/**
 * The refusal of a job that must run unsplit (no work queue, or `options.scaleOut: false`) but
 * would not fit in this function's memory: it is refused before anything is deleted, not started
 * to die at the memory limit on every retry.
 *
 * @param why - What keeps it unsplit.
 */
export function tooBigUnsplit(entries: number, config: Pick<Config, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE'>, why: 'no_queue' | 'scale_out_false'): JobValidationError {
  const capacity = unsplitEntryCapacity(config);
  const memory = `${config.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '?'} MB`;
  const remedy = why === 'no_queue' ? 'configure the work queue (WORK_QUEUE_URL) so that it is split into parts, give the function more memory, or split the manifest' : 'let it be split (leave out options.scaleOut: false), give the function more memory, or split the manifest';
  return new JobValidationError([
    {
      path: why === 'no_queue' ? 'manifest' : 'options.scaleOut',
      message: `the job holds ${entries} entries; run unsplit, this function's ${memory} holds at most ${capacity} (${BYTES_PER_ENTRY} bytes an entry beyond ${FIXED_MIB} MiB, a fifth kept free): ${remedy}`,
    },
  ], { code: 'JOB_TOO_BIG' });
}
