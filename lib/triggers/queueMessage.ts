import { SnsSqsNotificationSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import { z } from 'zod';
import { cleanupJobSchema } from '../job/cleanupJob.js';
import { continuationMessageSchema, type ContinuationMessage } from '../job/continuationMessage.js';
import type { ManifestVersion } from '../job/jobRecord.js';
import { pendingContinuationMessageSchema, type PendingContinuationMessage } from './pendingContinuationMessage.js';
import { runPartMessageSchema, type RunPartMessage } from '../scaleout/runPartMessage.js';
import { QueueMessageError, type ValidationIssue } from '../core/errors.js';
import { toValidationIssues } from '../core/zodIssues.js';

/** What one queue message asks for. */
export type QueueWork =
  /** A cleanup job (inline IDs or a manifest pointer), validated as a whole; run as is. */
  | { kind: 'job'; job: unknown }
  /** Manifests created under `pending/` (S3 notification, directly or through SNS). */
  | { kind: 'manifests'; objects: Array<{ bucket: string; key: string }> }
  /** A job cut by the Lambda deadline goes on from its checkpoint (see lib/job/runCleanupJob.ts). */
  | { kind: 'continuation'; jobId: string }
  /** One part of a job split by the planner (lib/scaleout/planScaleOut.ts), run by lib/scaleout/runScaleOutPart.ts. */
  | { kind: 'part'; jobId: string; part: number }
  /** A pending manifest's job cut by the deadline goes on, in the pending flow (lib/triggers/processPendingManifest.ts). */
  | { kind: 'pending_continuation'; key: string; version: ManifestVersion }
  /** Nothing to do, and nothing wrong: S3's `s3:TestEvent`, or an event other than ObjectCreated. */
  | { kind: 'ignore'; reason: string };

/**
 * Reads one SQS record: the record itself must be well formed (Powertools' SQS record schema), and
 * its body one of: a cleanup job; an S3 event notification (S3 → SQS); the same wrapped in an SNS
 * notification (S3 → SNS → SQS, raw delivery off); or S3's `s3:TestEvent`, sent when a
 * notification is configured.
 *
 * @throws {QueueMessageError} with the record's message id and one issue per wrong field, the
 *   paths starting at the record (`body.target.projectId`, `body.Message.Records.0.s3`, …).
 */
export function readQueueMessage(record: unknown): QueueWork {
  const messageId = typeof (record as { messageId?: unknown } | null)?.messageId === 'string' ? (record as { messageId: string }).messageId : '(no messageId)';
  const fail = (issues: ValidationIssue[]): never => {
    throw new QueueMessageError(messageId, issues);
  };
  const checked = SqsRecordSchema.safeParse(record);
  if (!checked.success) fail(toValidationIssues(checked.error));
  const body = parseJson((checked.data as z.output<typeof SqsRecordSchema>).body, 'body', fail);

  if (isObject(body) && body.Type === 'Notification' && 'TopicArn' in body) {
    const sns = SnsSqsNotificationSchema.safeParse(body);
    if (!sns.success) fail(toValidationIssues(sns.error, 'body'));
    return readS3Notification(parseJson((sns.data as z.output<typeof SnsSqsNotificationSchema>).Message, 'body.Message', fail), 'body.Message', fail);
  }
  if (isObject(body) && (body.Event === 's3:TestEvent' || Array.isArray(body.Records))) return readS3Notification(body, 'body', fail);
  if (isObject(body) && 'continueJob' in body) {
    const message = continuationMessageSchema.safeParse(body);
    if (!message.success) fail([{ path: 'body.continueJob', message: 'expected {"continueJob": "<job id>"} and nothing else' }]);
    return { kind: 'continuation', jobId: (message.data as ContinuationMessage).continueJob };
  }

  if (isObject(body) && 'continuePending' in body) {
    const message = pendingContinuationMessageSchema.safeParse(body);
    if (!message.success) fail([{ path: 'body.continuePending', message: 'expected {"continuePending": {"key": "pending/…", "version": {"etag": "…", "versionId"?: "…"}}} and nothing else' }]);
    const { key, version } = (message.data as PendingContinuationMessage).continuePending;
    return { kind: 'pending_continuation', key, version };
  }

  if (isObject(body) && 'runPart' in body) {
    const message = runPartMessageSchema.safeParse(body);
    if (!message.success) fail([{ path: 'body.runPart', message: 'expected {"runPart": {"jobId": "<job id>", "part": <number from 1>}} and nothing else' }]);
    const { jobId, part } = (message.data as RunPartMessage).runPart;
    return { kind: 'part', jobId, part };
  }

  const job = cleanupJobSchema.safeParse(body);
  if (!job.success) fail(toValidationIssues(job.error, 'body'));
  return { kind: 'job', job: body };
}

// What an S3 event notification must say for us to act on it: the event, the bucket and the key
// (with size, ETag and sequencer checked when present). The rest — userIdentity,
// requestParameters, responseElements, … — is S3's bookkeeping, absent from some senders
// (replication, some S3-compatible stores, hand-made tests), and ignored.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
const s3NotificationSchema = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({
        bucket: z.object({ name: z.string().min(1) }),
        object: z.object({
          key: z.string().min(1),
          size: z.number().int().min(0).optional(),
          eTag: z.string().optional(),
          versionId: z.string().optional(),
          sequencer: z.string().optional(),
        }),
      }),
    }),
  ),
});

function readS3Notification(body: unknown, path: string, fail: (issues: ValidationIssue[]) => never): QueueWork {
  if (isObject(body) && body.Event === 's3:TestEvent') return { kind: 'ignore', reason: 's3:TestEvent' };
  const event = s3NotificationSchema.safeParse(body);
  if (!event.success) fail(toValidationIssues(event.error, path));
  const records = event.data.Records;
  const created = records.filter((r) => r.eventName.startsWith('ObjectCreated:'));
  if (created.length === 0) return { kind: 'ignore', reason: `no ObjectCreated record (${records.map((r) => r.eventName).join(', ') || 'no records'})` };
  return {
    kind: 'manifests',
    objects: created.map((r, i) => ({ bucket: r.s3.bucket.name, key: decodeKey(r.s3.object.key, `${path}.Records.${i}.s3.object.key`, fail) })),
  };
}

// S3 notifications URL-encode the key, with "+" for a space; a malformed escape is refused, not thrown.
function decodeKey(key: string, path: string, fail: (issues: ValidationIssue[]) => never): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return fail([{ path, message: `expected a URL-encoded object key; got "${key.slice(0, 200)}"` }]);
  }
}

function parseJson(text: string, path: string, fail: (issues: ValidationIssue[]) => never): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return fail([{ path, message: `expected JSON: ${(error as Error).message}` }]);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
