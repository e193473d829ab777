import { EntryScreen } from '../pipeline/EntryScreen.js';
import { JobValidationError } from '../core/errors.js';
import { readCheckpoint } from '../job/jobCheckpoint.js';
import type { JobSummary } from '../report/jobSummary.js';
import { s3Uri } from '../aws/s3Uri.js';
import { buildJobSummary } from '../report/buildJobSummary.js';
import { LatencyHistogram } from '../report/LatencyHistogram.js';
import { createJobStats } from '../pipeline/jobStats.js';
import { runPartMessage } from './runPartMessage.js';
import { planFacts } from './planFacts.js';
import type { OutcomeRecord } from '../pipeline/outcome.js';
import { OutcomeTally } from '../pipeline/OutcomeTally.js';
import { readS3Json } from '../aws/readS3Json.js';
import { ReportStreams } from '../report/ReportStreams.js';
import type { CleanupDeps, CleanupResult, PreparedJob } from '../job/types.js';
import { S3TextWriter } from '../aws/S3TextWriter.js';
import { scaleOutLayout, type ScaleOutLayout } from './scaleOutLayout.js';
import { scaleOutPlanSchema, type ScaleOutPlan } from './scaleOutPlanSchema.js';
import { sendMessageBatches } from '../aws/sendMessageBatches.js';
import { writeJobProgress } from './writeJobProgress.js';
import { tooBigUnsplit, unsplitEntryCapacity } from '../job/unsplitCapacity.js';
import { writeS3Json } from '../aws/writeS3Json.js';
import { completeScaleOutJob } from './completeScaleOutJob.js';
import { workQueueAddress } from '../config/config.js';

/**
 * Splits a big manifest job into parts run by the work queue's workers (docs/scale-out.md), or
 * leaves it alone (undefined): inline jobs, jobs with `options.scaleOut: false`, jobs at or under
 * `SCALE_OUT_THRESHOLD` entries (unless `options.scaleOut` forces a split), and jobs that already
 * started unsplit (they have a checkpoint) run as they are.
 *
 * Splitting reads the manifest once more, screening every entry as the deleting pass would: invalid
 * entries and repeats are settled here, into the job's "part 0" report files, so the parts hold
 * only distinct valid IDs and de-duplication holds across parts. The valid IDs go, in order, to
 * part manifests of `partSize` IDs (`plan/part-0001.jsonl`, JSON Lines `{"image_id","line"}`, so
 * the final report keeps the original manifest's lines), streamed to S3. Then `plan.json`, then
 * one `{"runPart": {"jobId", "part"}}` message per part (SendMessageBatch, 10 a call), then
 * `plan.json` again with `queued: true`. Idempotent: a plan already written is reused, its
 * messages sent again if they may not all have gone (a part delivered twice runs once). A plan of
 * no parts (no entry was a valid, new ID) completes the job at once from what the planner settled.
 * A send refused throws: the job's message is not acknowledged, and its redelivery sends again.
 *
 * @returns the job's answer for now (`status: "continuing"`, `scaleOut` saying where the plan and
 *   progress are), or undefined when the job is not split.
 * @throws {JobValidationError} on `options.scaleOut` when a split is asked for but this deployment
 *   has no work queue.
 */
export async function planScaleOut(run: PreparedJob, deps: CleanupDeps): Promise<CleanupResult | undefined> {
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
    if (option !== undefined) throw new JobValidationError([{ path: 'options.scaleOut', message: 'splitting a job needs the work queue (WORK_QUEUE_URL or WORK_QUEUE_NAME), which this deployment does not set' }]);
    if (!fits) throw tooBigUnsplit(source.entryCount, config, 'no_queue');
    logger.warn('job above SCALE_OUT_THRESHOLD runs unsplit: no WORK_QUEUE_URL', { jobId: run.identity.jobId, entries: source.entryCount });
    return undefined;
  }
  if ((await readCheckpoint(s3, location.bucket, location.checkpointKey)) !== undefined) return undefined;

  const layout = scaleOutLayout(location);
  let plan = await readS3Json(s3, location.bucket, layout.planKey, scaleOutPlanSchema);
  // A part must fit this function's memory too.
  if (plan === undefined) plan = await writePlan(run, deps, layout, Math.max(1, Math.min(typeof option === 'object' ? option.partSize : config.SCALE_OUT_PART_SIZE, unsplitEntryCapacity(config))));
  if (plan.parts.length === 0) {
    // Nothing valid and new to split (a list of file names, say): the entries the planner settled
    // are the whole job, so it completes now; no part would ever end to assemble it.
    const completion = await completeScaleOutJob(plan, layout, deps, run.trigger.source ?? `planner-${run.startedAt}`);
    if (completion.kind === 'assembled' || completion.kind === 'already_complete') return { summary: completion.summary };
  }
  if (!plan.queued) {
    const bodies = plan.parts.map((part) => JSON.stringify(runPartMessage(plan!.jobId, part.part)));
    await sendMessageBatches(deps.sqs, queue, bodies);
    plan = { ...plan, queued: true };
    await writeS3Json(s3, location.bucket, layout.planKey, plan);
    await writeJobProgress(s3, layout, plan, deps.clock);
    logger.info('job split into parts and queued', { jobId: plan.jobId, entries: plan.entries, parts: plan.parts.length, partSize: plan.partSize, screened: plan.screened });
  }
  return { summary: plannedSummary(plan, layout, deps.clock.now()) };
}

async function writePlan(run: PreparedJob, deps: CleanupDeps, layout: ScaleOutLayout, partSize: number): Promise<ScaleOutPlan> {
  const { source, location, identity } = run;
  const { s3, clock } = deps;
  const screen = new EntryScreen();
  const tally = new OutcomeTally();
  const settled = new ReportStreams(s3, { bucket: location.bucket, ...layout.screened }, source.target);
  const parts: ScaleOutPlan['parts'] = [];
  let writer: S3TextWriter | undefined;
  let current: ScaleOutPlan['parts'][number] | undefined;
  let pending: OutcomeRecord[] = [];
  const closePart = async (): Promise<void> => {
    if (writer === undefined || current === undefined) return;
    await writer.close();
    parts.push(current);
    writer = undefined;
    current = undefined;
  };
  try {
    for await (const entry of source.entries()) {
      const screened = screen.screen(entry.value, entry.position);
      if (screened.kind === 'settled') {
        tally.record(screened.record);
        pending.push(screened.record);
        if (pending.length >= 1_000) {
          await settled.write(pending);
          pending = [];
        }
        continue;
      }
      if (current !== undefined && current.entries === partSize) await closePart();
      if (current === undefined) {
        const part = parts.length + 1;
        current = { part, key: layout.partManifestKey(part), entries: 0, firstLine: entry.position, lastLine: entry.position };
        writer = new S3TextWriter(s3, location.bucket, current.key, 'application/x-ndjson');
      }
      current.entries += 1;
      current.lastLine = entry.position;
      // IDs are 32 hex characters: no escaping needed.
      await writer!.write(`{"image_id":"${screened.ref.id}","line":${screened.ref.position}}\n`);
    }
    await closePart();
    if (pending.length > 0) await settled.write(pending);
  } finally {
    await settled.close();
  }
  const { counts } = tally;
  const plan: ScaleOutPlan = {
    formatVersion: 1,
    jobId: identity.jobId,
    jobIdSource: identity.source,
    trigger: { ...run.trigger, manifest: source.manifest },
    target: source.target,
    manifest: source.manifest ?? '',
    ...(source.manifestETag === undefined ? {} : { manifestETag: source.manifestETag }),
    entries: source.entryCount,
    partSize,
    parts,
    screened: { counts, normalized: screen.normalized },
    options: run.options,
    startedAt: new Date(run.startedAt).toISOString(),
    plannedAt: new Date(clock.now()).toISOString(),
    queued: false,
  };
  await writeS3Json(s3, location.bucket, layout.planKey, plan);
  return plan;
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
      reason: `split into ${plan.parts.length} parts of up to ${plan.partSize} IDs, one message each on the work queue; ${settled} invalid or repeated entries settled while splitting; progress in ${s3Uri(job.bucket, layout.progressKey)}; summary.json is written when the last part ends`,
      parts: plan.parts.length,
    },
  });
}
