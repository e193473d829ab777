import { NOT_FOUND_UNRESOLVED } from './deleteChunk.js';

/** Settings of a {@link FailureThreshold}. */
export interface FailureThresholdOptions {
  /** The rate is judged only once this many IDs were attempted. @default 1000 */
  minAttempted: number;
  /** Stop when more than this share (0–1) of attempted IDs failed. @default 0.5 */
  maxFailureRate: number;
}

/** Why a job was stopped by its failure threshold. */
export interface ThresholdCrossed {
  attempted: number;
  failed: number;
  rate: number;
  reason: string;
}

/**
 * A job's failure threshold, like S3 Batch Operations' but configurable: once `minAttempted` IDs
 * were sent to the service, a failure rate over `maxFailureRate` stops the job, so a broken
 * credential or a wrong target cannot burn through a million IDs. Only IDs sent to the service
 * count: `invalid` and `duplicate` entries never reached it, and `already_deleted` is a success.
 * An ID `failed` with `NOT_FOUND_UNRESOLVED` counts as attempted, not failed: the service answered
 * "not found" for its batch, which is the not-found threshold's to judge (NotFoundThreshold.ts).
 */
export class FailureThreshold {
  private attempted = 0;
  private failed = 0;
  private crossedAt: ThresholdCrossed | undefined;

  /** @param state - Attempts counted by earlier invocations of the same job. */
  public constructor(private readonly options: FailureThresholdOptions, state: { attempted: number; failed: number } = { attempted: 0, failed: 0 }) {
    this.attempted = state.attempted;
    this.failed = state.failed;
    // Judged at once: a job cut by the deadline right after crossing must stop in its next invocation.
    this.crossedAt = this.judge();
    if (!(options.maxFailureRate >= 0 && options.maxFailureRate <= 1)) throw new RangeError(`maxFailureRate must be between 0 and 1, got ${options.maxFailureRate}`);
    if (!Number.isInteger(options.minAttempted) || options.minAttempted < 1) throw new RangeError(`minAttempted must be a positive whole number, got ${options.minAttempted}`);
  }

  /**
   * Counts a settled attempt; returns the crossing once (and then forever) it happens.
   *
   * @param errorCode - The code of a `failed` outcome.
   */
  public observe(outcome: 'deleted' | 'already_deleted' | 'failed', errorCode?: string): ThresholdCrossed | undefined {
    if (this.crossedAt) return this.crossedAt;
    this.attempted += 1;
    if (outcome === 'failed' && errorCode !== NOT_FOUND_UNRESOLVED) this.failed += 1;
    this.crossedAt = this.judge();
    return this.crossedAt;
  }

  private judge(): ThresholdCrossed | undefined {
    if (this.attempted === 0) return undefined;
    const rate = this.failed / this.attempted;
    if (this.attempted < this.options.minAttempted || rate <= this.options.maxFailureRate) return undefined;
    return {
      attempted: this.attempted,
      failed: this.failed,
      rate,
      reason: `${this.failed} of the first ${this.attempted} IDs attempted failed (${(rate * 100).toFixed(1)}%, over the threshold of ${(this.options.maxFailureRate * 100).toFixed(1)}%)`,
    };
  }

  /** Attempts counted so far, for a checkpoint. */
  public get state(): { attempted: number; failed: number } {
    return { attempted: this.attempted, failed: this.failed };
  }

  /** The crossing, once it happened. */
  public get crossed(): ThresholdCrossed | undefined {
    return this.crossedAt;
  }
}
