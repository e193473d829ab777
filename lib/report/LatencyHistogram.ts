/** A histogram's state, as saved in a checkpoint and merged across invocations. */
export interface LatencyHistogramState {
  /** Count per bucket; bucket i holds values in [2^((i-1)/4), 2^(i/4)) ms, bucket 0 values under 1 ms. */
  buckets: number[];
  count: number;
  maxMs: number;
}

/** Percentiles of chunk latency, in milliseconds. */
export interface LatencyPercentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

// Four buckets per doubling: a percentile is known within 19%, in a few hundred numbers whatever
// the job's size, and histograms of several invocations (or parts) simply add up.
const BUCKETS_PER_DOUBLING = 4;

/** Chunk latencies of a job, in bounded memory, mergeable across invocations and parts. */
export class LatencyHistogram {
  private readonly state: LatencyHistogramState;

  public constructor(state?: LatencyHistogramState) {
    this.state = state ? { buckets: [...state.buckets], count: state.count, maxMs: state.maxMs } : { buckets: [], count: 0, maxMs: 0 };
  }

  /** Adds one latency. */
  public record(ms: number): void {
    const index = ms < 1 ? 0 : Math.floor(Math.log2(ms) * BUCKETS_PER_DOUBLING) + 1;
    this.state.buckets[index] = (this.state.buckets[index] ?? 0) + 1;
    this.state.count += 1;
    this.state.maxMs = Math.max(this.state.maxMs, ms);
  }

  /** Adds another histogram's counts. */
  public merge(other: LatencyHistogramState): void {
    other.buckets.forEach((n, i) => {
      if (n) this.state.buckets[i] = (this.state.buckets[i] ?? 0) + n;
    });
    this.state.count += other.count;
    this.state.maxMs = Math.max(this.state.maxMs, other.maxMs);
  }

  /** The state, for a checkpoint. Empty buckets are written as 0. */
  public toJSON(): LatencyHistogramState {
    return { buckets: Array.from(this.state.buckets, (n) => n ?? 0), count: this.state.count, maxMs: this.state.maxMs };
  }

  /** p50, p90, p99 (each the upper edge of its bucket, capped at the max seen) and the max. */
  public percentiles(): LatencyPercentiles {
    const at = (q: number): number => {
      if (this.state.count === 0) return 0;
      const rank = Math.ceil(q * this.state.count);
      let seen = 0;
      for (let i = 0; i < this.state.buckets.length; i += 1) {
        seen += this.state.buckets[i] ?? 0;
        if (seen >= rank) return Math.min(this.state.maxMs, Math.round(2 ** (i / BUCKETS_PER_DOUBLING)));
      }
      return this.state.maxMs;
    };
    return { count: this.state.count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Math.round(this.state.maxMs) };
  }
}
