import type { Config } from '../config/config.js';

/** The time limits of one invocation, as epoch-ms instants. */
export interface InvocationLimits {
  /** The Lambda deadline. */
  deadline: number;
  /** No request (retries included) starts after this: the report must still be written. */
  stopRetryingAt: number;
  /** No new chunk starts after this: a chunk started just before still has a whole request timeout. */
  stopStartingAt: number;
}

/**
 * Derives an invocation's limits from the time Lambda says is left: requests stop
 * `DEADLINE_MARGIN_MS` before the deadline, and new chunks `REQUEST_TIMEOUT_MS` before that.
 */
export function invocationLimits(now: number, remainingMs: number, config: Pick<Config, 'DEADLINE_MARGIN_MS' | 'REQUEST_TIMEOUT_MS'>): InvocationLimits {
  const deadline = now + remainingMs;
  const stopRetryingAt = deadline - config.DEADLINE_MARGIN_MS;
  return { deadline, stopRetryingAt, stopStartingAt: stopRetryingAt - config.REQUEST_TIMEOUT_MS };
}
