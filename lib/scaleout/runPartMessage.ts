import { z } from 'zod';
import { jobIdSchema } from '../job/jobIdentity.js';

/** Body of a part's message on the work queue: run part `part` of the split job `jobId` (docs/scale-out.md). */
export const runPartMessageSchema = z.object({ runPart: z.object({ jobId: jobIdSchema, part: z.number().int().min(1) }).strict() }).strict();

/** A part's message body. */
export type RunPartMessage = z.infer<typeof runPartMessageSchema>;

/** The message that runs (or resumes) one part. */
export function runPartMessage(jobId: string, part: number): RunPartMessage {
  return { runPart: { jobId, part } };
}
