import type { CompactRequest } from '../local/emulator/emulatorAdmin.js';

/** What the emulator saw of one run: requests, throttles and transient faults, overall and after a warm-up. */
export interface RequestFigures {
  requests: number;
  throttled: number;
  transientFaults: number;
  /** Share of requests answered 429. */
  throttledShare: number;
  requestsAfterWarmup: number;
  throttledAfterWarmup: number;
  throttledShareAfterWarmup: number;
}

const RECEIVED = 0;
const STATUS = 2;

/**
 * Counts the requests the emulator received in [start, end) (epoch ms), and those received after
 * `start + warmupMs`, by answer: 429 (throttled), 5xx (transient faults).
 */
export function requestFigures(log: readonly CompactRequest[], start: number, end: number, warmupMs: number): RequestFigures {
  const inRun = log.filter((entry) => entry[RECEIVED] >= start && entry[RECEIVED] < end);
  const afterWarmup = inRun.filter((entry) => entry[RECEIVED] >= start + warmupMs);
  const throttled = inRun.filter((entry) => entry[STATUS] === 429).length;
  const throttledAfterWarmup = afterWarmup.filter((entry) => entry[STATUS] === 429).length;
  return {
    requests: inRun.length,
    throttled,
    transientFaults: inRun.filter((entry) => entry[STATUS] >= 500).length,
    throttledShare: share(throttled, inRun.length),
    requestsAfterWarmup: afterWarmup.length,
    throttledAfterWarmup,
    throttledShareAfterWarmup: share(throttledAfterWarmup, afterWarmup.length),
  };
}

function share(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}
