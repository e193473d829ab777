import { JobValidationError } from '../core/errors.js';
import { NOT_FOUND_UNRESOLVED } from './deleteChunk.js';
import type { OutcomeRecord } from './outcome.js';

/** Settings of a {@link NotFoundThreshold}. */
export interface NotFoundThresholdOptions {
  /** The rate is judged only once this many IDs were attempted. @default 100 */
  minAttempted: number;
  /** Stop when more than this share (0–1) of attempted IDs were not found; 1 never stops. @default 0.9 */
  maxNotFoundRate: number;
}

/**
 * The not-found threshold a job runs with: the deployment's, with the job's own settings where it
 * gives them. A job may make the guard stricter (judged sooner, or stopping at a lower rate), never
 * looser: only the deployment may do that.
 *
 * @param job - The job's `options.notFoundThreshold`, when it has one.
 * @throws {JobValidationError} naming each setting the job would loosen; nothing is sent then.
 */
export function stricterNotFoundThreshold(deployment: NotFoundThresholdOptions, job?: Partial<NotFoundThresholdOptions>): NotFoundThresholdOptions {
  const looser: Array<{ path: string; message: string }> = [];
  if (job?.minAttempted !== undefined && job.minAttempted > deployment.minAttempted) {
    looser.push({ path: 'options.notFoundThreshold.minAttempted', message: `expected at most ${deployment.minAttempted} (NOT_FOUND_THRESHOLD_MIN_ATTEMPTED): a job may only make the not-found threshold stricter` });
  }
  if (job?.maxNotFoundRate !== undefined && job.maxNotFoundRate > deployment.maxNotFoundRate) {
    looser.push({ path: 'options.notFoundThreshold.maxNotFoundRate', message: `expected at most ${deployment.maxNotFoundRate} (NOT_FOUND_THRESHOLD_RATE): a job may only make the not-found threshold stricter` });
  }
  if (looser.length > 0) throw new JobValidationError(looser);
  return { minAttempted: job?.minAttempted ?? deployment.minAttempted, maxNotFoundRate: job?.maxNotFoundRate ?? deployment.maxNotFoundRate };
}

/** Why a job was stopped by its not-found threshold. */
export interface NotFoundCrossed {
  attempted: number;
  notFound: number;
  rate: number;
  reason: string;
}

/**
 * A job's not-found threshold: once `minAttempted` IDs were sent to the service, a share over
 * `maxNotFoundRate` of them answered "not found" stops the job. The failure threshold cannot see
 * this case, since "not found" is a success for a delete: a job sent to the wrong (existing)
 * labelling job or dataset, or a list deleted already, would otherwise run to its end, `completed`,
 * having deleted nothing. Not found counts an ID settled `already_deleted`, and one left in a batch
 * refused as not found when the bisection budget ran out (`NOT_FOUND_UNRESOLVED`).
 */
export class NotFoundThreshold {
  private attempted = 0;
  private notFound = 0;
  private crossedAt: NotFoundCrossed | undefined;

  /** @param state - Attempts counted by earlier invocations of the same job. */
  public constructor(private readonly options: NotFoundThresholdOptions, state: { attempted: number; notFound: number } = { attempted: 0, notFound: 0 }) {
    if (!(options.maxNotFoundRate >= 0 && options.maxNotFoundRate <= 1)) throw new RangeError(`maxNotFoundRate must be between 0 and 1, got ${options.maxNotFoundRate}`);
    if (!Number.isInteger(options.minAttempted) || options.minAttempted < 1) throw new RangeError(`minAttempted must be a positive whole number, got ${options.minAttempted}`);
    this.attempted = state.attempted;
    this.notFound = state.notFound;
    // Judged at once: a job cut by the deadline right after crossing must stop in its next invocation.
    this.crossedAt = this.judge();
  }

  /** Counts a settled entry (only IDs sent to the service count); returns the crossing once (and then forever) it happens. */
  public observe(record: Pick<OutcomeRecord, 'outcome' | 'errorCode'>): NotFoundCrossed | undefined {
    if (this.crossedAt !== undefined) return this.crossedAt;
    const { outcome } = record;
    if (outcome !== 'deleted' && outcome !== 'already_deleted' && outcome !== 'failed') return undefined;
    this.attempted += 1;
    if (outcome === 'already_deleted' || record.errorCode === NOT_FOUND_UNRESOLVED) this.notFound += 1;
    this.crossedAt = this.judge();
    return this.crossedAt;
  }

  private judge(): NotFoundCrossed | undefined {
    if (this.attempted === 0) return undefined;
    const rate = this.notFound / this.attempted;
    if (this.attempted < this.options.minAttempted || rate <= this.options.maxNotFoundRate) return undefined;
    return {
      attempted: this.attempted,
      notFound: this.notFound,
      rate,
      reason: `${this.notFound} of the first ${this.attempted} IDs attempted were not found (${(rate * 100).toFixed(1)}%, over the threshold of ${(this.options.maxNotFoundRate * 100).toFixed(1)}%)`,
    };
  }

  /** Attempts counted so far, for a checkpoint. */
  public get state(): { attempted: number; notFound: number } {
    return { attempted: this.attempted, notFound: this.notFound };
  }

  /** The crossing, once it happened. */
  public get crossed(): NotFoundCrossed | undefined {
    return this.crossedAt;
  }
}
