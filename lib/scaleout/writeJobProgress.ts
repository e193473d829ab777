import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '../core/clock.js';
import { jobProgressSchema, type JobProgress } from './jobProgressSchema.js';
import { type JobSummary } from '../report/jobSummary.js';
import { readJobSummary } from '../report/readJobSummary.js';
import { s3Uri } from '../aws/s3Uri.js';
import { listPartFiles } from './listPartFiles.js';
import { DELETE_OUTCOMES } from '../pipeline/outcome.js';
import { partProgressSchema, type PartProgress } from './partProgressSchema.js';
import { readS3Json } from '../aws/readS3Json.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';
import type { ScaleOutPlan } from './scaleOutPlanSchema.js';
import { writeS3Json } from '../aws/writeS3Json.js';

/**
 * Writes a split job's `progress.json` from its parts' own progress files (and the entries the
 * planner settled), or from the final summary once there is one. Several workers write it; each
 * writes what S3 holds at that moment, so the last write is never older than the one before by
 * more than one tick. A worker's `running` write may land after the assembler's `done`: it reads
 * the summary after writing, and once the summary is there it writes from it, so `progress.json`
 * never says `running` after the job ended.
 */
export async function writeJobProgress(s3: S3Client, layout: ScaleOutLayout, plan: ScaleOutPlan, clock: Pick<Clock, 'now'>, final?: JobSummary): Promise<JobProgress> {
  const written = await writeProgress(s3, layout, plan, clock, final);
  if (final !== undefined) return written;
  // The assembler writes summary.json before its progress: a summary seen now means ours may be the later write.
  const summary = await readJobSummary(s3, layout.job);
  return summary === undefined ? written : writeProgress(s3, layout, plan, clock, summary);
}

async function writeProgress(s3: S3Client, layout: ScaleOutLayout, plan: ScaleOutPlan, clock: Pick<Clock, 'now'>, final: JobSummary | undefined): Promise<JobProgress> {
  const counts = { ...plan.screened.counts };
  const parts = { total: plan.parts.length, done: 0, running: 0, waiting: 0 };
  if (final === undefined) {
    const keys = await listPartFiles(s3, layout, 'progress.json');
    const progress = await Promise.all([...keys.values()].map((key) => readS3Json(s3, layout.job.bucket, key, partProgressSchema).catch(() => undefined)));
    for (const part of progress.filter((p): p is PartProgress => p !== undefined)) {
      for (const outcome of DELETE_OUTCOMES) counts[outcome] += part.counts[outcome];
      if (part.state === 'done') parts.done += 1;
      else parts.running += 1;
    }
  } else {
    for (const outcome of DELETE_OUTCOMES) counts[outcome] = final.counts[outcome];
    parts.done = parts.total;
  }
  parts.waiting = Math.max(0, parts.total - parts.done - parts.running);
  const now = clock.now();
  const settled = DELETE_OUTCOMES.reduce((sum, outcome) => sum + counts[outcome], 0);
  const screened = DELETE_OUTCOMES.reduce((sum, outcome) => sum + plan.screened.counts[outcome], 0);
  const seconds = (now - Date.parse(plan.plannedAt)) / 1_000;
  const idsPerSecond = seconds > 0 ? (settled - screened) / seconds : 0;
  const left = Math.max(0, plan.entries - settled);
  const progress: JobProgress = {
    formatVersion: 1,
    jobId: plan.jobId,
    state: final === undefined ? 'running' : 'done',
    ...(final === undefined ? {} : { status: final.status, ...(final.stopReason === undefined ? {} : { stopReason: final.stopReason }) }),
    entries: plan.entries,
    settled,
    counts,
    parts,
    idsPerSecond: Math.round(idsPerSecond * 10) / 10,
    etaSeconds: left === 0 ? 0 : idsPerSecond > 0 ? Math.round(left / idsPerSecond) : null,
    startedAt: plan.startedAt,
    updatedAt: new Date(now).toISOString(),
    summary: s3Uri(layout.job.bucket, layout.job.summaryKey),
  };
  jobProgressSchema.parse(progress);
  await writeS3Json(s3, layout.job.bucket, layout.progressKey, progress);
  return progress;
}

/** What a split job's planner knows while it plans: for {@link writePlanningProgress}. */
export interface PlanningFacts {
  jobId: string;
  /** Entries of the manifest. */
  entries: number;
  /** Entries read (and planned) so far. */
  read: number;
  /** What the planner settled itself so far (part 0: invalid entries). */
  counts: Readonly<JobProgress['counts']>;
  /** The hash slots: the parts there will be at most. */
  slots: number;
  /** Epoch ms the job was first taken up. */
  startedAt: number;
}

/**
 * Writes a split job's `progress.json` while it is planned (state `planning`, after every
 * planning window): `settled` is then the entries read so far, so a status view's bar shows the
 * plan's progress; `counts` what the planner settled itself; `parts.total` the hash slots (parts
 * at most, waiting); the rate and time left are the reading's, since the job was taken up.
 */
export async function writePlanningProgress(s3: S3Client, layout: ScaleOutLayout, facts: PlanningFacts, clock: Pick<Clock, 'now'>): Promise<JobProgress> {
  const now = clock.now();
  const seconds = (now - facts.startedAt) / 1_000;
  const rate = seconds > 0 ? facts.read / seconds : 0;
  const left = Math.max(0, facts.entries - facts.read);
  const progress: JobProgress = {
    formatVersion: 1,
    jobId: facts.jobId,
    state: 'planning',
    entries: facts.entries,
    settled: facts.read,
    counts: { ...facts.counts },
    parts: { total: facts.slots, done: 0, running: 0, waiting: facts.slots },
    idsPerSecond: Math.round(rate * 10) / 10,
    etaSeconds: left === 0 ? 0 : rate > 0 ? Math.round(left / rate) : null,
    startedAt: new Date(facts.startedAt).toISOString(),
    updatedAt: new Date(now).toISOString(),
    summary: s3Uri(layout.job.bucket, layout.job.summaryKey),
  };
  jobProgressSchema.parse(progress);
  await writeS3Json(s3, layout.job.bucket, layout.progressKey, progress);
  return progress;
}
