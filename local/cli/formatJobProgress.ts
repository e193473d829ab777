import type { JobProgress } from '../../lib/report/jobProgressSchema.js';
import { DELETE_OUTCOMES } from '../../lib/pipeline/outcome.js';

const BAR_WIDTH = 40;
const number = (n: number): string => n.toLocaleString('en');

/** Seconds as `1 h 02 min`, `3 min 05 s` or `42 s`. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3_600) return `${Math.floor(s / 3_600)} h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${s} s`;
}

/**
 * A job's `progress.json` as a few lines for a terminal: a progress bar of the entries settled,
 * the parts (a job with none — not split — has no parts line), the rate and the time left, and
 * the count of each outcome, and — while an unsplit job runs — its limiter's state (a finished
 * job's is its summary's: local/cli/jobStatus.ts).
 */
export function formatJobProgress(progress: JobProgress): string {
  // A job being planned has no entries counted yet: its bar is empty, not full.
  const share = progress.state === 'planning' ? 0 : progress.entries === 0 ? 1 : progress.settled / progress.entries;
  const filled = Math.round(share * BAR_WIDTH);
  const { parts } = progress;
  const lines = [
    `job ${progress.jobId}: ${progress.state === 'done' ? `done (${progress.status ?? ''})` : progress.state}`,
    `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(share * 100).toFixed(1)}%  ${number(progress.settled)} / ${number(progress.entries)} entries`,
    ...(parts.total === 0 ? [] : [`parts: ${parts.done} of ${parts.total} done, ${parts.running} running, ${parts.waiting} waiting`]),
    `rate: ${number(Math.round(progress.idsPerSecond))} IDs/s${progress.state === 'done' ? '' : `, time left: ${progress.etaSeconds === null ? 'unknown yet' : duration(progress.etaSeconds)}`}`,
    `outcomes: ${DELETE_OUTCOMES.filter((outcome) => progress.counts[outcome] > 0).map((outcome) => `${outcome} ${number(progress.counts[outcome])}`).join(', ') || 'none yet'}`,
    `updated: ${progress.updatedAt}`,
  ];
  const { limiter } = progress;
  if (limiter !== undefined && progress.state !== 'done') {
    lines.push(`limiter: ${limiter.inFlight} in flight of ${limiter.limit} allowed, ${limiter.waiting} waiting, ${limiter.rate === null ? 'not pacing' : `pacing at ${limiter.rate.toFixed(1)} requests/s`}, ${limiter.throttled} throttled answers, ${limiter.decreases} decreases`);
  }
  if (progress.stopReason !== undefined) lines.push(`stopped: ${progress.stopReason}`);
  if (progress.state === 'done') lines.push(`report: ${progress.summary}`);
  return lines.join('\n');
}
