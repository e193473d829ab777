import { readS3Json } from '../aws/readS3Json.js';
import { s3Uri } from '../aws/s3Uri.js';
import { writeS3Json } from '../aws/writeS3Json.js';
import type { CleanupDeps } from '../job/types.js';
import type { TriggerInfo } from '../report/jobSummary.js';
import { reportLocation } from '../report/ReportLocation.js';
import { completeScaleOutJob, type CompletionOutcome } from '../scaleout/completeScaleOutJob.js';
import type { PartProgress } from '../scaleout/partProgressSchema.js';
import { ensurePartManifest } from '../scaleout/ensurePartManifest.js';
import { partRequest } from '../scaleout/partJob.js';
import { scaleOutLayout } from '../scaleout/scaleOutLayout.js';
import { scaleOutPlanSchema, type ScaleOutPlan } from '../scaleout/scaleOutPlanSchema.js';
import { finishAbandonedJob, type AbandonCause, type AbandonOutcome } from './finishAbandonedJob.js';

/** What giving up a part led to. */
export type GiveUpPartOutcome =
  /** The split job has no plan, or no such part: nothing to give up. */
  | { kind: 'no_such_part'; reason: string }
  /** The part is settled (its summary written now, or before); `completion` is the split job's. */
  | { kind: 'settled'; part: AbandonOutcome; completion: CompletionOutcome };

/**
 * Gives up one part of a split job (its `runPart` message reached the dead-letter queue, or its
 * job's parts could not all be queued): the part ends with a summary of its own
 * (lib/triggers/finishAbandonedJob.ts: what it did up to its checkpoint, every entry after it
 * `failed` with the cause's code, from its first entry when it never ran), its progress is marked
 * done, and the split job is completed when that was its last part — so `progress.json` never says
 * `running` for ever, and the final summary says which parts were given up.
 *
 * @param plan - The split job's plan, when the caller read it already.
 * @throws {JobInProgressError} when the part runs in another invocation (try again later).
 * @throws the refusal that keeps its part manifest from being read (nothing is written then).
 */
export async function giveUpPart(jobId: string, part: number, why: AbandonCause, trigger: TriggerInfo, deps: CleanupDeps, owner: string, plan?: ScaleOutPlan): Promise<GiveUpPartOutcome> {
  const { config, s3, clock } = deps;
  const layout = scaleOutLayout(reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, jobId));
  const known = plan ?? (await readS3Json(s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema));
  if (known === undefined) return { kind: 'no_such_part', reason: `job ${jobId} has no plan at ${s3Uri(layout.job.bucket, layout.planKey)}` };
  const entry = known.parts[part - 1];
  if (entry === undefined || entry.part !== part) return { kind: 'no_such_part', reason: `job ${jobId} has parts 1 to ${known.parts.length}; got ${part}` };

  // Its manifest is read to fail the entries not reached: one object, as its worker reads it.
  await ensurePartManifest(known, part, layout, s3);
  const settled = await finishAbandonedJob(partRequest(known, part, layout, trigger), why, deps, owner, true);
  // Its own part manifest unreadable: nothing truthful to write; the message comes back (and alarms).
  if (settled.kind === 'unreadable') throw settled.error;
  if (settled.kind === 'finished' || settled.kind === 'complete') {
    const { received: _received, ...counts } = settled.summary.counts;
    await writeS3Json(s3, layout.job.bucket, layout.partProgressKey(part), { part, state: 'done', entries: entry.entries, counts, updatedAt: new Date(clock.now()).toISOString() } satisfies PartProgress);
  }
  const completion = await completeScaleOutJob(known, layout, deps, `${owner}:${part}`);
  return { kind: 'settled', part: settled, completion };
}
