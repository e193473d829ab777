/** The handler an event is for. */
export type HandlerName = 'manual' | 'queue' | 'schedule';

/** The handler an event's shape names, with what it looked like; or no handler, and why. */
export type HandlerChoice = { handler: HandlerName; looksLike: string } | { handler: undefined; why: string };

// Fields only a cleanup job has (lib/job/cleanupJob.ts): one of them makes the event a job.
const JOB_FIELDS = ['target', 'imageIds', 'manifest'];
// The Scheduler input's fields (lib/triggers/scheduleEvent.ts).
const SCHEDULER_FIELDS = new Set(['prefix', 'maxManifests']);

/**
 * Picks the handler from the event's shape, only where the shape names one alone: SQS records →
 * `queue`; a `"detail-type": "Scheduled Event"`, or Scheduler input (`prefix` and/or
 * `maxManifests`, nothing else) → `schedule`; an object with a cleanup job's own fields (`target`,
 * `imageIds`, `manifest`) → `manual`. Anything else names none — above all `{}`, which is both a
 * job with every field missing and the Scheduler input of a full scan of `pending/`: a mistyped
 * job must not run the schedule. The handler then refuses the event with its own clear error.
 */
export function handlerFor(event: unknown): HandlerChoice {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { handler: undefined, why: `a JSON ${event === null ? 'null' : Array.isArray(event) ? 'array' : typeof event} is no event of any handler` };
  }
  const fields = event as Record<string, unknown>;
  const keys = Object.keys(fields);
  if ('Records' in fields) return recordsHandler(fields.Records);
  if ('detail-type' in fields || 'source' in fields) {
    return fields['detail-type'] === 'Scheduled Event'
      ? { handler: 'schedule', looksLike: 'an EventBridge scheduled event' }
      : { handler: undefined, why: `an EventBridge event of type ${JSON.stringify(fields['detail-type'] ?? null)} is for no handler: the schedule takes "Scheduled Event" only` };
  }
  if (keys.length === 0) return { handler: undefined, why: '{} is both a manual job with every field missing and the Scheduler input of a full scan of pending/' };
  if (keys.every((key) => SCHEDULER_FIELDS.has(key))) return { handler: 'schedule', looksLike: 'EventBridge Scheduler input' };
  if (JOB_FIELDS.some((key) => key in fields)) return { handler: 'manual', looksLike: 'a cleanup job' };
  if ('continueJob' in fields) return { handler: undefined, why: 'a continuation is an SQS message body: wrap it in a record, as in events/sqs-inline.json' };
  return { handler: undefined, why: `an object with ${keys.slice(0, 5).map((key) => JSON.stringify(key)).join(', ')}${keys.length > 5 ? ', …' : ''} is no cleanup job (target, imageIds or manifest), no SQS event and no schedule event` };
}

// Lambda's SQS event: every record from aws:sqs. An S3 notification sent as is (not through the queue) is named.
function recordsHandler(records: unknown): HandlerChoice {
  const sources = Array.isArray(records) ? records.map((record) => (record as { eventSource?: unknown } | null)?.eventSource) : [];
  if (sources.length > 0 && sources.every((source) => source === 'aws:sqs')) return { handler: 'queue', looksLike: 'an SQS event' };
  if (sources.length > 0 && sources.every((source) => source === 'aws:s3')) {
    return { handler: undefined, why: 'an S3 notification reaches the queue handler inside an SQS record\'s body: see events/sqs-s3-notification.json' };
  }
  return { handler: undefined, why: '"Records" that are not all SQS records (eventSource "aws:sqs") are for no handler' };
}
