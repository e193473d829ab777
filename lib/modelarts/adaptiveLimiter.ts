import type { Clock } from '../core/clock.js';

/** Settings of an {@link AdaptiveLimiter}. */
export interface AdaptiveLimiterOptions {
  /** Floor of the concurrency limit (`LIMITER_MIN`); clamped to `max`. */
  min: number;
  /** Ceiling of the concurrency limit (`MAX_IN_FLIGHT`, or the job's `options.maxInFlight`). */
  max: number;
  /** The limit a job starts with (`LIMITER_INITIAL`); clamped to [min, max]. */
  initial: number;
  /** Factor applied to the limit and to the rate on a throttle or rising latency. @default 0.9 */
  backoffRatio?: number;
  /** Latency counts as rising when its short-term average exceeds the long-term one by this factor. @default 2 */
  latencyTolerance?: number;
  /** Lowest request rate the pacer falls to, in requests per second. @default 1 */
  minRate?: number;
  /**
   * How fast the rate regrows after a decrease: the `C` of a CUBIC curve, relative to the rate
   * before the decrease, per second cubed. @default 0.04 (back to the old rate after about 1.4 s, then faster and faster)
   */
  rateGrowth?: number;
  /**
   * How many limiters share the service's limit with this one, itself included (the parts of a
   * split job running at once); changed later with {@link AdaptiveLimiter.setSharers}. @default 1, or the carried pace's
   */
  sharers?: number;
  /**
   * Where an earlier limiter against the same limit left off ({@link AdaptiveLimiter.carry}): this
   * one starts from its limit and pace instead of a slow start. Counts (throttles, decreases) start at zero.
   */
  resume?: LimiterCarry;
}

/**
 * A limiter's limit and pace at one moment, for the next limiter against the same service limit
 * (lib/modelarts/PaceMemory.ts): what it learned, not what it counted. Held in memory only.
 */
export interface LimiterCarry {
  /** When it was taken, epoch ms. */
  readonly at: number;
  readonly limit: number;
  readonly slowStart: boolean;
  readonly sharers: number;
  /** The pacing state: `rate` and `rateCeiling` are Infinity while off. */
  readonly rate: number;
  readonly rateCeiling: number;
  readonly rateCeilingUntil: number;
  readonly rateBeforeDecrease: number;
  readonly rateAfterDecrease: number;
  readonly growthElapsedMs: number;
  /** The last decrease was for rising latency (seen by every sharer), not a throttle; and the pace it regrows to as if alone. */
  readonly sharedDecrease: boolean;
  readonly recoverTo: number;
}

/** What the answer to one request says about the service's load. */
export type LimiterSignal =
  /** The service answered (success, or a refusal that is not about load, e.g. an unknown ID). */
  | { kind: 'answered'; latencyMs: number }
  /**
   * The service asked us to slow down (429, throttling codes, `Retry-After`). `rateCeiling`: the
   * rate the gateway said it enforces (APIG.0308's `limit:N,time:1 minute`), in requests per
   * second; for a few seconds the pacer never goes above it, then it probes from it.
   */
  | { kind: 'throttled'; rateCeiling?: number }
  /** No answer worth learning from (a 5xx, a connection error, a timeout): the slot is freed, nothing else. */
  | { kind: 'dropped' };

/** The right to send one request; give it back with what its answer said. */
export interface LimiterPermit {
  /** Frees the slot and feeds the signal to the limiter. A second call is ignored. */
  release(signal: LimiterSignal): void;
}

/** The limiter's state at one moment, for progress logs. */
export interface LimiterSnapshot {
  /** Requests allowed in flight now. */
  limit: number;
  inFlight: number;
  /** Requests waiting for a permit. */
  waiting: number;
  /** Pacing in requests per second (rounded to 0.1); null until the first throttle or rising latency. */
  rate: number | null;
  /** The most the pacer may send per second, as the gateway last stated it (rounded to 0.1); null until one did. */
  rateCeiling: number | null;
  /** Throttle signals received so far. */
  throttled: number;
  /** Times the limit and the rate were lowered. */
  decreases: number;
  /** Limiters it shares the service's limit with, itself included. */
  sharers: number;
}

/** The limiter's life over one job, for `summary.json`. */
export interface LimiterSummary {
  initial: number;
  final: number;
  /** The floor and the ceiling it ran with. */
  min: number;
  max: number;
  lowest: number;
  highest: number;
  throttled: number;
  decreases: number;
  /** Pacing at the end, requests per second (rounded to 0.1); null when it never had to pace. */
  finalRate: number | null;
}

// Short- and long-term weights of the latency averages: the short one follows about the last 4
// answers, the long one about the last 50, as in Netflix's gradient limiter.
const SHORT_WEIGHT = 0.25;
const LONG_WEIGHT = 0.02;
// Rising latency is only judged once the long-term average means something.
const MIN_LATENCY_SAMPLES = 10;
// A rise must also be large in absolute terms: against a service answering in a millisecond,
// scheduling noise alone doubles the average and would shrink the limit for nothing (measured:
// 141 needless decreases in a million-ID job against an instant emulator).
const MIN_LATENCY_RISE_MS = 50;
// The send rate at the first throttle is measured over this window.
const RATE_WINDOW_MS = 1_000;
// The rate's growth clock runs only while answers keep coming: a longer gap counts as this much,
// so an idle spell does not let the rate leap when traffic resumes (CUBIC's restart after idle).
const MAX_GROWTH_STEP_MS = 1_000;
// How long a limit stated by the gateway (APIG.0308) caps the pace after the last answer that stated
// it. A hint, not a law: the policy may be raised (a quota increase, another stage's load gone), and
// only a probe can find that out; the next 429 above the limit states it again. Short enough that a
// raised limit is found within seconds, long enough that probing a steady limit costs about one 429
// per hold (under 2% of the requests at 10/s). A slow limit (per minute) holds for 20 of its requests,
// so a probe never spends a large share of its window.
const CEILING_HOLD_MS = 5_000;
const CEILING_HOLD_REQUESTS = 20;

interface Waiter {
  resolve: (permit: LimiterPermit) => void;
}

/**
 * An adaptive limit on the requests a job sends to the annotation service, shared by all its
 * chunks. The service publishes no limit, answers 429 when it is exceeded, and its limit can
 * change while a job runs; this finds it, and follows it.
 *
 * Two controls, both lowered by the same signals:
 * - **Concurrency** (requests in flight), between `min` and `max`. It starts at `initial`, doubles
 *   per round of answers until the first throttle (slow start), then grows by one per round
 *   (additive increase) — only while requests actually wait for a slot, so an idle job does not
 *   inflate it.
 * - **Rate** (requests per second, paced evenly). Off until the first throttle or rising latency:
 *   then it starts at `backoffRatio` times the rate measured over the last second, and regrows on
 *   a CUBIC curve (slow near the rate that was throttled, faster beyond it). A rate limit, which
 *   is what a gateway enforces, cannot be met by a whole number of requests in flight; pacing can.
 *
 * A throttle answer, or an average latency that has risen `latencyTolerance` times above its
 * long-term level, lowers both (multiplicative decrease by `backoffRatio`, the concurrency by at
 * least one). One rule limits the decreases, as TCP does once per window: answers to requests that
 * were already sent when the limit was last lowered describe the old limit, so they are counted
 * but lower nothing again. Growth happens only on a healthy answer (not throttled, latency not
 * rising); time passing alone grows nothing. A decrease does not recall requests already sent: it
 * holds back new ones until fewer than the new limit are in flight.
 *
 * A throttle that states the enforced limit (the gateway's APIG.0308 says `limit:N,time:1 second`
 * or `time:1 minute`) also sets a ceiling on the rate: for a few seconds after the latest answer
 * that stated it, the pacer never goes above it, even below `minRate`; then it probes upwards from
 * it, gently, since a policy may be raised and only a probe finds that out. It is a ceiling, not a
 * target: the limit is the user's, shared with every other caller, so the job may get less.
 *
 * `Retry-After` is honoured by the retry of the request that got it (a floor on its backoff);
 * here it is a throttle signal like any other, so other chunks keep the pipe full meanwhile.
 *
 * **Sharers.** A throttle lowers only the limiter whose request got it. When k limiters share one
 * limit (the parts of a split job, each in its own worker), each throttle lowers the total by a
 * k-th of what it would lower one limiter's, while all k regrow: measured with 8 workers, 16% of
 * the requests were throttled against 2% for one limiter (docs/throughput.md "Many workers").
 * Told that k share the limit (`sharers`), a limiter regrows k times slower: its CUBIC clock and
 * its additive increase run at 1/k, so that k of them come back to the limit together as one
 * would alone (CUBIC with C/k³ is CUBIC with time stretched k times). Not after decreases for
 * rising latency: every sharer sees that at once and all decrease together, so each regrows as
 * one alone would, back to the pace it had before them (with the stretch, one slow second of the
 * service kept 8 workers at half the limit for 30 s), and probes beyond it k times slower (without
 * that, 8 probing at once drew 70 429s in 10 s). Its pace is its share of
 * the whole's: when the count changes, the pace is scaled by old/new count, so a part that ends
 * hands its share to the others at once (without it, the last parts of a job crawled at an
 * eighth of the limit, growing back k times slower: docs/throughput.md "Many workers").
 *
 * **Carry.** A new limiter starts with a slow start and no pacing, which against a limit already
 * found costs a burst of throttles. {@link carry} hands what this one learned (limit, pace,
 * sharers) to the next one against the same limit (the next part or invocation in this Lambda
 * container: lib/modelarts/PaceMemory.ts), which starts from there (`resume`), with its share of
 * the carried pace when it is told another count of sharers.
 *
 * @example
 * const limiter = new AdaptiveLimiter({ min: 1, max: 32, initial: 2 }, systemClock);
 * const permit = await limiter.acquire();
 * permit.release({ kind: 'answered', latencyMs: 150 });
 */
export class AdaptiveLimiter {
  private readonly min: number;
  private readonly max: number;
  private readonly initial: number;
  private readonly backoffRatio: number;
  private readonly latencyTolerance: number;
  private readonly minRate: number;
  private readonly rateGrowth: number;
  private sharers: number;

  // Concurrency limit; fractional between additive increases, whole after a decrease.
  private limitValue: number;
  private slowStart = true;
  private inFlight = 0;
  private readonly waiters: Waiter[] = [];
  private waitersHead = 0;

  // Pacing: Infinity until the first decrease. The ceiling: Infinity until a throttle states the limit.
  private rate = Number.POSITIVE_INFINITY;
  private rateCeiling = Number.POSITIVE_INFINITY;
  private rateCeilingUntil = 0;
  private rateBeforeDecrease = 0;
  private rateAfterDecrease = 0;
  // Milliseconds of healthy, paced traffic since the last decrease, and when the last such answer came.
  private growthElapsedMs = 0;
  private lastGrowthAt = 0;
  private nextSendAt = 0;
  private pacerTimerPending = false;
  private readonly recentGrants: number[] = [];

  // The last decrease was for rising latency, a signal every sharer sees at once; the pace before
  // the first of such decreases in a row, which it regrows to as if alone (see grow()).
  private sharedDecrease = false;
  private recoverTo = 0;

  // Permits are numbered; those numbered up to `decreaseMark` were sent before the last decrease.
  private grantSeq = 0;
  private decreaseMark = 0;

  private shortLatency = 0;
  private longLatency = 0;
  private latencySamples = 0;

  private throttledCount = 0;
  private decreaseCount = 0;
  private lowest: number;
  private highest: number;

  /**
   * @throws {RangeError} when a setting is out of range (a ceiling below 1, a ratio outside (0, 1), ...).
   */
  public constructor(options: AdaptiveLimiterOptions, private readonly clock: Pick<Clock, 'now' | 'sleep'>) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError(`limiter max must be a positive whole number, got ${options.max}`);
    if (!Number.isInteger(options.min) || options.min < 1) throw new RangeError(`limiter min must be a positive whole number, got ${options.min}`);
    if (!Number.isInteger(options.initial) || options.initial < 1) throw new RangeError(`limiter initial must be a positive whole number, got ${options.initial}`);
    this.backoffRatio = options.backoffRatio ?? 0.9;
    if (!(this.backoffRatio > 0 && this.backoffRatio < 1)) throw new RangeError(`limiter backoffRatio must be between 0 and 1, got ${this.backoffRatio}`);
    this.latencyTolerance = options.latencyTolerance ?? 2;
    if (!(this.latencyTolerance > 1)) throw new RangeError(`limiter latencyTolerance must be above 1, got ${this.latencyTolerance}`);
    this.minRate = options.minRate ?? 1;
    if (!(this.minRate > 0)) throw new RangeError(`limiter minRate must be above 0, got ${this.minRate}`);
    this.rateGrowth = options.rateGrowth ?? 0.04;
    if (!(this.rateGrowth > 0)) throw new RangeError(`limiter rateGrowth must be above 0, got ${this.rateGrowth}`);

    this.max = options.max;
    // A floor above the ceiling (LIMITER_MIN above a job's maxInFlight) yields to the ceiling.
    this.min = Math.min(options.min, options.max);
    const { resume } = options;
    this.initial = Math.min(this.max, Math.max(this.min, resume === undefined ? options.initial : resume.limit));
    this.limitValue = this.initial;
    this.lowest = this.initial;
    this.highest = this.initial;
    this.sharers = resume?.sharers ?? 1;
    if (resume !== undefined) {
      this.slowStart = resume.slowStart;
      this.rate = resume.rate;
      this.rateCeiling = resume.rateCeiling;
      this.rateCeilingUntil = resume.rateCeilingUntil;
      this.rateBeforeDecrease = resume.rateBeforeDecrease;
      this.rateAfterDecrease = resume.rateAfterDecrease;
      this.growthElapsedMs = resume.growthElapsedMs;
      this.sharedDecrease = resume.sharedDecrease;
      this.recoverTo = resume.recoverTo;
      // The time between the two limiters earns no growth (as an idle spell earns none).
      this.lastGrowthAt = clock.now();
    }
    // The carried pace was a share among the carry's sharers: this one takes its share among its own.
    if (options.sharers !== undefined) this.setSharers(options.sharers);
  }

  /**
   * Sets how many limiters share the service's limit with this one, itself included (at least 1;
   * a fraction is kept: it is an estimate). While pacing, the pace is this limiter's share of the
   * whole's: from k to k' sharers it is scaled by k/k' (a part that finished leaves its share to
   * the others at once, instead of their regrowing into it k times slower; a part that starts
   * takes its share from them). The concurrency limit is left to the additive increase: a rate
   * is what a gateway enforces.
   */
  public setSharers(sharers: number): void {
    if (!Number.isFinite(sharers) || sharers < 1 || sharers === this.sharers) return;
    const share = this.sharers / sharers;
    this.sharers = sharers;
    if (!Number.isFinite(this.rate)) return;
    this.rate = Math.max(this.rateFloor, Math.min(this.rateCeiling, this.rate * share));
    this.rateBeforeDecrease *= share;
    this.rateAfterDecrease *= share;
    this.recoverTo *= share;
  }

  /** What this limiter learned, for the next one against the same limit (`resume`). */
  public carry(): LimiterCarry {
    return {
      at: this.clock.now(),
      limit: this.limit,
      slowStart: this.slowStart,
      sharers: this.sharers,
      rate: this.rate,
      rateCeiling: this.rateCeiling,
      rateCeilingUntil: this.rateCeilingUntil,
      rateBeforeDecrease: this.rateBeforeDecrease,
      rateAfterDecrease: this.rateAfterDecrease,
      growthElapsedMs: this.growthElapsedMs,
      sharedDecrease: this.sharedDecrease,
      recoverTo: this.recoverTo,
    };
  }

  /** True once a request was sent through it: only then has it learned anything to carry. */
  public get used(): boolean {
    return this.grantSeq > 0;
  }

  /** Requests allowed in flight now. */
  public get limit(): number {
    return Math.floor(this.limitValue);
  }

  /**
   * Waits for a free slot (and, once pacing, for the request's turn), first come first served.
   * Every permit must be released exactly once.
   */
  public acquire(): Promise<LimiterPermit> {
    return new Promise((resolve) => {
      this.waiters.push({ resolve });
      this.pump();
    });
  }

  /** The current state, for progress logs. */
  public snapshot(): LimiterSnapshot {
    return {
      limit: this.limit,
      inFlight: this.inFlight,
      waiting: this.waiters.length - this.waitersHead,
      rate: roundedRate(this.rate),
      rateCeiling: roundedRate(this.rateCeiling),
      throttled: this.throttledCount,
      decreases: this.decreaseCount,
      sharers: this.sharers,
    };
  }

  /** What happened over the job, for the report. */
  public summary(): LimiterSummary {
    return {
      initial: this.initial,
      final: this.limit,
      min: this.min,
      max: this.max,
      lowest: this.lowest,
      highest: this.highest,
      throttled: this.throttledCount,
      decreases: this.decreaseCount,
      finalRate: roundedRate(this.rate),
    };
  }

  // Grants permits while a slot is free and the pacer allows; otherwise waits for a release or the pacer's next turn.
  private pump(): void {
    while (this.waitersHead < this.waiters.length && this.inFlight < this.limit) {
      const now = this.clock.now();
      let pacerBound = false;
      if (Number.isFinite(this.rate)) {
        if (now < this.nextSendAt) {
          this.wakeAt(this.nextSendAt - now);
          return;
        }
        const interval = 1_000 / this.rate;
        // Timers fire late: a turn missed by less than one interval is caught up, not lost.
        pacerBound = this.nextSendAt > now - interval;
        this.nextSendAt = Math.max(this.nextSendAt, now - interval) + interval;
      }
      const waiter = this.waiters[this.waitersHead] as Waiter;
      this.waitersHead += 1;
      if (this.waitersHead > 1_024 && this.waitersHead * 2 > this.waiters.length) {
        this.waiters.splice(0, this.waitersHead);
        this.waitersHead = 0;
      }
      this.inFlight += 1;
      this.grantSeq += 1;
      this.noteGrant(now);
      // Took the last free slot: the concurrency limit is what holds the job back.
      const tookLastSlot = this.inFlight >= this.limit;
      waiter.resolve(this.permit(this.grantSeq, tookLastSlot, pacerBound));
    }
  }

  private wakeAt(delayMs: number): void {
    if (this.pacerTimerPending) return;
    this.pacerTimerPending = true;
    void this.clock.sleep(delayMs).then(() => {
      this.pacerTimerPending = false;
      this.pump();
    });
  }

  private permit(seq: number, tookLastSlot: boolean, pacerBound: boolean): LimiterPermit {
    let released = false;
    return {
      release: (signal) => {
        if (released) return;
        released = true;
        // The slot this frees is wanted at once: requests wait while every slot is taken.
        const slotBound = tookLastSlot || (this.inFlight >= this.limit && this.waitersHead < this.waiters.length);
        this.inFlight -= 1;
        this.learn(signal, seq, slotBound, pacerBound);
        this.pump();
      },
    };
  }

  private learn(signal: LimiterSignal, seq: number, slotBound: boolean, pacerBound: boolean): void {
    if (signal.kind === 'dropped') return;
    // Sent before the last decrease: it describes the old limit, which was already lowered for it.
    const fresh = seq > this.decreaseMark;
    if (signal.kind === 'throttled') {
      this.throttledCount += 1;
      // The latest statement wins (the gateway's policy may change); a stale answer's too, it is still the gateway's word.
      if (signal.rateCeiling !== undefined && signal.rateCeiling > 0) {
        this.rateCeiling = signal.rateCeiling;
        this.rateCeilingUntil = this.clock.now() + Math.max(CEILING_HOLD_MS, (CEILING_HOLD_REQUESTS * 1_000) / signal.rateCeiling);
        if (this.rate > this.rateCeiling && Number.isFinite(this.rate)) this.rate = this.rateCeiling;
      }
      if (fresh) this.decrease(false);
      return;
    }
    if (this.latencyRising(signal.latencyMs)) {
      if (fresh) this.decrease(true);
      return;
    }
    this.grow(slotBound, pacerBound);
  }

  // Feeds one latency sample to both averages; true when the short-term one has risen too far above the long-term one.
  private latencyRising(latencyMs: number): boolean {
    const sample = Math.max(0, latencyMs);
    if (this.latencySamples === 0) {
      this.shortLatency = sample;
      this.longLatency = sample;
    } else {
      this.shortLatency += SHORT_WEIGHT * (sample - this.shortLatency);
      this.longLatency += LONG_WEIGHT * (sample - this.longLatency);
    }
    this.latencySamples += 1;
    return (
      this.latencySamples >= MIN_LATENCY_SAMPLES &&
      this.shortLatency > this.latencyTolerance * Math.max(1, this.longLatency) &&
      this.shortLatency - this.longLatency > MIN_LATENCY_RISE_MS
    );
  }

  // Regrowing after decreases for rising latency, still below the pace it had before them.
  private get recovering(): boolean {
    return this.sharedDecrease && this.rate < this.recoverTo;
  }

  // The lowest pace: `minRate`, or a lower limit the gateway stated (it refuses anything above it).
  private get rateFloor(): number {
    return Math.min(this.minRate, this.rateCeiling);
  }

  private grow(slotBound: boolean, pacerBound: boolean): void {
    // A throttle lowers only the limiter whose request got it, so k sharers regrow k times slower.
    // Rising latency is seen by every sharer at once: all of them decreased, and each regrows as one
    // alone would, back to the pace it had; beyond that pace it probes k times slower again.
    const sharers = this.recovering ? 1 : this.sharers;
    if (slotBound && this.limitValue < this.max) {
      // Slow start: +1 per answer doubles the limit per round; afterwards +1/limit per answer adds one per round.
      // With k sharers, +1/(k·limit): k limiters together add one per round, as one would.
      this.limitValue = Math.min(this.max, this.limitValue + (this.slowStart ? 1 : 1 / (this.limitValue * sharers)));
      this.highest = Math.max(this.highest, this.limit);
    }
    if (pacerBound && Number.isFinite(this.rate)) {
      const now = this.clock.now();
      if (Number.isFinite(this.rateCeiling) && now >= this.rateCeilingUntil) {
        // The stated limit lapsed: probe upwards from it (CUBIC's convex phase, K = 0), gently.
        this.rateBeforeDecrease = this.rateCeiling;
        this.rateAfterDecrease = this.rateCeiling;
        this.rate = Math.min(this.rate, this.rateCeiling);
        this.growthElapsedMs = 0;
        this.rateCeiling = Number.POSITIVE_INFINITY;
      }
      // With k sharers the curve's clock runs k times slower (see the class's comment).
      this.growthElapsedMs += Math.min(MAX_GROWTH_STEP_MS, Math.max(0, now - this.lastGrowthAt)) / sharers;
      this.lastGrowthAt = now;
      // CUBIC: W(t) = Wmax + C·Wmax·(t − K)³, with K chosen so that W(0) is the rate set at the decrease.
      const t = this.growthElapsedMs / 1_000;
      const c = this.rateGrowth * this.rateBeforeDecrease;
      const k = Math.cbrt(Math.max(0, this.rateBeforeDecrease - this.rateAfterDecrease) / c);
      const target = Math.min(this.rateCeiling, this.rateBeforeDecrease + c * (t - k) ** 3);
      if (target > this.rate) this.rate = target;
    }
  }

  private decrease(shared: boolean): void {
    const now = this.clock.now();
    // The pace to come back to: the one before this run of latency decreases (one still recovering keeps its mark).
    const recovering = this.recovering;
    this.sharedDecrease = shared;
    if (shared && !recovering) this.recoverTo = Number.isFinite(this.rate) ? Math.min(this.rate, this.measuredSendRate(now)) : this.measuredSendRate(now);
    this.decreaseCount += 1;
    this.decreaseMark = this.grantSeq;
    this.slowStart = false;
    const whole = Math.floor(this.limitValue);
    this.limitValue = Math.max(this.min, Math.min(whole - 1, Math.floor(whole * this.backoffRatio)));
    this.lowest = Math.min(this.lowest, this.limit);

    // What actually went out: a rate grown past what the slots let through would take many decreases to come down from.
    // A stated ceiling bounds it, and wins over the floor: the gateway refuses anything above it.
    const floor = this.rateFloor;
    const current = Math.max(floor, Math.min(this.rate, this.measuredSendRate(now), this.rateCeiling));
    this.rateBeforeDecrease = current;
    this.rate = Math.max(floor, current * this.backoffRatio);
    this.rateAfterDecrease = this.rate;
    this.growthElapsedMs = 0;
    this.lastGrowthAt = now;
    // Pacing starts now: no credit for the time before.
    this.nextSendAt = Math.max(this.nextSendAt, now);
  }

  private noteGrant(now: number): void {
    this.recentGrants.push(now);
    // Only the last window is kept; at most rate × 1 s entries.
    let drop = 0;
    while (drop < this.recentGrants.length && (this.recentGrants[drop] as number) <= now - RATE_WINDOW_MS) drop += 1;
    if (drop > 0) this.recentGrants.splice(0, drop);
  }

  // Requests per second granted over the last window (or since the first grant, when younger).
  private measuredSendRate(now: number): number {
    const recent = this.recentGrants.filter((at) => at > now - RATE_WINDOW_MS);
    const first = recent[0];
    if (first === undefined) return this.minRate;
    const spanMs = Math.min(RATE_WINDOW_MS, Math.max(100, now - first));
    return (recent.length * 1_000) / spanMs;
  }
}

function roundedRate(rate: number): number | null {
  return Number.isFinite(rate) ? Math.round(rate * 10) / 10 : null;
}
