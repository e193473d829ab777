import type { Clock } from '../../lib/core/clock.js';

/** A clock whose time moves only when told: sleeps return at once and move time forward by their length. */
export interface VirtualClock extends Clock {
  /** Moves time forward by `ms`. */
  advance(ms: number): void;
}

/**
 * Creates a {@link VirtualClock}: backoff, `Retry-After` and the limiter's pacing cost no real
 * time, so a test can cut a job by "deadlines" that depend only on how many requests it sent.
 */
export function virtualClock(start: number, random: () => number): VirtualClock {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      // Whole milliseconds, as Date.now() gives: backoff draws fractions.
      now += Math.ceil(Math.max(0, ms));
      // One I/O turn, as a real timer would give: other chunks run meanwhile.
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
    random,
    advance: (ms) => {
      now += ms;
    },
  };
}
