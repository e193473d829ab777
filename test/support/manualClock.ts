import type { Clock } from '../../lib/core/clock.js';

/** A clock for tests: time moves only when `advance` is called, and sleeps wake in time order. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, waking every sleep that falls due on the way (in order), letting each waker run. */
  advance(ms: number): Promise<void>;
  /** Sleeps not yet due. */
  readonly pendingSleeps: number;
}

/** Lets pending promise callbacks run, without timers. */
export async function flushMicrotasks(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await Promise.resolve();
}

/** Creates a {@link ManualClock} starting at `start` (epoch ms). */
export function manualClock(start = 1_000_000): ManualClock {
  let now = start;
  let sequence = 0;
  const sleeps: Array<{ at: number; order: number; wake: () => void }> = [];
  return {
    now: () => now,
    random: () => 0.5,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        sleeps.push({ at: now + Math.max(0, ms), order: (sequence += 1), wake: resolve });
      }),
    get pendingSleeps() {
      return sleeps.length;
    },
    async advance(ms) {
      const until = now + ms;
      await flushMicrotasks();
      for (;;) {
        sleeps.sort((a, b) => a.at - b.at || a.order - b.order);
        const next = sleeps[0];
        if (next === undefined || next.at > until) break;
        sleeps.shift();
        now = Math.max(now, next.at);
        next.wake();
        await flushMicrotasks();
      }
      now = until;
      await flushMicrotasks();
    },
  };
}
