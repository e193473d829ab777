import { z } from 'zod';
import { jobCheckpointSchema } from '../job/jobCheckpoint.js';
import { PLAN_PARTITION } from './planPartition.js';

const count = z.number().int().min(0);

/**
 * `plan-checkpoint.json` of a split job being planned (docs/scale-out.md "Planning"), written by
 * lib/scaleout/planScaleOut.ts after every window: how far the planner read, and what it knows of
 * the entries up to there — so an invocation cut by the deadline is followed by one that makes
 * exactly the plan an uncut one would. Its head (`jobId`, `jobIdSource`, `job`, `trigger`) is the
 * job checkpoint's: a `continueJob` message resumes a job from either (lib/job/runCleanupJob.ts).
 */
export const planCheckpointSchema = jobCheckpointSchema.pick({ formatVersion: true, jobId: true, jobIdSource: true, job: true, trigger: true, manifestETag: true }).extend({
  /** The manifest the plan splits, and the hash partition of its valid IDs. */
  manifest: z.string(),
  partition: z.literal(PLAN_PARTITION),
  slots: z.number().int().min(1),
  partSize: z.number().int().min(1),
  /** The window's bytes the plan was begun with: windows of another size would be other segments. */
  windowBytes: z.number().int().min(1),
  /** Every entry up to this line is planned (its segment, or its part-0 report file, is written). */
  lineReached: count,
  entriesRead: count,
  /** Windows written: segments `plan/slot-0001/w-00001.jsonl` … and part-0 files up to this one. */
  windows: count,
  /** The windows that settled entries themselves (invalid, their repeats): part 0's report files. */
  screenedWindows: z.array(z.number().int().min(1)),
  /** What the planner settled so far (part 0). */
  counts: jobCheckpointSchema.shape.counts,
  normalized: count,
  /** Per hash slot: IDs routed to it, and the first and last line among them (0 while it has none). */
  slotEntries: z.array(count),
  slotFirstLine: z.array(count),
  slotLastLine: z.array(count),
  /** Planning invocations so far. */
  invocations: z.number().int().min(1),
  /** Epoch ms the job was first taken up. */
  startedAt: z.number(),
  updatedAt: z.iso.datetime(),
});

/** Contents of `plan-checkpoint.json`. */
export type PlanCheckpoint = z.infer<typeof planCheckpointSchema>;
