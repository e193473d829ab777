import type { CompactRequest } from '../local/emulator/emulatorAdmin.js';

/** How the job fared after the service's rate limit changed. */
export interface Recovery {
  changedAt: number;
  newLimitPerSecond: number;
  /**
   * Milliseconds from the change to the start of the first one-second window in which the IDs
   * deleted (2xx answers, by arrival) reach `threshold` of the new limit; null if none did.
   */
  aboveThresholdAfterMs: number | null;
  /** Milliseconds from the change to the first one-second window with at most 5% of requests throttled; null if none. */
  throttlingCalmAfterMs: number | null;
  /** Per second after the change: [2xx, 429, 5xx]. */
  perSecond: Array<[number, number, number]>;
}

const RECEIVED = 0;
const STATUS = 2;
const IDS = 3;
const WINDOW_MS = 1_000;
const STEP_MS = 100;

/**
 * Scans one-second windows (in steps of 100 ms) from `changedAt` to `until` for the first in
 * which the deleted IDs per second reach `threshold × newLimitPerSecond × chunkSize`.
 */
export function recoveryAfterChange(log: readonly CompactRequest[], changedAt: number, until: number, newLimitPerSecond: number, chunkSize: number, threshold: number): Recovery {
  const entries = log.filter((entry) => entry[RECEIVED] >= changedAt && entry[RECEIVED] < until);
  let aboveThresholdAfterMs: number | null = null;
  let throttlingCalmAfterMs: number | null = null;
  for (let start = changedAt; start + WINDOW_MS <= until && (aboveThresholdAfterMs === null || throttlingCalmAfterMs === null); start += STEP_MS) {
    const window = entries.filter((entry) => entry[RECEIVED] >= start && entry[RECEIVED] < start + WINDOW_MS);
    const deletedIds = window.filter((entry) => entry[STATUS] >= 200 && entry[STATUS] < 300).reduce((sum, entry) => sum + entry[IDS], 0);
    const throttled = window.filter((entry) => entry[STATUS] === 429).length;
    if (aboveThresholdAfterMs === null && deletedIds >= threshold * newLimitPerSecond * chunkSize) aboveThresholdAfterMs = start - changedAt;
    if (throttlingCalmAfterMs === null && window.length > 0 && throttled <= 0.05 * window.length) throttlingCalmAfterMs = start - changedAt;
  }
  const perSecond: Array<[number, number, number]> = [];
  for (let start = changedAt; start < until; start += 1_000) {
    const second = entries.filter((entry) => entry[RECEIVED] >= start && entry[RECEIVED] < start + 1_000);
    perSecond.push([
      second.filter((entry) => entry[STATUS] >= 200 && entry[STATUS] < 300).length,
      second.filter((entry) => entry[STATUS] === 429).length,
      second.filter((entry) => entry[STATUS] >= 500).length,
    ]);
  }
  return { changedAt, newLimitPerSecond, aboveThresholdAfterMs, throttlingCalmAfterMs, perSecond };
}
