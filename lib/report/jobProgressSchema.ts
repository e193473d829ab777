import { z } from 'zod';
import { jobSummarySchema } from './jobSummary.js';

const count = z.number().int().min(0);
const outcomeCounts = jobSummarySchema.shape.counts.omit({ received: true });

/**
 * `progress.json` of a job (docs/report-format.md), split or not: a split job's is updated by the
 * workers when a part ends and every ~10 s while one runs (docs/scale-out.md); an unsplit job's by
 * its run every ~10 s, at a pause and at its end (lib/job/writeUnsplitProgress.ts). Printed by
 * `image-cleanup status <job-id>`. In lib/report/ so the job (lib/job/) and the split job
 * (lib/scaleout/) both write it.
 */
export const jobProgressSchema = z.object({
  formatVersion: z.literal(1),
  jobId: z.string(),
  /** `done` once the final summary is written. */
  state: z.enum(['planning', 'running', 'done']),
  /** The final summary's status, once done. */
  status: jobSummarySchema.shape.status.optional(),
  stopReason: z.string().optional(),
  entries: count,
  settled: count,
  counts: outcomeCounts,
  /** All 0 for a job that is not split. */
  parts: z.object({ total: count, done: count, running: count, waiting: count }),
  /** Entries settled per second, on average since the plan was made (split) or the job was first taken up (unsplit). */
  idsPerSecond: z.number().min(0),
  /** Seconds left at that rate; null before anything was settled. */
  etaSeconds: z.number().min(0).nullable(),
  startedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  summary: z.string().describe('s3:// URI of summary.json, complete once state is done'),
  /** The adaptive limiter's state at `updatedAt` (an unsplit job's: its invocation's limiter). */
  limiter: z
    .object({ limit: count, inFlight: count, waiting: count, rate: z.number().min(0).nullable(), rateCeiling: z.number().min(0).nullable(), throttled: count, decreases: count,
      /** Limiters sharing the target's limit (this job's running parts); absent in files written before it was kept. */
      sharers: count.min(1).optional() })
    .optional(),
});

/** Contents of `progress.json`. */
export type JobProgress = z.infer<typeof jobProgressSchema>;
