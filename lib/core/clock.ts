import { setTimeout as delay } from 'node:timers/promises';

/**
 * Time and randomness, injected wherever the pipeline waits or draws jitter, so tests are
 * instant and deterministic. Plain functions, not methods: they are passed around on their own.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Waits `ms` milliseconds. */
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1). */
  random: () => number;
}

/** The real clock: wall time, real timers, `Math.random`. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep: async (ms: number) => {
    await delay(ms);
  },
  random: () => Math.random(),
});
