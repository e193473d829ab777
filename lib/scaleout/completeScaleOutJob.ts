import { claimLease } from '../aws/claimLease.js';
import { readS3Json } from '../aws/readS3Json.js';
import { cancelledStop, readCancelRequest, type CancelRequest } from '../job/cancelRequest.js';
import type { CleanupDeps } from '../job/types.js';
import { STOPPED_AT } from '../job/wholeJobStop.js';
import { createJobStats } from '../pipeline/jobStats.js';
import { DELETE_OUTCOMES } from '../pipeline/outcome.js';
import { concatenateReports } from '../report/assembleReport.js';
import { buildJobSummary } from '../report/buildJobSummary.js';
import type { JobStop, JobSummary } from '../report/jobSummary.js';
import { LatencyHistogram } from '../report/LatencyHistogram.js';
import { readJobSummary } from '../report/readJobSummary.js';
import { writeJobSummary } from '../report/writeJobSummary.js';
import { deletePlanFiles } from './deletePlanFiles.js';
import { listPartFiles } from './listPartFiles.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';
import type { ScaleOutPlan } from './scaleOutPlanSchema.js';
import { planFacts } from './planFacts.js';
import { stopMarkerSchema, type StopMarker } from './stopMarkerSchema.js';
import { writeJobProgress } from './writeJobProgress.js';

/** How a completion check ended. */
export type CompletionOutcome =
  /** Some parts have no summary yet: a later part's worker will assemble. */
  | { kind: 'parts_pending'; done: number; total: number }
  /** Another worker holds the assembly lock right now. */
  | { kind: 'assembling_elsewhere' }
  /** The final summary was there already. */
  | { kind: 'already_complete'; summary: JobSummary }
  /** This call assembled the final report. */
  | { kind: 'assembled'; summary: JobSummary };

// The lock outlives a crashed assembler by this much; its message comes back after the visibility timeout.
const LOCK_MS = 16 * 60_000;

/**
 * Called by a worker after its part ended: when every part has its summary, exactly one worker
 * assembles the job's final report. Which one is decided by an S3 conditional write
 * (`If-None-Match: *` on `assembly.lock`, through lib/aws/claimLease.ts, so a lock left by a crash
 * is taken over once expired). Parts write their summary before they check, and S3 lists are
 * read-after-write consistent, so the last of two parts ending together sees both: never neither.
 *
 * Under the lock: `failed.csv` and `results.jsonl.gz` are concatenated from part 0 (entries the
 * planner settled) and the parts, streamed (lib/report/assembleReport.ts); the counts are added up (they
 * equal the original manifest's entries); `summary.json` is written last, then `progress.json`; the
 * part manifests and their segments are deleted. A part given up (its message dead-lettered, lib/triggers/giveUpPart.ts)
 * has a summary like any other: the job completes, `stopped_abandoned`, naming it. Parts a cancel
 * request stopped make the job `cancelled`.
 */
export async function completeScaleOutJob(plan: ScaleOutPlan, layout: ScaleOutLayout, deps: CleanupDeps, owner: string): Promise<CompletionOutcome> {
  const { s3, clock, logger } = deps;
  const { job } = layout;
  const existing = await readJobSummary(s3, job);
  if (existing !== undefined) return { kind: 'already_complete', summary: existing };
  const done = await listPartFiles(s3, layout, 'summary.json');
  if (done.size < plan.parts.length) return { kind: 'parts_pending', done: done.size, total: plan.parts.length };

  const lock = await claimLease({ s3, bucket: job.bucket, clock }, plan.jobId, layout.lockKey, { owner, expiresAt: clock.now() + LOCK_MS });
  if (lock === undefined) return { kind: 'assembling_elsewhere' };
  try {
    const finished = await readJobSummary(s3, job);
    if (finished !== undefined) return { kind: 'already_complete', summary: finished };
    const parts = await Promise.all(plan.parts.map(async ({ part }) => {
      const summary = await readJobSummary(s3, layout.partLocation(part));
      if (summary === undefined) throw new Error(`part ${part} of job ${plan.jobId} has no summary although it was listed`);
      return summary;
    }));
    const stop = await readS3Json(s3, job.bucket, layout.stopKey, stopMarkerSchema);
    const cancelled = parts.filter((part) => part.stop?.kind === 'cancelled').length;
    const cancel = cancelled > 0 ? await readCancelRequest(s3, job) : undefined;
    await concatenateReports(s3, job, [layout.screened, ...plan.parts.map(({ part }) => layout.partLocation(part))]);
    const summary = finalSummary(plan, layout, parts, stop, cancel === undefined ? undefined : { request: cancel, parts: cancelled }, clock.now());
    await writeJobSummary(s3, job, summary, logger);
    await writeJobProgress(s3, layout, plan, clock, summary);
    // The part manifests and their segments repeat the manifest's IDs; the report has them all now.
    await deletePlanFiles(s3, layout).catch((error: unknown) => {
      logger.warn('part manifests not deleted', { jobId: plan.jobId, error: error as Error });
    });
    logger.info('split job assembled', { jobId: plan.jobId, status: summary.status, counts: summary.counts, parts: plan.parts.length });
    return { kind: 'assembled', summary };
  } finally {
    await lock.release();
  }
}

function finalSummary(plan: ScaleOutPlan, layout: ScaleOutLayout, parts: readonly JobSummary[], stop: StopMarker | undefined, cancel: { request: CancelRequest; parts: number } | undefined, now: number): JobSummary {
  const counts = { ...plan.screened.counts };
  let normalized = plan.screened.normalized;
  const stats = createJobStats();
  let invocations = 1;
  // The parts' histograms add up, so the job's percentiles are as exact as a single run's.
  const latency = new LatencyHistogram();
  for (const part of parts) {
    for (const outcome of DELETE_OUTCOMES) counts[outcome] += part.counts[outcome];
    normalized += part.normalized;
    stats.requests += part.requests;
    stats.retries += part.retries;
    stats.throttled += part.throttled;
    invocations += part.invocations;
    if (part.chunkLatencyHistogram !== undefined) latency.merge(part.chunkLatencyHistogram);
  }
  const skipped = parts.filter((part) => STOPPED.has(part.status)).length;
  // Parts given up (their message dead-lettered) come first: the job did not run to its end.
  const abandoned = plan.parts.filter((_, i) => parts[i]?.stop?.kind === 'abandoned').map(({ part }) => part);
  // Then a cancel that stopped a part (the operator's act names the ending), then a job-wide stop.
  const jobStop = abandoned.length > 0 ? abandonedStop(abandoned, plan.parts.length, counts.failed)
    : cancel !== undefined ? cancelledStop(cancel.request, counts.skipped, { parts: { stopped: cancel.parts, total: plan.parts.length } })
    : stop === undefined ? undefined : thresholdStop(stop, plan.parts.length, skipped, counts.skipped);
  return buildJobSummary({
    ...planFacts(plan, layout),
    counts,
    normalized,
    finishedAt: now,
    invocations,
    stats,
    latency: latency.toJSON(),
    ...(jobStop === undefined ? {} : { stop: jobStop }),
  });
}

// The parts given up, and what that cost the job: their entries not reached failed (DEAD_LETTERED).
function abandonedStop(abandoned: readonly number[], parts: number, failed: number): JobStop {
  const which = abandoned.length === 1 ? `part ${abandoned[0]}` : `parts ${abandoned.join(', ')}`;
  return { kind: 'abandoned', cause: 'dead_lettered', reason: `${which} of ${parts} reached the dead-letter queue: their entries not reached are failed (DEAD_LETTERED); ${failed} IDs failed in all, failed.csv lists them to re-run`, parts: [...abandoned] };
}

// The statuses of a part that a stop of the whole job ended.
const STOPPED: ReadonlySet<JobSummary['status']> = new Set(['stopped_failure_threshold', 'stopped_not_found', 'stopped_service_refused']);

// The part that stopped the job (stop.json: its kind, the failure threshold when it has none), and what that cost the rest of the job.
function thresholdStop(stop: StopMarker, parts: number, stoppedParts: number, skippedIds: number): JobStop {
  const kind = stop.kind ?? 'failure_threshold';
  const crossing = `part ${stop.part} of ${parts} ${kind === 'service_refused' ? 'met it' : 'crossed it'} (${stop.reason})`;
  const reason = `stopped ${STOPPED_AT[kind]}: ${crossing}; ${stoppedParts} parts stopped, ${skippedIds} IDs not attempted are skipped`;
  if (kind === 'service_refused') return { kind, reason, crossing, part: stop.part, ...(stop.code === undefined ? {} : { code: stop.code }) };
  return { kind, reason, crossing, part: stop.part };
}
