import { z } from 'zod';
import { DELETE_OUTCOMES, type DeleteOutcome } from '../pipeline/outcome.js';

/** Version of the `summary.json` format; raised on any incompatible change. */
export const SUMMARY_FORMAT_VERSION = 2;

/** What started a job, and from where. */
export const triggerInfoSchema = z.object({
  type: z.enum(['manual', 'queue', 'schedule']),
  /** What started the job: the SQS message id (queue), the schedule time in ISO 8601 (schedule), the Lambda request id (manual). */
  source: z.string().optional().describe('SQS message id, schedule time or Lambda request id'),
  /** `s3://bucket/key` of the manifest the IDs came from, when they came from one. */
  manifest: z.string().optional().describe('s3:// URI of the manifest the IDs came from'),
});

/** What started a job, and from where. */
export type TriggerInfo = z.infer<typeof triggerInfoSchema>;

const countSchema = z.number().int().min(0);

/** Where a job's id came from, most explicit first (lib/job/jobIdentity.ts). */
export const jobIdSourceSchema = z.enum(['idempotency_key', 'message_id', 'content_hash']);

/**
 * Why a job stopped before its end, or paused: the deadline cut it (a later invocation goes on),
 * its failure or not-found threshold was crossed, or the service refused the job as a whole (the
 * rest skipped; `part` names the part of a split job that met it), it was split into parts run by
 * the work queue's workers, its manifest changed, or it was given up (abandoned).
 */
export const jobStopSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('deadline'), reason: z.string(), resumeAfter: countSchema }),
  z.object({
    kind: z.literal('failure_threshold'),
    reason: z.string(),
    crossing: z.string().describe("the threshold's own words: how many of the IDs attempted failed, or which part crossed it"),
    attempted: countSchema.optional().describe('IDs attempted when this job crossed it'),
    failed: countSchema.optional(),
    part: z.number().int().min(1).optional().describe('the part of the split job that crossed it, when another one did'),
  }),
  // Most IDs attempted were not found (lib/pipeline/NotFoundThreshold.ts): a wrong target, or a list deleted already; the rest skipped.
  z.object({
    kind: z.literal('not_found_threshold'),
    reason: z.string(),
    crossing: z.string().describe("the threshold's own words: how many of the IDs attempted were not found, or which part crossed it"),
    attempted: countSchema.optional().describe('IDs attempted when this job crossed it'),
    notFound: countSchema.optional().describe('of them, not found: already_deleted, or failed NOT_FOUND_UNRESOLVED'),
    part: z.number().int().min(1).optional().describe('the part of the split job that crossed it, when another one did'),
  }),
  // The service refused the job as a whole (ModelArts.4204, API not subscribed: lib/modelarts/classifyFailure.ts isWholeJobFailure); the rest skipped.
  z.object({
    kind: z.literal('service_refused'),
    reason: z.string(),
    crossing: z.string().describe("the service's refusal: its error code and message, or which part met it"),
    code: z.string().optional().describe("the service's error code, e.g. ModelArts.4204"),
    part: z.number().int().min(1).optional().describe('the part of the split job that met it, when another one did'),
  }),
  z.object({ kind: z.literal('split'), reason: z.string(), parts: countSchema }),
  // An operator cancelled it (cancel.json, lib/job/cancelRequest.ts): no request was started after it was seen; the entries not attempted skipped (CANCELLED).
  z.object({
    kind: z.literal('cancelled'),
    reason: z.string(),
    requestedAt: z.iso.datetime().describe('when the cancel was asked for'),
    requestedBy: z.string().optional().describe('who asked for it, as the request says'),
    parts: countSchema.optional().describe('a split job: how many of its parts the cancel stopped (the others had ended)'),
    notReached: countSchema.optional().describe('cancelled while the job was being split: entries counted skipped with no line in the report files (their IDs were never listed)'),
  }),
  // The manifest version the job is pinned to is gone (replaced or deleted): the lines after resumeAfter were never read (lib/job/jobRecord.ts).
  z.object({
    kind: z.literal('manifest_changed'),
    reason: z.string(),
    resumeAfter: countSchema.describe('every entry up to this line of the version the job started on has its outcome; none after it was read'),
    notReached: countSchema.describe('entries of that version never read: counted skipped (MANIFEST_CHANGED), with no line in the report files'),
  }),
  // Given up (lib/triggers/finishAbandonedJob.ts): its message reached the dead-letter queue, or its pending manifest failed PENDING_MAX_FAILURES times.
  z.object({
    kind: z.literal('abandoned'),
    reason: z.string(),
    cause: z.enum(['dead_lettered', 'quarantined']),
    resumeAfter: countSchema.optional().describe('every entry up to this line has the outcome a run gave it; the entries after it failed (DEAD_LETTERED or QUARANTINED)'),
    parts: z.array(z.number().int().min(1)).optional().describe('the parts of a split job given up: their entries not reached failed'),
  }),
]);

/** Why a job stopped or paused. */
export type JobStop = z.infer<typeof jobStopSchema>;

const targetOutputSchema = z.discriminatedUnion('api', [
  z.object({ api: z.literal('v1'), projectId: z.string(), dataAnnotationId: z.string() }),
  z.object({ api: z.literal('v2'), projectId: z.string(), datasetId: z.string(), deleteSource: z.boolean() }),
]);

/**
 * Schema of `summary.json`, the report's front page. Published as JSON Schema in
 * `schemas/summary.schema.json` (`npm run schema`); documented in docs/report-format.md.
 */
export const jobSummarySchema = z
  .object({
    formatVersion: z.literal(SUMMARY_FORMAT_VERSION),
    jobId: z.string(),
    jobIdSource: jobIdSourceSchema.describe('where the job id came from'),
    trigger: triggerInfoSchema,
    target: targetOutputSchema,
    status: z
      .enum(['completed', 'completed_with_failures', 'stopped_failure_threshold', 'stopped_not_found', 'stopped_service_refused', 'stopped_manifest_changed', 'stopped_abandoned', 'cancelled', 'continuing', 'dry_run'])
      .describe('completed: every ID deleted or already gone; completed_with_failures: some failed or were invalid; stopped_failure_threshold: stopped early, the rest skipped; stopped_not_found: stopped early because most IDs attempted were not found (a wrong target, or deleted already), the rest skipped; stopped_service_refused: stopped at once because the service refused the job as a whole (ModelArts.4204, API not subscribed), the rest skipped; stopped_manifest_changed: the manifest was replaced or deleted while the job ran, the entries not reached skipped; stopped_abandoned: its message reached the dead-letter queue (or its pending manifest was quarantined), the entries not reached failed; cancelled: an operator cancelled it (image-cleanup cancel), no request started after, the entries not attempted skipped (CANCELLED); continuing: cut by the deadline, a later invocation goes on; dry_run: nothing was sent'),
    stopReason: z.string().optional().describe('why the job stopped or paused, when it did: stop.reason, as a sentence'),
    stop: jobStopSchema.optional().describe('why the job stopped or paused, when it did, for programs: its kind and figures'),
    dryRun: z.boolean(),
    counts: z
      .object({ received: countSchema, ...Object.fromEntries(DELETE_OUTCOMES.map((outcome) => [outcome, countSchema])) } as { received: typeof countSchema } & Record<DeleteOutcome, typeof countSchema>)
      .describe('received equals the sum of the outcome counts (for a continuing job: of the entries settled so far, settled)'),
    settled: countSchema.describe('entries with an outcome so far; equals counts.received once the job is complete'),
    normalized: countSchema.describe('entries trimmed or lower-cased before they were checked'),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    durationMs: countSchema,
    invocations: z.number().int().min(1).describe('Lambda invocations the job took (more than 1 when cut by the deadline)'),
    requests: countSchema,
    retries: countSchema,
    throttled: countSchema,
    chunkLatencyMs: z.object({ count: countSchema, p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
    chunkLatencyHistogram: z
      .object({ buckets: z.array(countSchema), count: countSchema, maxMs: z.number() })
      .optional()
      .describe('the counts behind chunkLatencyMs (four buckets per doubling), so the parts of a split job merge into exact percentiles'),
    limiter: z
      .object({ initial: z.number(), final: z.number(), min: z.number(), max: z.number(), lowest: z.number(), highest: z.number(), throttled: countSchema, decreases: countSchema, finalRate: z.number().nullable() })
      .optional()
      .describe('the adaptive limiter of the last invocation'),
    options: z.object({
      chunkSize: z.number().int(),
      maxInFlight: z.number().int(),
      maxAttempts: z.number().int(),
      dryRun: z.boolean(),
      failureThreshold: z.object({ minAttempted: z.number().int(), maxFailureRate: z.number() }),
      notFoundThreshold: z.object({ minAttempted: z.number().int(), maxNotFoundRate: z.number() }).optional().describe('the not-found threshold the job ran with (absent in reports written before it existed)'),
    }),
    report: z.object({ summary: z.string(), failed: z.string(), results: z.string() }),
    continuation: z
      .object({ checkpoint: z.string(), resumeAfter: countSchema, queued: z.boolean() })
      .optional()
      .describe('for a continuing job: where its state is, and whether a continuation message was queued'),
    scaleOut: z
      .object({ parts: countSchema, partSize: countSchema, plan: z.string(), progress: z.string() })
      .optional()
      .describe('for a job split into parts run by the work queue\'s workers: how many, and where its plan and progress are'),
  })
  .strict();

/** Contents of `summary.json`. */
export type JobSummary = z.infer<typeof jobSummarySchema>;
