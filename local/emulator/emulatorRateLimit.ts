/** The answer of the emulated gateway when its rate limit is exceeded. */
export interface RateLimitedAnswer {
  status: 429;
  body: { error_code: 'APIG.0308'; error_msg: string };
  errorCode: 'APIG.0308';
  headers: Record<string, string>;
}

/**
 * The emulated API gateway's rate limit: a token bucket refilled at `requestsPerSecond` that holds
 * at most `burstSeconds` worth of requests. A request that finds no token is answered at once
 * (before the service's latency, as a gateway does) with 429 `APIG.0308` and a `Retry-After` of
 * the whole seconds until a token is back — at least 1, as Huawei's gateway advises waiting. The
 * rate and the burst are read on every request, so they can be changed while the emulator runs;
 * a rate of 0 switches the limit off.
 */
export class EmulatorRateLimit {
  private tokens = Number.NaN;
  private refilledAt = 0;

  /**
   * Admits a request arriving at `now` (epoch ms): undefined when it may pass, else the 429 answer,
   * whose message states the limit unless `statesLimit` is false.
   */
  public admit(requestsPerSecond: number, burstSeconds: number, now: number, statesLimit = true): RateLimitedAnswer | undefined {
    if (!(requestsPerSecond > 0)) {
      this.tokens = Number.NaN;
      return undefined;
    }
    const capacity = Math.max(1, requestsPerSecond * burstSeconds);
    if (Number.isNaN(this.tokens)) {
      this.tokens = capacity;
      this.refilledAt = now;
    }
    this.tokens = Math.min(capacity, this.tokens + ((now - this.refilledAt) / 1_000) * requestsPerSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return undefined;
    }
    const waitSeconds = (1 - this.tokens) / requestsPerSecond;
    return {
      status: 429,
      // The real gateway's wording ("policy user over ratelimit, limit:N, time:1 minute"), per second here.
      body: {
        error_code: 'APIG.0308',
        error_msg: statesLimit ? `The throttling threshold has been reached: policy user over ratelimit, limit:${requestsPerSecond}, time:1 second` : 'The throttling threshold has been reached.',
      },
      errorCode: 'APIG.0308',
      headers: { 'retry-after': String(Math.max(1, Math.ceil(waitSeconds))) },
    };
  }
}
