import { z } from 'zod';
import { jobSummarySchema, triggerInfoSchema } from '../report/jobSummary.js';

const count = z.number().int().min(0);

/**
 * `plan.json` of a split job (docs/scale-out.md), written by lib/scaleout/planScaleOut.ts once its
 * part manifests' segments are in S3: what each part holds, and everything a worker needs to run one and to
 * assemble the final report. `queued` turns true once every part's message is on the work queue.
 */
export const scaleOutPlanSchema = z.object({
  formatVersion: z.literal(1),
  jobId: z.string(),
  jobIdSource: jobSummarySchema.shape.jobIdSource,
  trigger: triggerInfoSchema,
  target: jobSummarySchema.shape.target,
  /** The original manifest, and the version that was split. */
  manifest: z.string(),
  manifestETag: z.string().optional(),
  /** Entries of the original manifest. */
  entries: count,
  partSize: z.number().int().min(1),
  /**
   * The parts: one per hash slot that got IDs, numbered in slot order. `slot` (1-based) names the
   * segments its manifest is built from (`plan/slot-0001/w-00001.jsonl` …, lib/scaleout/ensurePartManifest.ts);
   * absent in plans from before hash partitioning, whose part manifests were written whole.
   */
  parts: z.array(z.object({ part: z.number().int().min(1), key: z.string(), entries: count, firstLine: count, lastLine: count, slot: z.number().int().min(1).optional() })),
  /** Planning windows: a part's segments are those of windows 1 to this (a window where its slot got nothing has none). */
  windows: count.optional(),
  /** Entries the planner settled itself (invalid entries and their repeats; a valid ID's repeats are its part's): the job's "part 0". */
  screened: z.object({ counts: jobSummarySchema.shape.counts.omit({ received: true }), normalized: count }),
  options: jobSummarySchema.shape.options,
  startedAt: z.iso.datetime(),
  plannedAt: z.iso.datetime(),
  queued: z.boolean(),
});

/** Contents of `plan.json`. */
export type ScaleOutPlan = z.infer<typeof scaleOutPlanSchema>;
