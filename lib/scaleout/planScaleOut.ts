import { JobValidationError } from '../core/errors.js';
import { readCheckpoint } from '../job/jobCheckpoint.js';
import type { JobSummary } from '../report/jobSummary.js';
import { s3Uri } from '../aws/s3Uri.js';
import { buildJobSummary } from '../report/buildJobSummary.js';
import { LatencyHistogram } from '../report/LatencyHistogram.js';
import { createJobStats } from '../pipeline/jobStats.js';
import { runPartMessage } from './runPartMessage.js';
import { planFacts } from './planFacts.js';
import { readS3Json } from '../aws/readS3Json.js';
import type { CleanupDeps, CleanupResult, InvocationBudget, PlanningPaused, PreparedJob } from '../job/types.js';
import { scaleOutLayout, type ScaleOutLayout } from './scaleOutLayout.js';
import { scaleOutPlanSchema, type ScaleOutPlan } from './scaleOutPlanSchema.js';
import { sendMessageBatches } from '../aws/sendMessageBatches.js';
import { workQueueAddress } from '../config/config.js';
import { writeJobProgress } from './writeJobProgress.js';
import { tooBigUnsplit, unsplitEntryCapacity } from '../job/unsplitCapacity.js';
import { writeS3Json } from '../aws/writeS3Json.js';
import { completeScaleOutJob } from './completeScaleOutJob.js';
import { endCancelledPlanning } from './endCancelledPlanning.js';
import { PLAN_WINDOW_BYTES, planManifest, type PlanTuning } from './planManifest.js';

// The share of an unsplit job's capacity a part is planned to hold (see planScaleOut).
const PART_CAPACITY_SHARE = 0.9;

/**
 * Splits a big manifest job into parts run by the work queue's workers (docs/scale-out.md), or
 * leaves it alone (undefined): inline jobs, jobs with `options.scaleOut: false`, jobs at or under
 * `SCALE_OUT_THRESHOLD` entries (unless `options.scaleOut` forces a split), and jobs that already
 * started unsplit (they have a checkpoint) run as they are.
 *
 * Splitting reads the manifest once more, in windows, in bounded memory. Invalid entries (and
 * their repeats) are settled here, into the job's "part 0" report files. Every valid ID goes to
 * one of `ceil(entries / partSize)` hash slots (lib/scaleout/planPartition.ts): all its
 * occurrences to the same one, so the part made of that slot sees every repeat and its own
 * de-duplication settles it exactly, with its line (part manifests are JSON Lines
 * `{"image_id","line"}`). After each window of {@link PLAN_WINDOW_BYTES} each slot's lines are one
 * segment object (`plan/slot-0001/w-00001.jsonl`), and `plan-checkpoint.json` says how far the
 * plan got; a part's manifest is built from its segments before it runs
 * (lib/scaleout/ensurePartManifest.ts). At the budget's `stopStartingAt` planning pauses after the
 * window (`kind: "planning_paused"`: the job's continuation resumes it, and a resumed plan is the
 * one an uncut run makes); a cancel request ends the job there, nothing sent (lib/scaleout/endCancelledPlanning.ts). Then `plan.json`, then one `{"runPart": {"jobId", "part"}}` message per
 * part (SendMessageBatch, 10 a call), then `plan.json` again with `queued: true`. Idempotent: a plan
 * already written is reused, its messages sent again if they may not all have gone (a part
 * delivered twice runs once). A plan of no parts (no entry was a valid ID) completes the job at
 * once from what the planner settled. A send refused throws: the job's message is not
 * acknowledged, and its redelivery sends again.
 *
 * @param budget - The invocation's time; none: planning is never cut.
 * @returns the job's answer for now (`status: "continuing"`, `scaleOut` saying where the plan and
 *   progress are), planning paused at the deadline, or undefined when the job is not split.
 * @throws {JobValidationError} on `options.scaleOut` when a split is asked for but this deployment
 *   has no work queue.
 */
export async function planScaleOut(run: PreparedJob, deps: CleanupDeps, budget?: InvocationBudget, tuning: PlanTuning = {}): Promise<CleanupResult | PlanningPaused | undefined> {
  const { job, source, location } = run;
  const { config, s3, logger } = deps;
  const option = job.options.scaleOut;
  if (source.manifest === undefined) return undefined;
  // A job this function's memory cannot hold unsplit is split, or refused where it cannot be: never started to die.
  const fits = source.entryCount <= unsplitEntryCapacity(config);
  if (option === false) {
    if (!fits) throw tooBigUnsplit(source.entryCount, config, 'scale_out_false');
    return undefined;
  }
  if (option === undefined && fits && source.entryCount <= config.SCALE_OUT_THRESHOLD) return undefined;
  const queue = workQueueAddress(config);
  if (queue === undefined || deps.sqs === undefined) {
    if (option !== undefined) throw new JobValidationError([{ path: 'options.scaleOut', message: 'splitting a job needs the work queue (WORK_QUEUE_URL), which this deployment does not set' }]);
    if (!fits) throw tooBigUnsplit(source.entryCount, config, 'no_queue');
    logger.warn('job above SCALE_OUT_THRESHOLD runs unsplit: no WORK_QUEUE_URL', { jobId: run.identity.jobId, entries: source.entryCount });
    return undefined;
  }
  if ((await readCheckpoint(s3, location.bucket, location.checkpointKey)) !== undefined) return undefined;

  const layout = scaleOutLayout(location);
  let plan = await readS3Json(s3, location.bucket, layout.planKey, scaleOutPlanSchema);
  if (plan === undefined) {
    // A part must fit this function's memory too. Parts are hash slots, so their sizes scatter
    // around the mean (by about its square root): a tenth below the capacity keeps every part in it.
    const partSize = Math.max(1, Math.min(typeof option === 'object' ? option.partSize : config.SCALE_OUT_PART_SIZE, Math.floor(unsplitEntryCapacity(config) * PART_CAPACITY_SHARE)));
    const made = await planManifest(run, deps, layout, partSize, budget?.stopStartingAt ?? Infinity, tuning.windowBytes ?? PLAN_WINDOW_BYTES);
    if (made.kind === 'planning_paused') return made;
    if (made.kind === 'planning_cancelled') return endCancelledPlanning(run, deps, layout, made);
    plan = made.plan;
  }
  if (plan.parts.length === 0) {
    // Nothing valid to split (a list of file names, say): the entries the planner settled are the
    // whole job, so it completes now; no part would ever end to assemble it.
    const completion = await completeScaleOutJob(plan, layout, deps, run.trigger.source ?? `planner-${run.startedAt}`);
    if (completion.kind === 'assembled' || completion.kind === 'already_complete') return { summary: completion.summary };
  }
  if (!plan.queued) {
    const bodies = plan.parts.map((part) => JSON.stringify(runPartMessage(plan!.jobId, part.part)));
    await sendMessageBatches(deps.sqs, queue, bodies);
    plan = { ...plan, queued: true };
    await writeS3Json(s3, location.bucket, layout.planKey, plan);
    await writeJobProgress(s3, layout, plan, deps.clock);
    logger.info('job split into parts and queued', { jobId: plan.jobId, entries: plan.entries, parts: plan.parts.length, partSize: plan.partSize, windows: plan.windows, screened: plan.screened });
  }
  return { summary: plannedSummary(plan, layout, deps.clock.now()) };
}

function plannedSummary(plan: ScaleOutPlan, layout: ScaleOutLayout, now: number): JobSummary {
  const { job } = layout;
  const settled = Object.values(plan.screened.counts).reduce((sum, n) => sum + n, 0);
  return buildJobSummary({
    ...planFacts(plan, layout),
    counts: plan.screened.counts,
    normalized: plan.screened.normalized,
    finishedAt: now,
    invocations: 1,
    stats: createJobStats(),
    latency: new LatencyHistogram().toJSON(),
    stop: {
      kind: 'split',
      reason: `split into ${plan.parts.length} parts of about ${plan.partSize} IDs at most (by a hash of the ID, so a part holds every repeat of its IDs), one message each on the work queue; ${settled} invalid entries settled while splitting; progress in ${s3Uri(job.bucket, layout.progressKey)}; summary.json is written when the last part ends`,
      parts: plan.parts.length,
    },
  });
}
