import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../lib/report/LatencyHistogram.js';
import { seededRandom } from '../../../local/emulator/seededRandom.js';

const exact = (sorted: readonly number[], q: number): number => sorted[Math.ceil(q * sorted.length) - 1]!;

describe('LatencyHistogram', () => {
  it('gives percentiles within a bucket (19%) of the exact ones', () => {
    // Prepare: 10,000 latencies from 1 ms to about 5 s, skewed like real ones.
    const random = seededRandom(7);
    const values = Array.from({ length: 10_000 }, () => Math.round(1 + 5_000 * random() ** 3));
    const histogram = new LatencyHistogram();

    // Act
    for (const value of values) histogram.record(value);
    const percentiles = histogram.percentiles();

    // Assess
    const sorted = [...values].sort((a, b) => a - b);
    expect(percentiles.count).toBe(10_000);
    expect(percentiles.max).toBe(sorted.at(-1));
    for (const [q, got] of [[0.5, percentiles.p50], [0.9, percentiles.p90], [0.99, percentiles.p99]] as const) {
      const want = exact(sorted, q);
      expect(got).toBeGreaterThanOrEqual(want * 0.81);
      expect(got).toBeLessThanOrEqual(want * 1.19 + 1);
    }
  });

  it('merges two histograms into what one histogram fed every value holds', () => {
    // Prepare
    const random = seededRandom(3);
    const first = Array.from({ length: 500 }, () => 1 + 300 * random());
    const second = Array.from({ length: 700 }, () => 200 + 2_000 * random());
    const [a, b, whole] = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
    for (const value of first) a.record(value);
    for (const value of second) b.record(value);
    for (const value of [...first, ...second]) whole.record(value);

    // Act
    a.merge(b.toJSON());

    // Assess
    expect(a.toJSON()).toEqual(whole.toJSON());
    expect(a.percentiles()).toEqual(whole.percentiles());
  });

  it('survives a round trip through its state (a checkpoint)', () => {
    const histogram = new LatencyHistogram();
    for (const value of [0.5, 3, 40, 40, 900]) histogram.record(value);
    const restored = new LatencyHistogram(JSON.parse(JSON.stringify(histogram.toJSON())) as ReturnType<LatencyHistogram['toJSON']>);
    expect(restored.percentiles()).toEqual(histogram.percentiles());
    expect(restored.toJSON()).toEqual(histogram.toJSON());
  });

  it('is all zeros when empty', () => {
    expect(new LatencyHistogram().percentiles()).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });
});
