import { z } from 'zod';
import { jobSummarySchema } from '../report/jobSummary.js';

const count = z.number().int().min(0);
const outcomeCounts = jobSummarySchema.shape.counts.omit({ received: true });

/**
 * `progress.json` of a split job (docs/scale-out.md): updated by the workers when a part ends and
 * every ~10 s while one runs; printed by `npm run job -- status <job-id>`.
 */
export const jobProgressSchema = z.object({
  formatVersion: z.literal(1),
  jobId: z.string(),
  /** `done` once the final summary is written. */
  state: z.enum(['running', 'done']),
  /** The final summary's status, once done. */
  status: jobSummarySchema.shape.status.optional(),
  stopReason: z.string().optional(),
  entries: count,
  settled: count,
  counts: outcomeCounts,
  parts: z.object({ total: count, done: count, running: count, waiting: count }),
  /** Entries settled per second by the parts, on average since the plan was made. */
  idsPerSecond: z.number().min(0),
  /** Seconds left at that rate; null before anything was settled. */
  etaSeconds: z.number().min(0).nullable(),
  startedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  summary: z.string().describe('s3:// URI of summary.json, complete once state is done'),
});

/** Contents of `progress.json`. */
export type JobProgress = z.infer<typeof jobProgressSchema>;
