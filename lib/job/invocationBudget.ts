import type { Config } from '../config/config.js';
import type { InvocationBudget } from './types.js';

// Claims outlive the invocation by this much: by then Lambda has certainly stopped it, so another
// run may take over a claim it could not release.
const CLAIM_GRACE_MS = 60_000;
// Outside Lambda (no deadline) a claim lasts longer than Lambda's longest invocation (15 minutes).
const UNBOUNDED_CLAIM_MS = 16 * 60_000;

/**
 * The budget of one invocation, from the time Lambda says is left: requests stop
 * `DEADLINE_MARGIN_MS` before the deadline, new chunks `REQUEST_TIMEOUT_MS` before that, and
 * claims expire {@link CLAIM_GRACE_MS} after it. Without a deadline (run outside Lambda) nothing
 * stops the job but its end.
 *
 * @param remainingMs - `context.getRemainingTimeInMillis()`, or undefined outside Lambda.
 */
export function invocationBudget(now: number, remainingMs: number | undefined, config: Pick<Config, 'DEADLINE_MARGIN_MS' | 'REQUEST_TIMEOUT_MS'>): InvocationBudget {
  if (remainingMs === undefined) {
    return { deadline: Infinity, stopRetryingAt: Infinity, stopStartingAt: Infinity, claimExpiresAt: now + UNBOUNDED_CLAIM_MS + CLAIM_GRACE_MS };
  }
  const deadline = now + remainingMs;
  const stopRetryingAt = deadline - config.DEADLINE_MARGIN_MS;
  return { deadline, stopRetryingAt, stopStartingAt: stopRetryingAt - config.REQUEST_TIMEOUT_MS, claimExpiresAt: deadline + CLAIM_GRACE_MS };
}
