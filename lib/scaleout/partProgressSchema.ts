import { z } from 'zod';
import { jobSummarySchema } from '../report/jobSummary.js';

/** What one part of a split job reports while it runs and when it ends (`parts/part-0001/progress.json`). */
export const partProgressSchema = z.object({
  part: z.number().int().min(1),
  state: z.enum(['running', 'continuing', 'done']),
  entries: z.number().int().min(0),
  counts: jobSummarySchema.shape.counts.omit({ received: true }),
  updatedAt: z.iso.datetime(),
});

/** A part's progress. */
export type PartProgress = z.infer<typeof partProgressSchema>;
