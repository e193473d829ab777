import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { concatenateReports } from '../report/assembleReport.js';
import { jobSummarySchema, s3Uri, SUMMARY_FORMAT_VERSION, type JobSummary } from '../report/jobSummary.js';
import { listPartFiles } from './listPartFiles.js';
import { claimManifest } from '../aws/manifestClaim.js';
import { DELETE_OUTCOMES, type OutcomeCounts } from '../pipeline/outcome.js';
import { readS3Json } from '../aws/readS3Json.js';
import type { CleanupDeps } from '../job/runCleanupJob.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';
import type { ScaleOutPlan } from './scaleOutPlanSchema.js';
import { stopMarkerSchema, type StopMarker } from './stopMarkerSchema.js';
import { writeJobProgress } from './writeJobProgress.js';
import { writeS3Json } from '../aws/writeS3Json.js';

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
 * (`If-None-Match: *` on `assembly.lock`, through lib/aws/manifestClaim.ts, so a lock left by a crash
 * is taken over once expired). Parts write their summary before they check, and S3 lists are
 * read-after-write consistent, so the last of two parts ending together sees both: never neither.
 *
 * Under the lock: `failed.csv` and `results.jsonl.gz` are concatenated from part 0 (entries the
 * planner settled) and the parts, streamed (lib/report/assembleReport.ts); the counts are added up (they
 * equal the original manifest's entries); `summary.json` is written last, then `progress.json`; the
 * part manifests are deleted.
 */
export async function completeScaleOutJob(plan: ScaleOutPlan, layout: ScaleOutLayout, deps: CleanupDeps, owner: string): Promise<CompletionOutcome> {
  const { s3, clock, logger } = deps;
  const { job } = layout;
  const existing = await readS3Json(s3, job.bucket, job.summaryKey, jobSummarySchema);
  if (existing !== undefined) return { kind: 'already_complete', summary: existing };
  const done = await listPartFiles(s3, layout, 'summary.json');
  if (done.size < plan.parts.length) return { kind: 'parts_pending', done: done.size, total: plan.parts.length };

  const lock = await claimManifest({ s3, bucket: job.bucket, clock }, plan.jobId, layout.lockKey, { owner, expiresAt: clock.now() + LOCK_MS });
  if (lock === undefined) return { kind: 'assembling_elsewhere' };
  try {
    const finished = await readS3Json(s3, job.bucket, job.summaryKey, jobSummarySchema);
    if (finished !== undefined) return { kind: 'already_complete', summary: finished };
    const parts = await Promise.all(plan.parts.map(async ({ part }) => {
      const summary = await readS3Json(s3, job.bucket, layout.partLocation(part).summaryKey, jobSummarySchema);
      if (summary === undefined) throw new Error(`part ${part} of job ${plan.jobId} has no summary although it was listed`);
      return summary;
    }));
    const stop = await readS3Json(s3, job.bucket, layout.stopKey, stopMarkerSchema);
    await concatenateReports(s3, job, [layout.screened, ...plan.parts.map(({ part }) => layout.partLocation(part))]);
    const summary = finalSummary(plan, layout, parts, stop, clock.now());
    jobSummarySchema.parse(summary);
    await writeS3Json(s3, job.bucket, job.summaryKey, summary);
    await writeJobProgress(s3, layout, plan, clock, summary);
    // The part manifests repeat the manifest's IDs; the report has them all now.
    await s3.send(new DeleteObjectsCommand({ Bucket: job.bucket, Delete: { Objects: plan.parts.map((part) => ({ Key: part.key })) } })).catch((error: unknown) => {
      logger.warn('part manifests not deleted', { jobId: plan.jobId, error: error as Error });
    });
    logger.info('split job assembled', { jobId: plan.jobId, status: summary.status, counts: summary.counts, parts: plan.parts.length });
    return { kind: 'assembled', summary };
  } finally {
    await lock.release();
  }
}

function finalSummary(plan: ScaleOutPlan, layout: ScaleOutLayout, parts: readonly JobSummary[], stop: StopMarker | undefined, now: number): JobSummary {
  const { job } = layout;
  const counts = { ...plan.screened.counts };
  let normalized = plan.screened.normalized;
  const stats = { requests: 0, retries: 0, throttled: 0, invocations: 1 };
  const latency = { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  for (const part of parts) {
    for (const outcome of DELETE_OUTCOMES) counts[outcome] += part.counts[outcome];
    normalized += part.normalized;
    stats.requests += part.requests;
    stats.retries += part.retries;
    stats.throttled += part.throttled;
    stats.invocations += part.invocations;
    // Percentiles do not add up: the parts' highest is an upper bound (README "Scale-out").
    latency.count += part.chunkLatencyMs.count;
    latency.p50 = Math.max(latency.p50, part.chunkLatencyMs.p50);
    latency.p90 = Math.max(latency.p90, part.chunkLatencyMs.p90);
    latency.p99 = Math.max(latency.p99, part.chunkLatencyMs.p99);
    latency.max = Math.max(latency.max, part.chunkLatencyMs.max);
  }
  const skipped = parts.filter((part) => part.status === 'stopped_failure_threshold').length;
  const status: JobSummary['status'] = stop !== undefined ? 'stopped_failure_threshold' : plan.options.dryRun ? 'dry_run' : counts.failed + counts.invalid > 0 ? 'completed_with_failures' : 'completed';
  const startedAt = Date.parse(plan.startedAt);
  return {
    formatVersion: SUMMARY_FORMAT_VERSION,
    jobId: plan.jobId,
    jobIdSource: plan.jobIdSource,
    trigger: plan.trigger,
    target: plan.target,
    status,
    ...(stop === undefined
      ? {}
      : { stopReason: `stopped at the failure threshold: part ${stop.part} of ${plan.parts.length} crossed it (${stop.reason}); ${skipped} parts stopped, ${counts.skipped} IDs not attempted are skipped` }),
    dryRun: plan.options.dryRun,
    counts: { received: plan.entries, ...counts },
    settled: DELETE_OUTCOMES.reduce((sum, outcome) => sum + counts[outcome], 0),
    normalized,
    startedAt: plan.startedAt,
    finishedAt: new Date(now).toISOString(),
    durationMs: Math.max(0, now - startedAt),
    invocations: stats.invocations,
    requests: stats.requests,
    retries: stats.retries,
    throttled: stats.throttled,
    chunkLatencyMs: latency,
    options: plan.options,
    report: { summary: s3Uri(job.bucket, job.summaryKey), failed: s3Uri(job.bucket, job.failedKey), results: s3Uri(job.bucket, job.resultsKey) },
    scaleOut: { parts: plan.parts.length, partSize: plan.partSize, plan: s3Uri(job.bucket, layout.planKey), progress: s3Uri(job.bucket, layout.progressKey) },
  };
}
