import type { CompactRequest } from '../local/emulator/emulatorAdmin.js';

/** The deleting phase of a run, as the emulator saw it. */
export interface DeletingPhase {
  /** The first request received (epoch ms). */
  first: number;
  /** The last answer sent (epoch ms). */
  last: number;
  ms: number;
  /** Requests answered in each second of the phase, and of them 429s: [2xx, 429]. */
  perSecond: Array<[number, number]>;
}

/**
 * The deleting phase of a run from the emulator's request log (every request of the log is one of
 * the run's deletes): from the first request received to the last answer.
 *
 * @throws when the log is empty.
 */
export function deletingPhase(log: readonly CompactRequest[]): DeletingPhase {
  if (log.length === 0) throw new Error('the emulator received no request');
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const [receivedAt, answeredAt] of log) {
    first = Math.min(first, receivedAt);
    last = Math.max(last, answeredAt);
  }
  const perSecond = Array.from({ length: Math.ceil((last - first) / 1_000) }, (): [number, number] => [0, 0]);
  for (const [, answeredAt, status] of log) {
    const window = perSecond[Math.floor((answeredAt - first) / 1_000)];
    if (window !== undefined) window[status === 429 ? 1 : 0] += 1;
  }
  return { first, last, ms: last - first, perSecond };
}
