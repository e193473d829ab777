import type { InvocationBudget } from '../../lib/job/types.js';

/**
 * An invocation budget for a test that cuts a job at chosen instants: unset instants never come,
 * and no new chunk starts after the retry cut-off either (as in Lambda, where it comes first).
 */
export function testBudget(at: { stopRetryingAt?: number; stopStartingAt?: number } = {}, now = Date.now()): InvocationBudget {
  const stopRetryingAt = at.stopRetryingAt ?? Infinity;
  return { deadline: Infinity, stopRetryingAt, stopStartingAt: at.stopStartingAt ?? stopRetryingAt, claimExpiresAt: now + 17 * 60_000 };
}
