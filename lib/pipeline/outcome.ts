/**
 * What happened to one entry of a job. Every entry a job receives ends in exactly one outcome:
 * - `deleted`: the service confirmed the delete;
 * - `already_deleted`: the service said the image does not exist (ModelArts.4420), so it is gone;
 * - `failed`: the service refused it, or retries ran out; see the error code;
 * - `invalid`: not a well-formed image ID; never sent to the service;
 * - `duplicate`: the same ID appeared earlier in the job; handled there;
 * - `skipped`: not attempted, because the job stopped (its failure threshold was crossed);
 * - `would_delete`: a dry run's answer for a valid ID: it would have been sent.
 */
export type DeleteOutcome = 'deleted' | 'already_deleted' | 'failed' | 'invalid' | 'duplicate' | 'skipped' | 'would_delete';

/** All outcomes, in report order. */
export const DELETE_OUTCOMES: readonly DeleteOutcome[] = ['deleted', 'already_deleted', 'failed', 'invalid', 'duplicate', 'skipped', 'would_delete'];

/** An image ID with its 1-based position in the job's input, carried so reports can point at it. */
export interface ImageRef {
  id: string;
  position: number;
}

/** The outcome of one entry, with the error that caused it when there was one. */
export interface OutcomeRecord {
  /** The entry as received (for `invalid`, a printable rendering of whatever it was). */
  imageId: string;
  /** 1-based position in the job's input. */
  position: number;
  outcome: DeleteOutcome;
  errorCode?: string;
  errorMessage?: string;
}

/** Counts per outcome; their sum equals the entries received. */
export type OutcomeCounts = Record<DeleteOutcome, number>;
