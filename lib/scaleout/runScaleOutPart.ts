import { readS3Json } from '../aws/readS3Json.js';
import { writeS3Json } from '../aws/writeS3Json.js';
import type { Clock } from '../core/clock.js';
import { JobIdConflictError, JobValidationError } from '../core/errors.js';
import { canonicalJson } from '../job/jobIdentity.js';
import { readJobRecord, type JobRecord } from '../job/jobRecord.js';
import { prepareJob } from '../job/prepareJob.js';
import { executeJob } from '../job/runCleanupJob.js';
import { cancelRequestKey } from '../job/cancelRequest.js';
import { JOB_WIDE_STOPS, type OwnCrossing } from '../job/wholeJobStop.js';
import type { CleanupDeps, CleanupResult, InvocationBudget } from '../job/types.js';
import type { OutcomeCounts } from '../pipeline/outcome.js';
import type { JobSummary, TriggerInfo } from '../report/jobSummary.js';
import { reportLocation } from '../report/ReportLocation.js';
import { s3Uri } from '../aws/s3Uri.js';
import { completeScaleOutJob, type CompletionOutcome } from './completeScaleOutJob.js';
import { partProgressSchema, type PartProgress } from './partProgressSchema.js';
import { jobProgressSchema, type JobProgress } from './jobProgressSchema.js';
import { ensurePartManifest } from './ensurePartManifest.js';
import { partRequest } from './partJob.js';
import { runPartMessage } from './runPartMessage.js';
import { scaleOutLayout } from './scaleOutLayout.js';
import { scaleOutPlanSchema, type ScaleOutPlan } from './scaleOutPlanSchema.js';
import { stopMarkerSchema, type StopMarker } from './stopMarkerSchema.js';
import { writeJobProgress } from './writeJobProgress.js';

/** What running one part led to. */
export interface ScaleOutPartResult {
  /** The part's own summary (`continuing` when cut by the deadline), or the job's final one when it was complete already. */
  summary: JobSummary;
  /** True when the part had run before: nothing was sent. */
  reused: boolean;
  /** What the completion check found, when the part is done. */
  completion?: CompletionOutcome;
}

// The stops that end every part of a split job: a part meeting one writes stop.json.
const WHOLE_JOB_STOPS: ReadonlySet<string> = new Set(JOB_WIDE_STOPS);

// Progress of a running part, and the stop marker, every this often.
const PROGRESS_INTERVAL_MS = 10_000;
// The job's count of running parts (its progress.json, one GET) every this often: a part that ends
// leaves its share of the limit to the others within seconds, not at their next progress write.
const SHARERS_INTERVAL_MS = 2_000;

/**
 * Runs one part of a split job (a `{"runPart": {"jobId", "part"}}` message; docs/scale-out.md) as
 * a sub-job, reusing the job machinery whole: `runCleanupJob` on the part manifest, with its own
 * idempotency id `{jobId}.part-0001` (so a part delivered twice runs once: its claim, then its
 * summary, say so), its own report folder `parts/part-0001/` under the job, its own checkpoint, and
 * as continuation the same `runPart` message.
 *
 * A part is checked like any job: against its own job record (written at its first claim), and its
 * plan against the split job's record, so a plan left by another job under the same id is refused.
 *
 * The job's failure and not-found thresholds, and a refusal of the whole job by the service
 * (ModelArts.4204), hold across parts: a part that crosses one writes `stop.json` with its kind;
 * parts that start (or are running) after that settle their IDs `skipped` without a request.
 * A cancel request (the job's `cancel.json`) stops every part the same way, each by itself.
 * While it runs, the part's progress (and the job's `progress.json`) is written every ~10 s, and
 * the parts counted running there (read every ~2 s) tell its limiter how many share the service's limit;
 * when it ends, once more, and then the completion check (lib/scaleout/completeScaleOutJob.ts) may make
 * this worker the one that assembles the final report.
 *
 * @throws {JobValidationError} on `runPart` when the job has no plan or no such part.
 * @throws {JobIdConflictError} when the plan is not the split job's (its record says otherwise).
 * @throws {JobInProgressError} when the part runs in another invocation (the message comes back).
 */
export async function runScaleOutPart(jobId: string, part: number, trigger: TriggerInfo, deps: CleanupDeps, budget: InvocationBudget): Promise<ScaleOutPartResult> {
  const { config, s3, clock, logger } = deps;
  const layout = scaleOutLayout(reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, jobId));
  const plan = await readS3Json(s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema);
  if (plan === undefined) throw new JobValidationError([{ path: 'runPart.jobId', message: `job ${jobId} has no plan at ${s3Uri(layout.job.bucket, layout.planKey)}` }]);
  const entry = plan.parts[part - 1];
  if (entry === undefined || entry.part !== part) throw new JobValidationError([{ path: 'runPart.part', message: `job ${jobId} has parts 1 to ${plan.parts.length}; got ${part}` }]);
  checkPlanOfJob(plan, await readJobRecord(s3, layout.job));

  let stoppedBy = await readS3Json(s3, layout.job.bucket, layout.stopKey, stopMarkerSchema);
  let counts: Readonly<OutcomeCounts> | undefined;
  // What the part crossed itself (its thresholds, judged by the run: a NOT_FOUND_UNRESOLVED ID is not found, not failed).
  let crossed: OwnCrossing | undefined;
  const writePartProgress = async (state: PartProgress['state'], now: Readonly<OutcomeCounts> | undefined): Promise<void> => {
    const zero = Object.fromEntries(Object.keys(plan.screened.counts).map((k) => [k, 0])) as OutcomeCounts;
    await writeS3Json(s3, layout.job.bucket, layout.partProgressKey(part), { part, state, entries: entry.entries, counts: now ?? zero, updatedAt: new Date(clock.now()).toISOString() } satisfies PartProgress);
  };
  // The parts running now, this one included: they share the service's limit. Counted from the
  // part's start (its own progress says running, with what an earlier invocation of it settled),
  // not from its first tick 10 s later: a part shorter than that would never be counted.
  let running = await countedRunning(s3, layout, part, async (counts) => {
    await writePartProgress('running', counts);
    return writeJobProgress(s3, layout, plan, clock);
  }).catch((error: unknown) => (logger.warn('part progress not written', { jobId, part, error: error as Error }), undefined));
  // Every ~10 s: the stop marker, the part's progress and the job's.
  const writeProgress = async (): Promise<JobProgress> => {
    if (stoppedBy === undefined) {
      const seen = await readS3Json(s3, layout.job.bucket, layout.stopKey, stopMarkerSchema);
      if (seen !== undefined && seen.part !== part) stoppedBy = seen;
    }
    await writePartProgress('running', counts);
    return writeJobProgress(s3, layout, plan, clock);
  };
  let ticks = 0;
  const ticker = startTicker(clock, SHARERS_INTERVAL_MS, async () => {
    ticks += 1;
    const progress = ticks % (PROGRESS_INTERVAL_MS / SHARERS_INTERVAL_MS) === 0 ? await writeProgress() : await readS3Json(s3, layout.job.bucket, layout.progressKey, jobProgressSchema);
    if (progress?.state === 'running') running = Math.max(1, progress.parts.running);
  }, (error) => logger.warn('part progress not written', { jobId, part, error: error as Error }));

  let result: CleanupResult;
  try {
    // The part is a job of its own (lib/scaleout/partJob.ts), on one manifest object built from its segments.
    await ensurePartManifest(plan, part, layout, s3);
    const prepared = await prepareJob(partRequest(plan, part, layout, trigger), deps);
    result = prepared.kind === 'complete'
      ? prepared.result
      : await executeJob(prepared.job, deps, budget, {
        split: false,
        // The part's continuation is its own runPart message.
        resume: { message: runPartMessage(jobId, part), byHand: `send {"runPart": {"jobId": "${jobId}", "part": ${part}}} again to continue`, queued: "the part's message was queued again" },
        controls: {
          // A cancel is asked of the whole job: every part looks in the job's folder.
          cancelKey: cancelRequestKey(layout.job),
          stopSignal: () => (stoppedBy === undefined ? undefined : { crossing: stoppedBy.reason, part: stoppedBy.part, kind: stoppedBy.kind ?? 'failure_threshold', ...(stoppedBy.code === undefined ? {} : { code: stoppedBy.code }) }),
          onCrossed: (crossing) => {
            crossed = crossing;
          },
          onProgress: (now) => {
            counts = now;
          },
          // With no count yet (the job's first parts), the pace carried from the container's last part says how many.
          sharers: () => running,
        },
      });
  } finally {
    await ticker.stop();
  }
  const { summary } = result;

  if (summary.status === 'continuing') {
    await writePartProgress('continuing', withoutReceived(summary.counts));
    return { summary, reused: false };
  }
  const stoppedFromOutside = summary.stop !== undefined && WHOLE_JOB_STOPS.has(summary.stop.kind) && 'part' in summary.stop && summary.stop.part !== undefined;
  if (crossed !== undefined && !stoppedFromOutside && result.reused !== true) {
    // The first part to cross it names the reason and the kind; the others read it. It stops them
    // even when this part had nothing left to skip (its last chunks took it over).
    const { kind, crossing: reason, code } = crossed;
    await writeS3Json(s3, layout.job.bucket, layout.stopKey, { part, reason, kind, ...(code === undefined ? {} : { code }), at: new Date(clock.now()).toISOString() } satisfies StopMarker, { ifNoneMatch: true });
    logger.warn('part stopped the job: the remaining parts are skipped', { jobId, part, kind, reason });
  }
  await writePartProgress('done', withoutReceived(summary.counts));
  await writeJobProgress(s3, layout, plan, clock);
  const completion = await completeScaleOutJob(plan, layout, deps, `${trigger.source ?? 'worker'}:${part}`);
  return { summary, reused: result.reused ?? false, completion };
}

// Writes the part's progress as running (keeping the counts it had) and the job's; the job's count of running parts.
async function countedRunning(s3: CleanupDeps['s3'], layout: ReturnType<typeof scaleOutLayout>, part: number, write: (counts: OutcomeCounts | undefined) => Promise<JobProgress>): Promise<number> {
  const before = await readS3Json(s3, layout.job.bucket, layout.partProgressKey(part), partProgressSchema).catch(() => undefined);
  return Math.max(1, (await write(before?.counts)).parts.running);
}

// The plan must be the one made for the job its record describes (a job from before job records has none).
function checkPlanOfJob(plan: ScaleOutPlan, record: JobRecord | undefined): void {
  if (record === undefined) return;
  const differs = [
    ...(plan.manifest !== (record.content.manifest ?? '') ? [{ path: 'manifest', message: `the plan splits ${plan.manifest}, the job recorded under this id reads ${record.content.manifest ?? 'inline IDs'}` }] : []),
    ...(plan.manifestETag !== record.manifestVersion?.etag ? [{ path: 'manifest', message: `the plan split the manifest at ETag ${plan.manifestETag ?? 'none'}, the job recorded under this id reads ETag ${record.manifestVersion?.etag ?? 'none'}` }] : []),
    ...(plan.options.dryRun !== record.content.dryRun ? [{ path: 'options.dryRun', message: `the plan has dryRun ${plan.options.dryRun}, the job recorded under this id ${record.content.dryRun}` }] : []),
    ...(canonicalJson(plan.target) !== canonicalJson(record.target) ? [{ path: 'target', message: `the plan deletes from ${JSON.stringify(plan.target)}, the job recorded under this id from ${JSON.stringify(record.target)}` }] : []),
  ];
  if (differs.length > 0) throw new JobIdConflictError(plan.jobId, differs);
}

function withoutReceived(counts: JobSummary['counts']): OutcomeCounts {
  const { received: _received, ...outcomes } = counts;
  return outcomes;
}

interface Ticker {
  stop(): Promise<void>;
}

// Runs `tick` every `ms` until stopped; a failing tick is reported and the next one runs anyway.
function startTicker(clock: Pick<Clock, 'sleep'>, ms: number, tick: () => Promise<void>, onError: (error: unknown) => void): Ticker {
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

