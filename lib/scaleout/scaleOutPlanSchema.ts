import { z } from 'zod';
import { jobSummarySchema, triggerInfoSchema } from '../report/jobSummary.js';

const count = z.number().int().min(0);

/**
 * `plan.json` of a split job (docs/scale-out.md), written by lib/scaleout/planScaleOut.ts once its part
 * manifests are in S3: what each part holds, and everything a worker needs to run one and to
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
  parts: z.array(z.object({ part: z.number().int().min(1), key: z.string(), entries: count, firstLine: count, lastLine: count })),
  /** Entries the planner settled itself (invalid, repeats): the job's "part 0". */
  screened: z.object({ counts: jobSummarySchema.shape.counts.omit({ received: true }), normalized: count }),
  options: jobSummarySchema.shape.options,
  startedAt: z.iso.datetime(),
  plannedAt: z.iso.datetime(),
  queued: z.boolean(),
});

/** Contents of `plan.json`. */
export type ScaleOutPlan = z.infer<typeof scaleOutPlanSchema>;
