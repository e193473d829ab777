import { z } from 'zod';
import { manifestVersionSchema } from '../job/jobRecord.js';

/**
 * Body of a pending manifest's continuation on the work queue: the job of that version of
 * `pending/…` was cut by the deadline, and the pending flow (lib/triggers/processPendingManifest.ts)
 * goes on with it — claim, resume from the checkpoint, then move the file — on every stage, with or
 * without the schedule.
 */
export const pendingContinuationMessageSchema = z
  .object({
    continuePending: z.object({ key: z.string().min(1).max(1024), version: manifestVersionSchema }).strict(),
  })
  .strict();

/** A pending manifest's continuation message. */
export type PendingContinuationMessage = z.infer<typeof pendingContinuationMessageSchema>;
