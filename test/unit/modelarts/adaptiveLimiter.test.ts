import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter, type LimiterPermit, type LimiterSignal, type LimiterSnapshot } from '../../../lib/modelarts/adaptiveLimiter.js';
import { flushMicrotasks, virtualClock, type WaitingClock } from '../../support/virtualClock.js';

// The limiter is pure bookkeeping over an injected clock: every test here runs on a virtual clock whose sleeps wait for `advance`,
// so schedules are exact and instant.

interface Held {
  permit: LimiterPermit;
  /** `decreases` when the permit was granted: equal to the current count means "sent after the last decrease". */
  decreasesAtGrant: number;
  grantedAt: number;
}

/** A limiter with a demand the test controls: `request(n)` queues n acquires; granted permits land in `held`. */
function harness(options: { min: number; max: number; initial: number }, clock: WaitingClock = virtualClock({ sleeps: 'wait' })) {
  const limiter = new AdaptiveLimiter(options, clock);
  const held: Held[] = [];
  let granted = 0;
  return {
    limiter,
    clock,
    held,
    get granted() {
      return granted;
    },
    request(n: number): void {
      for (let i = 0; i < n; i += 1) {
        void limiter.acquire().then((permit) => {
          granted += 1;
          held.push({ permit, decreasesAtGrant: limiter.snapshot().decreases, grantedAt: clock.now() });
        });
      }
    },
    /** Releases the oldest held permit with `signal`. */
    release(signal: LimiterSignal, index = 0): Held {
      const [entry] = held.splice(index, 1);
      if (entry === undefined) throw new Error('nothing held');
      entry.permit.release(signal);
      return entry;
    },
  };
}

const answered = (latencyMs = 100): LimiterSignal => ({ kind: 'answered', latencyMs });
const THROTTLED: LimiterSignal = { kind: 'throttled' };
const DROPPED: LimiterSignal = { kind: 'dropped' };

/** A limiter told `sharers` share the limit, sending 40 requests/s until one is throttled (the others dropped): it then paces at 36/s. */
async function throttledAt40PerSecond(sharers: number): Promise<{ limiter: AdaptiveLimiter; clock: WaitingClock }> {
  const clock = virtualClock({ sleeps: 'wait' });
  const limiter = new AdaptiveLimiter({ min: 1, max: 64, initial: 64, sharers }, clock);
  const held: LimiterPermit[] = [];
  for (let i = 0; i < 40; i += 1) {
    void limiter.acquire().then((permit) => held.push(permit));
    await clock.advance(25);
  }
  held.shift()?.release(THROTTLED);
  while (held.length > 0) held.shift()?.release(DROPPED);
  return { limiter, clock };
}

// null (not pacing) is the highest rate of all.
const rateValue = (snapshot: LimiterSnapshot): number => snapshot.rate ?? Number.POSITIVE_INFINITY;

type Step =
  | { op: 'acquire'; n: number }
  | { op: 'release'; pick: number; signal: 'answered' | 'throttled' | 'dropped'; latencyMs: number }
  | { op: 'advance'; ms: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('acquire' as const), n: fc.integer({ min: 1, max: 6 }) }),
  fc.record({
    op: fc.constant('release' as const),
    pick: fc.nat(),
    signal: fc.constantFrom('answered' as const, 'answered' as const, 'throttled' as const, 'dropped' as const),
    latencyMs: fc.oneof(fc.integer({ min: 50, max: 200 }), fc.integer({ min: 1, max: 3_000 })),
  }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
);

const settingsArbitrary = fc
  .record({ min: fc.integer({ min: 1, max: 6 }), max: fc.integer({ min: 1, max: 40 }), initial: fc.integer({ min: 1, max: 40 }) });

describe('AdaptiveLimiter invariants over random schedules', () => {
  it('grants only below the current limit, stays within floor and ceiling, decreases on every fresh throttle, grows only on a healthy answer', async () => {
    await fc.assert(
      fc.asyncProperty(settingsArbitrary, fc.array(stepArbitrary, { minLength: 20, maxLength: 150, size: 'max' }), async (settings, steps) => {
        // Prepare
        const h = harness(settings);
        const floor = Math.min(settings.min, settings.max);

        for (const step of steps) {
          const before = h.limiter.snapshot();
          const grantedBefore = h.granted;
          let releasedSignal: LimiterSignal | undefined;
          let fresh = false;

          // Act
          if (step.op === 'acquire') h.request(step.n);
          else if (step.op === 'advance') await h.clock.advance(step.ms);
          else if (h.held.length > 0) {
            releasedSignal = step.signal === 'answered' ? answered(step.latencyMs) : step.signal === 'throttled' ? THROTTLED : DROPPED;
            const entry = h.release(releasedSignal, step.pick % h.held.length);
            fresh = entry.decreasesAtGrant === before.decreases;
          }
          await flushMicrotasks();
          const after = h.limiter.snapshot();

          // Assess: the model and the limiter agree on what is in flight.
          expect(after.inFlight).toBe(h.held.length);
          // Never more in flight than the current limit: a permit is granted only below it (a decrease
          // does not recall requests already sent, so the check is made when something was granted).
          if (h.granted > grantedBefore) expect(after.inFlight).toBeLessThanOrEqual(after.limit);
          // Nobody waits for a free slot while one is free (when not pacing).
          if (after.rate === null && after.waiting > 0) expect(after.inFlight).toBeGreaterThanOrEqual(after.limit);
          // Within the floor and the ceiling.
          expect(after.limit).toBeGreaterThanOrEqual(floor);
          expect(after.limit).toBeLessThanOrEqual(settings.max);
          if (after.rate !== null) expect(after.rate).toBeGreaterThanOrEqual(1);

          if (releasedSignal?.kind === 'throttled') {
            expect(after.throttled).toBe(before.throttled + 1);
            if (fresh) {
              // A decrease on every throttle of a request sent after the last decrease: both the limit and the rate.
              expect(after.decreases).toBe(before.decreases + 1);
              expect(after.limit === floor || after.limit < before.limit).toBe(true);
              expect(after.rate).not.toBeNull();
              expect(after.rate === 1 || rateValue(after) < rateValue(before)).toBe(true);
            } else {
              // The documented exception: a request sent before the last decrease describes the old limit.
              expect(after.decreases).toBe(before.decreases);
              expect(after.limit).toBe(before.limit);
              expect(after.rate).toBe(before.rate);
            }
          }
          const grew = after.limit > before.limit || rateValue(after) > rateValue(before);
          if (grew) {
            // Growth only on a healthy answer: never on a throttle, a dropped request, or time passing.
            expect(releasedSignal?.kind).toBe('answered');
            expect(after.decreases).toBe(before.decreases);
          }
        }
      }),
      { numRuns: 300, seed: 7, endOnFailure: true },
    );
  });
});

describe('AdaptiveLimiter', () => {
  it('doubles the limit per round of answers until the first throttle (slow start), up to the ceiling', async () => {
    // Prepare
    const h = harness({ min: 1, max: 20, initial: 2 });
    h.request(200);
    await flushMicrotasks();
    const limits: number[] = [];

    // Act: answer one whole round at a time.
    for (let round = 0; round < 6; round += 1) {
      const inRound = h.held.length;
      for (let i = 0; i < inRound; i += 1) h.release(answered());
      await flushMicrotasks();
      limits.push(h.limiter.limit);
    }

    // Assess
    expect(limits).toEqual([4, 8, 16, 20, 20, 20]);
    expect(h.held).toHaveLength(20);
  });

  it('after a throttle, adds one per round while requests wait for a slot (additive increase)', async () => {
    // Prepare
    const h = harness({ min: 1, max: 64, initial: 10 });
    h.request(500);
    await flushMicrotasks();
    h.release(THROTTLED);
    await flushMicrotasks();
    expect(h.limiter.limit).toBe(9);

    // Act: +1/limit per answer, one round after another (time passes, so the pacer does not hold anything back).
    const limits: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      h.release(answered());
      await h.clock.advance(1_000);
      limits.push(h.limiter.limit);
    }

    // Assess: 9 answers leave it just under 10, the 10th crosses; the next round is 10 or 11 answers long.
    expect(limits[8]).toBe(9);
    expect(limits[9]).toBe(10);
    expect(limits.indexOf(11)).toBeGreaterThanOrEqual(19);
    expect(limits.indexOf(11)).toBeLessThanOrEqual(20);
    expect(limits.at(-1)).toBe(11);
  });

  it('lowers the limit by the ratio and at least by one: 32 → 28 → 25 → 22, and 3 → 2 → 1 → 1 at the floor', async () => {
    // Prepare
    const big = harness({ min: 1, max: 32, initial: 32 });
    const small = harness({ min: 1, max: 3, initial: 3 });
    const bigLimits: number[] = [];
    const smallLimits: number[] = [];

    // Act: each throttle comes from a request granted after the previous decrease.
    for (let i = 0; i < 3; i += 1) {
      big.request(1);
      await flushMicrotasks();
      big.release(THROTTLED, big.held.length - 1);
      bigLimits.push(big.limiter.limit);
      await big.clock.advance(1_000);
    }
    for (let i = 0; i < 3; i += 1) {
      small.request(1);
      await flushMicrotasks();
      small.release(THROTTLED, small.held.length - 1);
      smallLimits.push(small.limiter.limit);
      await small.clock.advance(1_000);
    }

    // Assess
    expect(bigLimits).toEqual([28, 25, 22]);
    expect(smallLimits).toEqual([2, 1, 1]);
    expect(small.limiter.snapshot().decreases).toBe(3);
  });

  it('counts every throttle but lowers once for requests that were all in flight before the decrease', async () => {
    // Prepare
    const h = harness({ min: 1, max: 16, initial: 8 });
    h.request(8);
    await flushMicrotasks();

    // Act
    for (let i = 0; i < 8; i += 1) h.release(THROTTLED);
    await flushMicrotasks();

    // Assess
    expect(h.limiter.snapshot()).toMatchObject({ throttled: 8, decreases: 1, limit: 7 });
  });

  it('paces at 0.9 × the measured send rate after the first throttle, spacing grants evenly', async () => {
    // Prepare: 20 requests granted over one second, unpaced, then a throttle.
    const clock = virtualClock({ sleeps: 'wait' });
    const h = harness({ min: 1, max: 64, initial: 64 }, clock);
    for (let i = 0; i < 20; i += 1) {
      h.request(1);
      await clock.advance(50);
    }
    h.release(THROTTLED);
    const rate = h.limiter.snapshot().rate;
    while (h.held.length > 0) h.release(DROPPED);
    const grantsBefore = h.granted;

    // Act: plenty of demand, two seconds of time.
    h.request(100);
    await clock.advance(2_000);

    // Assess: 20 grants in 1000 ms → 20/s → paced at 18/s, one every 55.6 ms.
    expect(rate).toBe(18);
    const times = h.held.map((entry) => entry.grantedAt);
    const gaps = times.slice(1).map((at, i) => at - (times[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(Math.floor(1_000 / 18));
    expect(h.granted - grantsBefore).toBeGreaterThanOrEqual(35);
    expect(h.granted - grantsBefore).toBeLessThanOrEqual(37);
  });

  it('regrows the rate only on healthy answers, not with time alone, and faster the longer it has been healthy', async () => {
    // Prepare: paced at 27/s after a throttle at 30/s.
    const clock = virtualClock({ sleeps: 'wait' });
    const h = harness({ min: 1, max: 64, initial: 64 }, clock);
    for (let i = 0; i < 30; i += 1) {
      h.request(1);
      await clock.advance(1_000 / 30);
    }
    h.release(THROTTLED);
    while (h.held.length > 0) h.release(DROPPED);
    const start = h.limiter.snapshot().rate as number;

    // Act: a minute passes with nothing answered.
    await clock.advance(60_000);
    const afterIdle = h.limiter.snapshot().rate;
    // Then requests queue at the pacer and are answered, over 10 seconds.
    const rates: number[] = [];
    h.request(10_000);
    for (let second = 0; second < 10; second += 1) {
      for (let tick = 0; tick < 100; tick += 1) {
        await clock.advance(10);
        while (h.held.length > 0) h.release(answered());
      }
      rates.push(h.limiter.snapshot().rate as number);
    }

    // Assess
    expect(start).toBeCloseTo(27, 0);
    expect(afterIdle).toBe(start);
    expect(rates[0]).toBeGreaterThan(start);
    // The curve is convex past the old rate: each second adds more than the one before.
    const gains = rates.slice(1).map((rate, i) => rate - (rates[i] as number));
    expect(gains.at(-1)).toBeGreaterThan(gains[2] as number);
  });

  it('treats latency rising above twice its long-term average as congestion: a decrease, and no growth', async () => {
    // Prepare: 30 answers at 100 ms with requests waiting (so the limit grows), then slow answers.
    const h = harness({ min: 1, max: 64, initial: 4 });
    h.request(1_000);
    await flushMicrotasks();
    for (let i = 0; i < 30; i += 1) {
      h.release(answered(100));
      await flushMicrotasks();
    }
    const healthy = h.limiter.snapshot();

    // Act: answers four times slower; the short-term average (100 → 175 → 231) crosses twice the long-term one (2 × 112) on the second.
    const afterSlow: LimiterSnapshot[] = [];
    for (let i = 0; i < 12; i += 1) {
      h.release(answered(400));
      await flushMicrotasks();
      afterSlow.push(h.limiter.snapshot());
    }

    // Assess
    expect(healthy).toMatchObject({ limit: 34, decreases: 0 });
    const firstDecrease = afterSlow.findIndex((snapshot) => snapshot.decreases === 1);
    expect(firstDecrease).toBe(1);
    const lowered = afterSlow[firstDecrease] as LimiterSnapshot;
    expect(lowered.limit).toBeLessThan(healthy.limit);
    expect(lowered.throttled).toBe(0);
    // While latency stays high, nothing grows (and these answers, all to requests sent before the decrease, lower nothing more).
    expect(afterSlow.slice(firstDecrease).every((snapshot) => snapshot.limit === lowered.limit && snapshot.rate === lowered.rate)).toBe(true);
  });

  it('does not mistake noise on millisecond answers for congestion: a rise must also be over 50 ms', async () => {
    // Prepare: answers of about a millisecond, as from a service next door.
    const h = harness({ min: 1, max: 64, initial: 4 });
    h.request(1_000);
    await flushMicrotasks();
    for (let i = 0; i < 30; i += 1) {
      h.release(answered(1));
      await flushMicrotasks();
    }

    // Act: jitter that multiplies the average many times over, but by milliseconds only.
    for (let i = 0; i < 30; i += 1) {
      h.release(answered(i % 2 === 0 ? 40 : 2));
      await flushMicrotasks();
    }

    // Assess
    expect(h.limiter.snapshot().decreases).toBe(0);
    expect(h.limiter.limit).toBeGreaterThan(34);
  });

  it('does not grow while the job uses fewer requests than it may (no waiting for a slot)', async () => {
    // Prepare
    const h = harness({ min: 1, max: 64, initial: 4 });

    // Act: one request at a time, a hundred times.
    for (let i = 0; i < 100; i += 1) {
      h.request(1);
      await flushMicrotasks();
      h.release(answered());
    }

    // Assess
    expect(h.limiter.limit).toBe(4);
  });

  it('ignores a second release of the same permit', async () => {
    // Prepare
    const h = harness({ min: 1, max: 4, initial: 4 });
    h.request(2);
    await flushMicrotasks();
    const entry = h.release(THROTTLED);

    // Act
    entry.permit.release(THROTTLED);

    // Assess
    expect(h.limiter.snapshot()).toMatchObject({ inFlight: 1, throttled: 1, decreases: 1 });
  });

  describe('limiters that share one limit (sharers)', () => {
    /** Throttled at 30/s (or, with `byLatency`, an answer slow enough to mean congestion), then every request answered: the rate after each of `seconds` seconds. */
    async function regrowth(sharers: number | undefined, seconds: number, setLater?: number, byLatency = false): Promise<number[]> {
      const clock = virtualClock({ sleeps: 'wait' });
      const limiter = new AdaptiveLimiter({ min: 1, max: 64, initial: 64, ...(sharers === undefined ? {} : { sharers }) }, clock);
      const h = { limiter, held: [] as LimiterPermit[] };
      const take = (): void => {
        void limiter.acquire().then((permit) => h.held.push(permit));
      };
      for (let i = 0; i < 30; i += 1) {
        take();
        await clock.advance(1_000 / 30);
      }
      if (byLatency) {
        for (let i = 0; i < 12; i += 1) h.held.shift()?.release(answered());
        h.held.shift()?.release(answered(5_000));
        expect(limiter.snapshot()).toMatchObject({ throttled: 0, decreases: 1 });
      } else {
        h.held.shift()?.release(THROTTLED);
      }
      while (h.held.length > 0) h.held.shift()?.release(DROPPED);
      if (setLater !== undefined) limiter.setSharers(setLater);
      for (let i = 0; i < 100_000; i += 1) take();
      const rates: number[] = [];
      for (let second = 0; second < seconds; second += 1) {
        for (let tick = 0; tick < 100; tick += 1) {
          await clock.advance(10);
          while (h.held.length > 0) h.held.shift()?.release(answered());
        }
        rates.push(limiter.snapshot().rate as number);
      }
      return rates;
    }

    it('regrows k times slower with k sharers: where one limiter is after t seconds, four are after 4t', async () => {
      // Act
      const alone = await regrowth(undefined, 6);
      const fourOfThem = await regrowth(4, 24);

      // Assess: the same curve, its clock stretched 4 times (CUBIC's C/k³).
      for (const t of [2, 4, 6]) expect(fourOfThem[4 * t - 1]).toBeCloseTo(alone[t - 1] as number, 0);
      // And really slower: after 4 s the four are still below the rate that was throttled (30/s), the one is above.
      expect(alone[3]).toBeGreaterThan(30);
      expect(fourOfThem[3]).toBeLessThan(30);
    });

    it('regrows at its own pace after decreases for rising latency, back to the pace it had: every sharer saw that signal and decreased at once, unlike a throttle', async () => {
      // Act
      const alone = await regrowth(undefined, 12, undefined, true);
      const fourOfThem = await regrowth(4, 12, undefined, true);

      // Assess: up to the 30/s it sent before (the latency stayed high for a few answers: several
      // decreases), the four come back as one would alone; beyond it they probe 4 times slower, as after a throttle.
      const recovering = alone.flatMap((rate, second) => (rate < 30 ? [second] : []));
      expect(recovering.length).toBeGreaterThanOrEqual(3);
      for (const second of recovering) expect(fourOfThem[second]).toBe(alone[second]);
      expect(fourOfThem[11]).toBeGreaterThanOrEqual(30);
      expect(fourOfThem[11]).toBeLessThan((alone[11] as number) - 5);
    });

    it('follows a count changed while it runs (setSharers), and ignores counts below 1', async () => {
      // Act: told 4 share the limit after the throttle (its pace becomes a quarter), then a count of 0.5 (ignored).
      const told = await regrowth(undefined, 24, 4);
      const clock = virtualClock({ sleeps: 'wait' });
      const limiter = new AdaptiveLimiter({ min: 1, max: 8, initial: 2, sharers: 3 }, clock);
      limiter.setSharers(0.5);
      limiter.setSharers(Number.NaN);

      // Assess: a quarter of the pace of 4 limiters told so from the start, on the same stretched curve.
      const four = await regrowth(4, 24);
      for (const [second, rate] of told.entries()) expect(rate).toBeCloseTo((four[second] as number) / 4, 0);
      expect(limiter.snapshot().sharers).toBe(3);
    });

    /** A limiter paced after a throttle at 40/s while `sharers` shared the limit: its rate, and the rate after `then` is told. */
    async function pacedAmong(sharers: number, then: (limiter: AdaptiveLimiter) => void): Promise<{ before: number; after: number; limit: [number, number] }> {
      const { limiter } = await throttledAt40PerSecond(sharers);
      const before = limiter.snapshot();
      then(limiter);
      const after = limiter.snapshot();
      return { before: before.rate as number, after: after.rate as number, limit: [before.limit, after.limit] };
    }

    it('keeps the pace of the whole: when fewer share the limit, each takes a larger share of it at once (8 → 2: 4 times the rate), and back', async () => {
      // Act
      const fewer = await pacedAmong(8, (limiter) => limiter.setSharers(2));
      const back = await pacedAmong(8, (limiter) => {
        limiter.setSharers(2);
        limiter.setSharers(8);
      });

      // Assess: 0.9 × 40/s = 36/s, then 144/s for 2 of the 8 (they send 4 times what they did); the
      // concurrency limit is left to the additive increase (the rate is what a gateway enforces).
      expect(fewer.before).toBe(36);
      expect(fewer.after).toBe(144);
      expect(fewer.limit[1]).toBe(fewer.limit[0]);
      expect(back.after).toBe(36);
    });

    it('adds one per k rounds with k sharers (additive increase)', async () => {
      // Prepare: a throttle at 10 in flight, as in the additive-increase test above, with 2 sharers.
      const clock = virtualClock({ sleeps: 'wait' });
      const limiter = new AdaptiveLimiter({ min: 1, max: 64, initial: 10, sharers: 2 }, clock);
      const held: LimiterPermit[] = [];
      for (let i = 0; i < 500; i += 1) void limiter.acquire().then((permit) => held.push(permit));
      await flushMicrotasks();
      held.shift()?.release(THROTTLED);
      await flushMicrotasks();

      // Act: 9 answers per unit of limit at 9, twice as many answers as alone.
      const limits: number[] = [];
      for (let i = 0; i < 30; i += 1) {
        held.shift()?.release(answered());
        await clock.advance(1_000);
        limits.push(limiter.limit);
      }

      // Assess: alone it reached 10 at the 10th answer; with 2 sharers at the 18th–19th.
      expect(limits[16]).toBe(9);
      expect(limits.indexOf(10)).toBeGreaterThanOrEqual(17);
      expect(limits.indexOf(10)).toBeLessThanOrEqual(18);
    });
  });

  describe('a limiter resumed from another one\'s carry', () => {
    it('starts at its limit and pace, with no slow start and no burst, and counts from zero', async () => {
      // Prepare: a limiter that was throttled at 20/s and settled at a limit of 3.
      const clock = virtualClock({ sleeps: 'wait' });
      const first = harness({ min: 1, max: 8, initial: 4 }, clock);
      for (let i = 0; i < 20; i += 1) {
        first.request(1);
        await clock.advance(50);
        while (first.held.length > 1) first.release(answered());
      }
      first.release(THROTTLED);
      const carry = first.limiter.carry();
      const before = first.limiter.snapshot();
      await clock.advance(5_000);

      // Act: a new limiter from the carry, 100 requests waiting, one second, answers in 1 ms.
      const second = new AdaptiveLimiter({ min: 1, max: 8, initial: 2, resume: carry }, clock);
      const grantedAt: number[] = [];
      for (let i = 0; i < 100; i += 1) {
        void second.acquire().then((permit) => {
          grantedAt.push(clock.now());
          void clock.sleep(1).then(() => permit.release(answered(1)));
        });
      }
      await clock.advance(1_000);

      // Assess: paced at the carried rate (18/s, regrowing) from its first grant, not 100 grants at once.
      expect(before.rate).toBe(18);
      expect(second.snapshot()).toMatchObject({ limit: before.limit, throttled: 0, decreases: 0 });
      expect(second.summary().initial).toBe(before.limit);
      expect(grantedAt.length).toBeGreaterThanOrEqual(17);
      expect(grantedAt.length).toBeLessThanOrEqual(24);
      expect(second.snapshot().rate).toBeGreaterThanOrEqual(18);
      expect(second.snapshot().rate).toBeLessThan(25);
    });

    it('(control) a fresh limiter with the same demand sends far more in that second (unpaced slow start)', async () => {
      // Act
      const clock = virtualClock({ sleeps: 'wait' });
      const fresh = new AdaptiveLimiter({ min: 1, max: 8, initial: 2 }, clock);
      let granted = 0;
      for (let i = 0; i < 2_000; i += 1) {
        void fresh.acquire().then((permit) => {
          granted += 1;
          void clock.sleep(1).then(() => permit.release(answered(1)));
        });
      }
      await clock.advance(1_000);

      // Assess
      expect(granted).toBeGreaterThan(500);
    });

    it('takes its share of the carried pace: a pace found while 8 shared the limit is 8 times larger for a limiter alone', async () => {
      // Prepare: paced at 36/s while 8 shared the limit (a throttle at 40/s).
      const { limiter: first, clock } = await throttledAt40PerSecond(8);

      // Act
      const alone = new AdaptiveLimiter({ min: 1, max: 64, initial: 2, resume: first.carry(), sharers: 1 }, clock);
      const amongEight = new AdaptiveLimiter({ min: 1, max: 64, initial: 2, resume: first.carry() }, clock);

      // Assess
      expect(first.snapshot().rate).toBe(36);
      expect(alone.snapshot()).toMatchObject({ rate: 288, sharers: 1 });
      expect(amongEight.snapshot()).toMatchObject({ rate: 36, sharers: 8 });
    });

    it('clamps the carried limit to its own floor and ceiling, and knows whether it was used', () => {
      // Prepare
      const clock = virtualClock({ sleeps: 'wait' });
      const wide = new AdaptiveLimiter({ min: 1, max: 32, initial: 32 }, clock);

      // Act
      const narrow = new AdaptiveLimiter({ min: 1, max: 4, initial: 2, resume: wide.carry() }, clock);

      // Assess
      expect(narrow.limit).toBe(4);
      expect(wide.used).toBe(false);
    });
  });

  it('summarises the job: initial, final, floor, ceiling, lowest, highest, throttles, decreases, final rate', async () => {
    // Prepare
    const h = harness({ min: 2, max: 10, initial: 4 });
    h.request(50);
    await flushMicrotasks();

    // Act: a round of answers (4 → 8), then a throttle (8 → 7).
    for (let i = 0; i < 4; i += 1) h.release(answered());
    await flushMicrotasks();
    h.release(THROTTLED, h.held.length - 1);

    // Assess
    expect(h.limiter.summary()).toMatchObject({ initial: 4, final: 7, min: 2, max: 10, lowest: 4, highest: 8, throttled: 1, decreases: 1 });
    expect(h.limiter.summary().finalRate).toBeGreaterThan(0);
  });

  describe('a rate ceiling stated by the gateway (APIG.0308 "limit:N,time:…")', () => {
    /** Sends 10 requests per second for a second, throttles with `signal`, then answers every request at once for `seconds`. */
    async function throttledThenHealthy(signal: LimiterSignal, seconds: number) {
      const clock = virtualClock({ sleeps: 'wait' });
      const h = harness({ min: 1, max: 64, initial: 64 }, clock);
      for (let i = 0; i < 10; i += 1) {
        h.request(1);
        await clock.advance(100);
      }
      h.release(signal);
      while (h.held.length > 0) h.release(DROPPED);
      const afterThrottle = h.limiter.snapshot();
      h.request(100_000);
      const rates: number[] = [];
      let grantsInLast10s = 0;
      for (let second = 0; second < seconds; second += 1) {
        const before = h.granted;
        for (let tick = 0; tick < 100; tick += 1) {
          await clock.advance(10);
          while (h.held.length > 0) h.release(answered());
        }
        if (second >= seconds - 10) grantsInLast10s += h.granted - before;
        rates.push(h.limiter.snapshot().rate as number);
      }
      return { afterThrottle, rates, grantsInLast10s, snapshot: h.limiter.snapshot() };
    }

    it('never paces above it while it holds, then probes upwards from it (a raised limit is found)', async () => {
      // Act
      const { afterThrottle, rates, snapshot } = await throttledThenHealthy({ kind: 'throttled', rateCeiling: 10 }, 40);

      // Assess: capped for the hold (the first seconds after the throttle), then growing from 10.
      expect(afterThrottle.rate).toBe(9);
      expect(afterThrottle.rateCeiling).toBe(10);
      expect(Math.max(...rates.slice(0, 4))).toBeLessThanOrEqual(10);
      expect(rates.at(-1)).toBeGreaterThan(15);
      expect(snapshot.rateCeiling).toBeNull();
      expect(snapshot.decreases).toBe(1);
    });

    it('(control) without it, the same schedule regrows past the rate that was throttled', async () => {
      // Act
      const { afterThrottle, rates, grantsInLast10s } = await throttledThenHealthy(THROTTLED, 40);

      // Assess
      expect(afterThrottle.rate).toBe(9);
      expect(afterThrottle.rateCeiling).toBeNull();
      expect(rates.at(-1)).toBeGreaterThan(15);
      expect(grantsInLast10s).toBeGreaterThan(150);
    });

    it('lowers the pace at once to a lower ceiling, even from an answer to a request sent before the last decrease', async () => {
      // Prepare: a first throttle (paced at 9/s), with 3 more requests still in flight from before it.
      const clock = virtualClock({ sleeps: 'wait' });
      const h = harness({ min: 1, max: 64, initial: 64 }, clock);
      for (let i = 0; i < 10; i += 1) {
        h.request(1);
        await clock.advance(100);
      }
      h.release(THROTTLED);
      const paced = h.limiter.snapshot();

      // Act: a stale throttle that states 2 per second.
      h.release({ kind: 'throttled', rateCeiling: 2 });

      // Assess: no second decrease (stale), but the pace obeys the gateway's word.
      const after = h.limiter.snapshot();
      expect(paced.rate).toBe(9);
      expect(after).toMatchObject({ decreases: 1, rate: 2, rateCeiling: 2, throttled: 2 });
    });

    it('goes below the floor rate when the stated limit is lower (limit:30,time:1 minute is 0.5 per second)', async () => {
      // Act
      const { afterThrottle, rates, grantsInLast10s } = await throttledThenHealthy({ kind: 'throttled', rateCeiling: 0.5 }, 20);

      // Assess
      expect(afterThrottle.rate).toBe(0.5);
      expect(Math.max(...rates)).toBeLessThanOrEqual(0.5);
      expect(grantsInLast10s).toBeLessThanOrEqual(6);
    });
  });

  it('clamps a floor above the ceiling and an initial limit outside them, and refuses nonsense', () => {
    // Prepare
    const clock = virtualClock({ sleeps: 'wait' });

    // Act
    const clamped = new AdaptiveLimiter({ min: 8, max: 4, initial: 1 }, clock).summary();
    const raised = new AdaptiveLimiter({ min: 3, max: 16, initial: 1 }, clock).summary();

    // Assess
    expect(clamped).toMatchObject({ min: 4, max: 4, initial: 4 });
    expect(raised).toMatchObject({ min: 3, initial: 3 });
    expect(() => new AdaptiveLimiter({ min: 1, max: 0, initial: 1 }, clock)).toThrow(RangeError);
    expect(() => new AdaptiveLimiter({ min: 1, max: 4, initial: 1.5 }, clock)).toThrow(/initial/);
    expect(() => new AdaptiveLimiter({ min: 1, max: 4, initial: 2, backoffRatio: 1 }, clock)).toThrow(/backoffRatio/);
  });
});
