/** How often and how patiently a failed request is repeated. */
export interface RetryPolicy {
  /** Attempts per request, the first included. @default 5 */
  maxAttempts: number;
  /** Ceiling of the first backoff, doubled on each retry. @default 200 */
  baseDelayMs: number;
  /** Largest backoff ceiling. @default 20000 */
  maxDelayMs: number;
}

/**
 * Delay before retry number `retry` (1 for the first retry): capped exponential backoff with full
 * jitter (a uniform draw in [0, min(max, base·2^(retry-1)))), as the AWS SDK does, so that many
 * clients retrying together spread out. A `Retry-After` from the service is a floor.
 *
 * @param random - A draw in [0, 1), injected for deterministic tests.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}
