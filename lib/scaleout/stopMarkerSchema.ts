import { z } from 'zod';

/** `stop.json` of a split job: the part that crossed the job's failure threshold, and why. */
export const stopMarkerSchema = z.object({
  part: z.number().int().min(1),
  reason: z.string(),
  at: z.iso.datetime(),
});

/** Contents of `stop.json`. */
export type StopMarker = z.infer<typeof stopMarkerSchema>;
