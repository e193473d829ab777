import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { completeScaleOutJob, type CompletionOutcome } from './completeScaleOutJob.js';
import type { CleanupTarget } from '../job/cleanupJob.js';
import { JobValidationError } from '../core/errors.js';
import { reportLocation, s3Uri, type JobSummary, type TriggerInfo } from '../report/jobSummary.js';
import type { OutcomeCounts } from '../pipeline/outcome.js';
import type { PartProgress } from './partProgressSchema.js';
import type { RunPartMessage } from './planScaleOut.js';
import { readS3Json } from '../aws/readS3Json.js';
import { runCleanupJob, type CleanupDeps, type RunLimits } from '../job/runCleanupJob.js';
import { partJobId, scaleOutLayout } from './scaleOutLayout.js';
import { scaleOutPlanSchema, type ScaleOutPlan } from './scaleOutPlanSchema.js';
import { stopMarkerSchema } from './stopMarkerSchema.js';
import { writeJobProgress } from './writeJobProgress.js';
import { writeS3Json } from '../aws/writeS3Json.js';

/** What running one part led to. */
export interface ScaleOutPartResult {
  /** The part's own summary (`continuing` when cut by the deadline), or the job's final one when it was complete already. */
  summary: JobSummary;
  /** True when the part had run before: nothing was sent. */
  reused: boolean;
  /** What the completion check found, when the part is done. */
  completion?: CompletionOutcome;
}

// Progress of a running part, and the stop marker, every this often.
const PROGRESS_INTERVAL_MS = 10_000;

/**
 * Runs one part of a split job (a `{"runPart": {"jobId", "part"}}` message; README "Scale-out") as
 * a sub-job, reusing the job machinery whole: `runCleanupJob` on the part manifest, with its own
 * idempotency id `{jobId}.part-0001` (so a part delivered twice runs once: its claim, then its
 * summary, say so), its own report folder `parts/part-0001/` under the job, its own checkpoint, and
 * as continuation the same `runPart` message.
 *
 * The job's failure threshold holds across parts: a part that crosses it writes `stop.json`;
 * parts that start (or are running) after that settle their IDs `skipped` without a request.
 * While it runs, the part's progress (and the job's `progress.json`) is written every ~10 s;
 * when it ends, once more, and then the completion check (lib/scaleout/completeScaleOutJob.ts) may make
 * this worker the one that assembles the final report.
 *
 * @throws {JobValidationError} on `runPart` when the job has no plan or no such part.
 * @throws {JobInProgressError} when the part runs in another invocation (the message comes back).
 */
export async function runScaleOutPart(jobId: string, part: number, trigger: TriggerInfo, deps: CleanupDeps, limits: RunLimits = {}): Promise<ScaleOutPartResult> {
  const { config, s3, clock, logger } = deps;
  const layout = scaleOutLayout(reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, jobId));
  const plan = await readS3Json(s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema);
  if (plan === undefined) throw new JobValidationError([{ path: 'runPart.jobId', message: `job ${jobId} has no plan at ${s3Uri(layout.job.bucket, layout.planKey)}` }]);
  const entry = plan.parts[part - 1];
  if (entry === undefined || entry.part !== part) throw new JobValidationError([{ path: 'runPart.part', message: `job ${jobId} has parts 1 to ${plan.parts.length}; got ${part}` }]);

  const marker = await readS3Json(s3, layout.job.bucket, layout.stopKey, stopMarkerSchema);
  let stopReason = marker === undefined ? undefined : externalReason(marker.part, marker.reason);
  let stoppedFromOutside = false;
  let counts: Readonly<OutcomeCounts> | undefined;
  const writePartProgress = async (state: PartProgress['state'], now: Readonly<OutcomeCounts> | undefined): Promise<void> => {
    const zero = Object.fromEntries(Object.keys(plan.screened.counts).map((k) => [k, 0])) as OutcomeCounts;
    await writeS3Json(s3, layout.job.bucket, layout.partProgressKey(part), { part, state, entries: entry.entries, counts: now ?? zero, updatedAt: new Date(clock.now()).toISOString() } satisfies PartProgress);
  };
  const ticker = startTicker(clock, PROGRESS_INTERVAL_MS, async () => {
    if (stopReason === undefined) {
      const seen = await readS3Json(s3, layout.job.bucket, layout.stopKey, stopMarkerSchema);
      if (seen !== undefined && seen.part !== part) stopReason = externalReason(seen.part, seen.reason);
    }
    await writePartProgress('running', counts);
    await writeJobProgress(s3, layout, plan, clock);
  }, (error) => logger.warn('part progress not written', { jobId, part, error: error as Error }));

  let result: Awaited<ReturnType<typeof runCleanupJob>>;
  try {
    result = await runCleanupJob(partJob(plan, part, layout.job.bucket), trigger, deps, {
      ...limits,
      identity: { jobId: partJobId(jobId, part), source: plan.jobIdSource },
      location: layout.partLocation(part),
      manifestAccess: { planParts: { bucket: layout.job.bucket, prefix: layout.planPrefix } },
      // The part's continuation is its own runPart message, sent below once its claim is released.
      queueContinuation: false,
      stopSignal: () => {
        if (stopReason !== undefined) stoppedFromOutside = true;
        return stopReason;
      },
      onProgress: (now) => {
        counts = now;
      },
    });
  } finally {
    await ticker.stop();
  }
  const { summary } = result;

  if (summary.status === 'continuing') {
    await writePartProgress('continuing', withoutReceived(summary.counts));
    const queued = await queuePart(deps, jobId, part);
    summary.stopReason = queued
      ? `the invocation's time ran out after line ${summary.continuation?.resumeAfter ?? 0}; the part's message was queued again`
      : `the invocation's time ran out after line ${summary.continuation?.resumeAfter ?? 0}; send {"runPart": {"jobId": "${jobId}", "part": ${part}}} again to continue`;
    if (summary.continuation !== undefined) summary.continuation.queued = queued;
    return { summary, reused: false };
  }
  const crossed = crossing(summary, plan.options.failureThreshold);
  if (crossed !== undefined && !stoppedFromOutside && result.reused !== true) {
    // The first part to cross it names the reason; the others read it.
    const reason = crossed;
    await writeS3Json(s3, layout.job.bucket, layout.stopKey, { part, reason, at: new Date(clock.now()).toISOString() }, { ifNoneMatch: true });
    logger.warn('part crossed the failure threshold: the remaining parts are skipped', { jobId, part, reason });
  }
  await writePartProgress('done', withoutReceived(summary.counts));
  await writeJobProgress(s3, layout, plan, clock);
  const completion = await completeScaleOutJob(plan, layout, deps, `${trigger.source ?? 'worker'}:${part}`);
  return { summary, reused: result.reused ?? false, completion };
}

// Why a part crossed the job's failure threshold: it stopped at it, or its last chunks took it over
// (nothing was left to skip in the part, but the parts after it must still stop).
function crossing(summary: JobSummary, threshold: ScaleOutPlan['options']['failureThreshold']): string | undefined {
  if (summary.status === 'stopped_failure_threshold') {
    return /^stopped at the failure threshold: (.*); the IDs not attempted are skipped$/.exec(summary.stopReason ?? '')?.[1] ?? summary.stopReason ?? '';
  }
  const { deleted, already_deleted: alreadyDeleted, failed } = summary.counts;
  const attempted = deleted + alreadyDeleted + failed;
  const rate = attempted === 0 ? 0 : failed / attempted;
  if (attempted < threshold.minAttempted || rate <= threshold.maxFailureRate) return undefined;
  return `${failed} of the ${attempted} IDs attempted failed (${(rate * 100).toFixed(1)}%, over the threshold of ${(threshold.maxFailureRate * 100).toFixed(1)}%)`;
}

function externalReason(part: number, reason: string): string {
  return `part ${part} of this job crossed it (${reason})`;
}

function withoutReceived(counts: JobSummary['counts']): OutcomeCounts {
  const { received: _received, ...outcomes } = counts;
  return outcomes;
}

// The part as a job: the part manifest, the job's target and resolved options; confirmed (the job
// was), never split again.
function partJob(plan: ScaleOutPlan, part: number, bucket: string): unknown {
  const entry = plan.parts[part - 1]!;
  const { chunkSize, maxInFlight, dryRun, failureThreshold } = plan.options;
  return {
    target: targetInput(plan.target),
    manifest: `s3://${bucket}/${entry.key}`,
    options: { chunkSize, maxInFlight, dryRun, failureThreshold, confirmEntries: entry.entries, scaleOut: false },
  };
}

function targetInput(target: CleanupTarget | ScaleOutPlan['target']): Record<string, unknown> {
  return target.api === 'v1'
    ? { projectId: target.projectId, dataAnnotationId: target.dataAnnotationId }
    : { projectId: target.projectId, datasetId: target.datasetId, deleteSource: target.deleteSource };
}

async function queuePart(deps: CleanupDeps, jobId: string, part: number): Promise<boolean> {
  const queueUrl = deps.config.WORK_QUEUE_URL;
  if (queueUrl === undefined || deps.sqs === undefined) return false;
  try {
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ runPart: { jobId, part } } satisfies RunPartMessage) }));
    return true;
  } catch (error) {
    deps.logger.error('part continuation not queued; send its runPart message again to resume it', { jobId, part, error: error as Error });
    return false;
  }
}

interface Ticker {
  stop(): Promise<void>;
}

// Runs `tick` every `ms` until stopped; a failing tick is reported and the next one runs anyway.
function startTicker(clock: CleanupDeps['clock'], ms: number, tick: () => Promise<void>, onError: (error: unknown) => void): Ticker {
  let stopped = false;
  let wake: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const loop = (async () => {
    for (;;) {
      await Promise.race([clock.sleep(ms), stopping]);
      if (stopped) return;
      await tick().catch(onError);
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake();
      await loop;
    },
  };
}

