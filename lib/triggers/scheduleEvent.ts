import { z } from 'zod';
import { JobValidationError } from '../core/errors.js';
import { toValidationIssues, onlyForWrongType } from '../core/zodIssues.js';

/** What a schedule asks for: which prefix to scan, and when it fired. */
export interface ScheduleRequest {
  /** Prefix to scan, relative to `MANIFEST_PREFIX`; always under `pending/`. */
  prefix: string;
  /** When the schedule fired (ISO 8601): the event's `time`, or now for Scheduler input. */
  scheduledAt: string;
  /** Most manifests this run may start. */
  maxManifests?: number;
}

const pendingPrefix = z
  .string({ error: 'expected a key prefix under "pending/"' })
  .refine((prefix) => prefix.startsWith('pending/') && prefix.endsWith('/') && !prefix.split('/').includes('..'), 'expected a key prefix under "pending/", ending in "/", without ".."');

// EventBridge (rule) scheduled event: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
const scheduledEventSchema = z.object({
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
  time: z.iso.datetime({ error: 'expected the ISO 8601 time the schedule fired' }),
  resources: z.array(z.string()).optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

// EventBridge Scheduler delivers the input configured on the schedule as is: ours is this object.
const schedulerInputSchema = z
  .object({
    prefix: pendingPrefix.optional(),
    maxManifests: z.number({ error: 'expected a whole number' }).int().min(1).max(10_000).optional(),
  }, { error: onlyForWrongType('expected an EventBridge scheduled event or the Scheduler input {"prefix"?: "pending/…", "maxManifests"?: n}') })
  .strict();

/**
 * Reads a schedule's event: an EventBridge scheduled event (`"detail-type": "Scheduled Event"`,
 * scans `pending/`), or EventBridge Scheduler's raw input `{ "prefix"?, "maxManifests"? }`.
 *
 * @param now - Epoch ms, used as the schedule time of Scheduler input, which carries none.
 * @throws {JobValidationError} naming the field, for any other shape.
 */
export function parseScheduleEvent(event: unknown, now: number): ScheduleRequest {
  if (typeof event === 'object' && event !== null && 'detail-type' in event) {
    const parsed = scheduledEventSchema.safeParse(event);
    if (!parsed.success) throw new JobValidationError(toValidationIssues(parsed.error));
    return { prefix: 'pending/', scheduledAt: new Date(parsed.data.time).toISOString() };
  }
  const parsed = schedulerInputSchema.safeParse(event);
  if (!parsed.success) throw new JobValidationError(toValidationIssues(parsed.error));
  return {
    prefix: parsed.data.prefix ?? 'pending/',
    scheduledAt: new Date(now).toISOString(),
    ...(parsed.data.maxManifests === undefined ? {} : { maxManifests: parsed.data.maxManifests }),
  };
}
