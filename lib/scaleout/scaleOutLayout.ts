import { PLAN_CHECKPOINT_NAME } from '../job/types.js';
import { reportLocation, type ReportLocation } from '../report/ReportLocation.js';

/** The keys of a split job (docs/scale-out.md), all in its report folder. */
export interface ScaleOutLayout {
  /** The job's own report folder: its final `summary.json`, `failed.csv`, `results.jsonl.gz`. */
  job: ReportLocation;
  /** `plan.json`: parts, counts, target, options. */
  planKey: string;
  /** Part manifests live under here (`plan/part-0001.jsonl`); only the part worker may read them. */
  planPrefix: string;
  /** `plan-checkpoint.json`: how far planning got (lib/scaleout/planCheckpointSchema.ts); gone once `plan.json` is written. */
  planCheckpointKey: string;
  /** Written by the part that crosses the job's failure threshold; parts starting later skip their IDs. */
  stopKey: string;
  /** The conditional write that decides which worker assembles the final report. */
  lockKey: string;
  /** `progress.json`, for `npm run job -- status <job-id>`. */
  progressKey: string;
  /** Prefix of the parts' report folders (`parts/part-0001/`). */
  partsPrefix: string;
  /** Where the entries the planner settled itself (invalid, repeats) are reported: "part 0". */
  screened: { failedKey: string; resultsKey: string };
  partManifestKey(part: number): string;
  /** One window's lines of one hash slot (1-based): `plan/slot-0001/w-00003.jsonl`; a part's manifest is its slot's segments in window order. */
  segmentKey(slot: number, window: number): string;
  /** What the planner settled itself in one window (part 0's report files, concatenated once planning ends). */
  screenedWindow(window: number): { failedKey: string; resultsKey: string };
  /** The report folder of a part (its summary, checkpoint, claim and progress). */
  partLocation(part: number): ReportLocation;
  partProgressKey(part: number): string;
}

/** `part-0001`: parts sort by name up to 9,999 and stay unique beyond. */
export function partName(part: number): string {
  return `part-${String(part).padStart(4, '0')}`;
}

/** The idempotency id of a part: `{jobId}.part-0001`. */
export function partJobId(jobId: string, part: number): string {
  return `${jobId}.${partName(part)}`;
}

/** Builds the keys of a split job from its report folder. */
export function scaleOutLayout(job: ReportLocation): ScaleOutLayout {
  const partLocation = (part: number): ReportLocation => reportLocation(job.bucket, job.partsPrefix, partName(part));
  // The per-invocation part files of a job live in `parts/{invocation}/`: numbers, never `part-…`.
  const screened = partLocation(0);
  return {
    job,
    planKey: `${job.prefix}plan.json`,
    planPrefix: `${job.prefix}plan/`,
    planCheckpointKey: `${job.prefix}${PLAN_CHECKPOINT_NAME}`,
    stopKey: `${job.prefix}stop.json`,
    lockKey: `${job.prefix}assembly.lock`,
    progressKey: `${job.prefix}progress.json`,
    partsPrefix: job.partsPrefix,
    screened: { failedKey: screened.failedKey, resultsKey: screened.resultsKey },
    partManifestKey: (part) => `${job.prefix}plan/${partName(part)}.jsonl`,
    segmentKey: (slot, window) => `${job.prefix}plan/slot-${String(slot).padStart(4, '0')}/w-${String(window).padStart(5, '0')}.jsonl`,
    screenedWindow: (window) => ({ failedKey: `${screened.prefix}w-${String(window).padStart(5, '0')}/failed.csv`, resultsKey: `${screened.prefix}w-${String(window).padStart(5, '0')}/results.jsonl.gz` }),
    partLocation,
    partProgressKey: (part) => `${partLocation(part).prefix}progress.json`,
  };
}
