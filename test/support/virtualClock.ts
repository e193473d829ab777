import type { Clock } from '../../lib/core/clock.js';

/**
 * What a sleep on a {@link virtualClock} does.
 * - `'advance'`: the sleep moves time forward by its own length and returns after one I/O turn.
 *   For tests that run the pipeline end to end, where nobody is there to move time by hand.
 * - `'wait'`: the sleep waits until the test moves time past its end with `advance`. For unit
 *   tests that step time themselves and check what happens in between.
 */
export type SleepMode = 'advance' | 'wait';

/** Options of {@link virtualClock}. */
export interface VirtualClockOptions<S extends SleepMode = SleepMode> {
  /** Time at the start, in epoch ms. Default `1_000_000`. */
  start?: number;
  /** The clock's source of randomness, in [0, 1). Default: always `0.5`. */
  random?: () => number;
  /** What a sleep does: see {@link SleepMode}. */
  sleeps: S;
}

/** A {@link virtualClock} whose sleeps move time themselves (`sleeps: 'advance'`). */
export interface AdvancingClock extends Clock {
  /** Moves time forward by `ms`, at once. */
  advance(ms: number): void;
}

/** A {@link virtualClock} whose sleeps wait for the test to move time (`sleeps: 'wait'`). */
export interface WaitingClock extends Clock {
  /** Moves time forward by `ms`, waking every sleep that falls due on the way (in order), letting each waker run. */
  advance(ms: number): Promise<void>;
  /** Sleeps not yet due. */
  readonly pendingSleeps: number;
}

/** Either kind of virtual clock. */
export type VirtualClock = AdvancingClock | WaitingClock;

/** Lets pending promise callbacks run, without timers. */
export async function flushMicrotasks(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await Promise.resolve();
}

/**
 * Creates a clock for tests whose time moves only when told, so backoff, `Retry-After` and the
 * limiter's pacing cost no real time and results do not depend on the machine's speed.
 * With `sleeps: 'advance'`, a test can cut a job by "deadlines" that depend only on how many
 * requests it sent; with `sleeps: 'wait'`, a test steps time and sees each sleeper wake in order.
 */
export function virtualClock(options: VirtualClockOptions<'advance'>): AdvancingClock;
export function virtualClock(options: VirtualClockOptions<'wait'>): WaitingClock;
export function virtualClock(options: VirtualClockOptions): VirtualClock;
export function virtualClock({ start = 1_000_000, random = () => 0.5, sleeps }: VirtualClockOptions): VirtualClock {
  return sleeps === 'advance' ? advancingClock(start, random) : waitingClock(start, random);
}

function advancingClock(start: number, random: () => number): AdvancingClock {
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

function waitingClock(start: number, random: () => number): WaitingClock {
  let now = start;
  // `order` keeps sleeps due at the same time in the order they began, as real timers do.
  let sequence = 0;
  const sleeps: Array<{ at: number; order: number; wake: () => void }> = [];
  return {
    now: () => now,
    random,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        sleeps.push({ at: now + Math.max(0, ms), order: (sequence += 1), wake: resolve });
      }),
    get pendingSleeps() {
      return sleeps.length;
    },
    async advance(ms) {
      const until = now + ms;
      // Let work already started reach its next sleep before time moves.
      await flushMicrotasks();
      for (;;) {
        // A waker may start new sleeps that fall due before `until`: sort again each round.
        sleeps.sort((a, b) => a.at - b.at || a.order - b.order);
        const next = sleeps[0];
        if (next === undefined || next.at > until) break;
        sleeps.shift();
        // Each waker sees the time its sleep was due, not the end of the advance.
        now = Math.max(now, next.at);
        next.wake();
        await flushMicrotasks();
      }
      now = until;
      await flushMicrotasks();
    },
  };
}
