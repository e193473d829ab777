import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
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

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
const MAX_KEY_BYTES = 1024;

const pendingPrefix = z
  .string({ error: 'expected a key prefix under "pending/"' })
  .refine((prefix) => prefix.startsWith('pending/') && prefix.endsWith('/') && !prefix.split('/').includes('..'), 'expected a key prefix under "pending/", ending in "/", without ".."')
  // An S3 key is at most 1,024 bytes of UTF-8: a longer prefix names nothing, and is a mistake.
  .refine((prefix) => new TextEncoder().encode(prefix).length <= MAX_KEY_BYTES, `expected a key prefix of at most ${MAX_KEY_BYTES} bytes (UTF-8), as S3 keys are`);

// What a schedule says without input: a plain tick. A scheduled rule sends `detail: {}`
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html); EventBridge
// Scheduler, for a schedule without input, sends its "default notification" with `detail: "{}"`, a
// string (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_Target.html, field Input).
// Anything else in `detail` was not sent by either: refused, never read as a full scan.
const isEmptyDetail = (detail: unknown): boolean =>
  detail === undefined || detail === '{}' || (typeof detail === 'object' && detail !== null && !Array.isArray(detail) && Object.keys(detail).length === 0);
const NO_DETAIL = 'a scheduled event carries no detail ({} from a scheduled rule, "{}" from EventBridge Scheduler): to scan part of pending/, configure the Scheduler input {"prefix"?: "pending/…", "maxManifests"?: n} instead';
// Our Scheduler input's keys on an envelope would be ignored, and all of pending/ scanned.
const notOnAnEvent = (key: string) => z.undefined({ error: `"${key}" belongs to the Scheduler input, not to an EventBridge event (which scans all of pending/): send the input alone` }).optional();

// The envelope as Powertools parser reads it (EventBridgeSchema: version, id, account, region,
// resources, …), narrowed to the two senders of scheduled events.
const scheduledEventSchema = EventBridgeSchema.extend({
  'detail-type': z.literal('Scheduled Event', { error: 'expected "Scheduled Event": the schedule handler takes scheduled events only' }),
  source: z.enum(['aws.events', 'aws.scheduler'], { error: 'expected "aws.events" (a scheduled rule) or "aws.scheduler" (EventBridge Scheduler)' }),
  time: z.iso.datetime({ error: 'expected the ISO 8601 time the schedule fired' }),
  detail: z.unknown().refine(isEmptyDetail, { error: NO_DETAIL }).optional(),
  prefix: notOnAnEvent('prefix'),
  maxManifests: notOnAnEvent('maxManifests'),
});

// EventBridge Scheduler delivers the input configured on the schedule as is: ours is this object.
const schedulerInputSchema = z
  .object({
    prefix: pendingPrefix.optional(),
    maxManifests: z.number({ error: 'expected a whole number' }).int().min(1).max(10_000).optional(),
  }, { error: onlyForWrongType('expected an EventBridge scheduled event or the Scheduler input {"prefix"?: "pending/…", "maxManifests"?: n}') })
  .strict();

/**
 * Reads a schedule's event: a scheduled event (`"detail-type": "Scheduled Event"` from a scheduled
 * rule, `source: "aws.events"`, or EventBridge Scheduler's default notification, `source:
 * "aws.scheduler"`; either with an empty detail; scans `pending/`), or the input configured on an
 * EventBridge Scheduler schedule, `{ "prefix"?, "maxManifests"? }`.
 *
 * @param now - Epoch ms, used as the schedule time of Scheduler input, which carries none.
 * @throws {JobValidationError} naming the field, for any other shape — a scheduled event with a
 *   detail included: nothing it could say is read, so it is refused rather than run as a full scan.
 */
export function parseScheduleEvent(event: unknown, now: number): ScheduleRequest {
  // Any of the envelope's own fields makes it an EventBridge event, checked as one (a stray
  // `source` or `detail` beside Scheduler input is named, not read as an unknown key).
  if (typeof event === 'object' && event !== null && !Array.isArray(event) && ('detail-type' in event || 'source' in event || 'detail' in event)) {
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
