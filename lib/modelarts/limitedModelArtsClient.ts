import type { AdaptiveLimiter, LimiterSignal } from './adaptiveLimiter.js';
import type { Clock } from '../core/clock.js';
import type { DeleteBatchResult, ModelArtsClient } from './modelArtsClient.js';
import type { ServiceFailure } from './classifyFailure.js';
import { rateLimitHint } from './rateLimitHint.js';

/** Options of {@link withAdaptiveLimit}. */
export interface AdaptiveLimitOptions {
  /** Measures each request's latency. */
  clock: Pick<Clock, 'now'>;
  /** Called after every answer (and after every request that threw), e.g. to log progress at a steady pace. */
  onAnswer?: () => void;
}

/**
 * Wraps a client so that every HTTP attempt (first tries, retries and bisection halves alike)
 * holds a permit of the job's {@link AdaptiveLimiter} while it is in flight, and tells the limiter
 * what the answer said: throttled, answered (with its latency) or dropped (5xx, network error).
 * The retry and bisection logic (lib/pipeline/deleteChunk.ts) is unchanged: a backoff sleep holds no permit,
 * so other chunks use the slot meanwhile. Connections: Node's fetch keeps them alive in one pool per
 * process (so per Lambda container, reused by warm invocations); a permit is given back one I/O
 * turn after its answer, so the pool needs no more connections than the limiter's ceiling.
 *
 * @example
 * const client = withAdaptiveLimit(createModelArtsClient(options), limiter, { clock: systemClock });
 */
export function withAdaptiveLimit(client: ModelArtsClient, limiter: AdaptiveLimiter, options: AdaptiveLimitOptions): ModelArtsClient {
  const { clock, onAnswer } = options;
  return {
    ...client,
    async deleteBatch(target, imageIds, options) {
      const permit = await limiter.acquire();
      const startedAt = clock.now();
      let signal: LimiterSignal = { kind: 'dropped' };
      try {
        // `options` carries the time budget's deadline, checked by the client once the permit is held.
        const result = await client.deleteBatch(target, imageIds, options);
        signal = limiterSignal(result, clock.now() - startedAt);
        // Keep-alive: fetch hands the connection back to its pool only after this I/O turn. A request
        // let through at once finds no idle connection and opens another (measured on the emulator:
        // 7–8 connections for 4 in flight); one turn later it reuses this one (at most 4).
        await new Promise<void>((resolve) => setImmediate(resolve));
        return result;
      } finally {
        permit.release(signal);
        onAnswer?.();
      }
    },
  };
}

// A throttle, with the limit the gateway stated, when it stated one.
function throttled(failure: ServiceFailure): LimiterSignal {
  const rateCeiling = rateLimitHint(failure);
  return rateCeiling === undefined ? { kind: 'throttled' } : { kind: 'throttled', rateCeiling };
}

// What an answer says about the service's load.
function limiterSignal(result: DeleteBatchResult, latencyMs: number): LimiterSignal {
  if (result.kind === 'per_item') {
    const throttledItem = result.items.find((item) => !item.ok && item.failure.failureClass === 'throttled');
    return throttledItem === undefined || throttledItem.ok ? { kind: 'answered', latencyMs } : throttled(throttledItem.failure);
  }
  switch (result.failure.failureClass) {
    case 'throttled':
      return throttled(result.failure);
    case 'transient':
      return { kind: 'dropped' };
    default:
      // A refusal about the request itself (unknown ID, credentials) is still a timely answer.
      return { kind: 'answered', latencyMs };
  }
}
