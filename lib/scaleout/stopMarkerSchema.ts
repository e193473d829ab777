import { z } from 'zod';
import { JOB_WIDE_STOPS } from '../job/wholeJobStop.js';

/**
 * `stop.json` of a split job: the part that stopped the whole job, why, and what stopped it — the
 * failure threshold, the not-found threshold, or the service refusing the job as a whole
 * (`code`: its error code). A marker without `kind` was written before kinds existed: the failure threshold.
 */
export const stopMarkerSchema = z.object({
  part: z.number().int().min(1),
  reason: z.string(),
  at: z.iso.datetime(),
  kind: z.enum(JOB_WIDE_STOPS).optional(),
  code: z.string().optional(),
});

/** Contents of `stop.json`. */
export type StopMarker = z.infer<typeof stopMarkerSchema>;
