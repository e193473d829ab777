import type { LimiterCarry } from './adaptiveLimiter.js';

// A pace older than this is not carried: the service's load, and the other callers, may have changed
// since, and a slow start finds the limit again within a second or two. Parts of a split job follow
// one another in a container within seconds (docs/throughput.md "Many workers").
const DEFAULT_MAX_AGE_MS = 60_000;
// A container serves few targets; past this many, the least recently kept is forgotten.
const MAX_KEYS = 64;

/**
 * What the last job's limiter in this process (one Lambda container) learned about each service
 * limit, so that the next job against the same limit (the next part of a split job, the next
 * invocation of a paused job) starts at that pace instead of with a slow start: 8 workers each
 * starting every part with a slow start kept 15% of the requests throttled. Created once per
 * container with the handler's dependencies; in memory only, never shared between containers.
 *
 * @example
 * const carried = pace.recall(key, clock.now());
 * const limiter = new AdaptiveLimiter({ min, max, initial, ...(carried === undefined ? {} : { resume: carried }) }, clock);
 * // ... the job runs ...
 * if (limiter.used) pace.keep(key, limiter.carry());
 */
export class PaceMemory {
  private readonly byKey = new Map<string, LimiterCarry>();

  /** @param maxAgeMs - How long a kept pace may be recalled. */
  public constructor(private readonly maxAgeMs = DEFAULT_MAX_AGE_MS) {}

  /**
   * The key of a service limit: API Gateway's limits are per API and per user, so a project's
   * datasets and labelling jobs on one endpoint share one.
   */
  public static keyOf(endpoint: string, projectId: string): string {
    return `${endpoint} ${projectId}`;
  }

  /** The pace kept under `key`, unless it is older than the maximum age at `now` (epoch ms). */
  public recall(key: string, now: number): LimiterCarry | undefined {
    const carry = this.byKey.get(key);
    if (carry === undefined) return undefined;
    if (now - carry.at > this.maxAgeMs) {
      this.byKey.delete(key);
      return undefined;
    }
    return carry;
  }

  /** Keeps `carry` under `key`, in place of what was there. */
  public keep(key: string, carry: LimiterCarry): void {
    this.byKey.delete(key);
    this.byKey.set(key, carry);
    if (this.byKey.size > MAX_KEYS) {
      const oldest = this.byKey.keys().next();
      if (oldest.done !== true) this.byKey.delete(oldest.value);
    }
  }
}
