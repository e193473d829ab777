import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { claimLease } from '../aws/claimLease.js';
import { s3Uri } from '../aws/s3Uri.js';
import { CleanupError, QueueMessageError } from '../core/errors.js';
import { readCheckpoint } from '../job/jobCheckpoint.js';
import { deriveJobIdentity } from '../job/jobIdentity.js';
import type { ManifestVersion } from '../job/jobRecord.js';
import { currentManifestVersion } from '../job/prepareJobSource.js';
import type { CleanupDeps } from '../job/types.js';
import { manifestLayout } from '../manifest/manifestLocation.js';
import type { TriggerInfo } from '../report/jobSummary.js';
import { reportLocation } from '../report/ReportLocation.js';
import type { AbandonCause } from './finishAbandonedJob.js';
import { giveUpJob, type GiveUpOutcome } from './giveUpJob.js';
import { giveUpPart, type GiveUpPartOutcome } from './giveUpPart.js';
import { movePendingManifest } from './movePendingManifest.js';
import { pendingJobIdentity } from './pendingJobIdentity.js';
import { readUnfinishedKeyJob } from './pendingKeyJob.js';
import { readQueueMessage, type QueueWork } from './queueMessage.js';
import { refusedPendingKey } from './refusedPendingKey.js';
import { reportRefusal } from './reportRefusal.js';

/** What one dead letter led to. */
export type DeadLetterResult =
  | { kind: 'job'; jobId: string; outcome: GiveUpOutcome }
  | { kind: 'part'; jobId: string; part: number; outcome: GiveUpPartOutcome }
  | { kind: 'pending'; manifests: Array<{ manifestKey: string; jobId?: string; outcome: GiveUpOutcome | { kind: 'not_pending' } | { kind: 'reported'; report: string }; movedTo?: string }> }
  /** Not one of our messages: `rejected.json` (in `msg-{messageId}/`) says what it was. */
  | { kind: 'unreadable'; report: string }
  | { kind: 'ignored'; reason: string };

/**
 * The dead-letter queue's handler (handlers/deadLetter.ts): every message that failed
 * `maxReceiveCount` times on the work queue gets a report, so no job is left without one
 * (docs/replays.md, situation 6). It never calls ModelArts. A job, a continuation or a
 * notification's pending manifest is given up (lib/triggers/giveUpJob.ts): its summary if it has
 * one, else its summary finished from its checkpoint (the entries not reached `failed`,
 * `DEAD_LETTERED`), else `rejected.json` saying so; a pending manifest then moves to `failed/`
 * (`done/` when its job had ended). A part of a split job is given up
 * (lib/triggers/giveUpPart.ts), and the split job completes with that part's entries `failed`.
 * Each dead letter is counted in the metric `DeadLetters` (dimension `kind`), for the alarm.
 *
 * A message whose job (or pending manifest) is running right now fails, and comes back after the
 * dead-letter queue's visibility timeout; so does one whose report cannot be written.
 */
export async function processDeadLetters(event: SQSEvent, deps: CleanupDeps, context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(event, async (record: SQSRecord) => {
    try {
      return await processDeadLetter(record, deps, context.awsRequestId);
    } catch (error) {
      deps.logger.error('dead letter not settled; it comes back', { messageId: record.messageId, error: error as Error });
      // Powertools batch 2.35 must be given an Error (aws-powertools/powertools-lambda-typescript#5624).
      throw error instanceof Error ? error : new CleanupError('NOT_AN_ERROR', `a dead letter's processing threw ${String(error)}`, { cause: error });
    }
  }, processor, { context: context as Context, processInParallel: false, throwOnFullBatchFailure: false });
}

/**
 * Settles one dead letter; see {@link processDeadLetters}.
 *
 * @param owner - Who claims the job while settling it: the Lambda request id.
 */
export async function processDeadLetter(record: SQSRecord, deps: CleanupDeps, owner: string): Promise<DeadLetterResult> {
  const { messageId } = record;
  const receives = record.attributes?.ApproximateReceiveCount ?? '?';
  const trigger: TriggerInfo = { type: 'queue', source: messageId };
  const why: AbandonCause = { cause: 'dead_lettered', code: 'DEAD_LETTERED', reason: `its message ${messageId} reached the dead-letter queue after ${receives} receives without success (see the logs for that messageId)` };
  let work: QueueWork;
  try {
    work = readQueueMessage(record);
  } catch (error) {
    if (!(error instanceof QueueMessageError)) throw error;
    count(deps, 'unreadable');
    const { jobId } = deriveJobIdentity({ messageId: messageId || 'unknown', content: null });
    return { kind: 'unreadable', report: await reportRefusal(deps, jobId, trigger, { code: 'DEAD_LETTERED', message: `Dead-lettered: ${error.message}`, issues: error.issues }) };
  }
  count(deps, work.kind);
  deps.logger.warn('dead letter received', { messageId, kind: work.kind, receives });
  switch (work.kind) {
    case 'ignore':
      return { kind: 'ignored', reason: work.reason };
    case 'job': {
      const identity = deriveJobIdentity({ idempotencyKey: (work.job as { jobId?: string }).jobId, messageId, content: null });
      // A job under another job's id is refused in the message's own folder, as the work queue refuses it.
      const own = deriveJobIdentity({ messageId: messageId || 'unknown', content: null }).jobId;
      return { kind: 'job', jobId: identity.jobId, outcome: await giveUpJob({ input: work.job, trigger, access: {}, identity }, why, deps, owner, own) };
    }
    case 'continuation': {
      const location = reportLocation(deps.config.REPORT_BUCKET, deps.config.REPORT_PREFIX, work.jobId);
      const checkpoint = await readCheckpoint(deps.s3, location.bucket, location.checkpointKey);
      const identity = checkpoint === undefined ? { jobId: work.jobId, source: 'message_id' as const } : { jobId: checkpoint.jobId, source: checkpoint.jobIdSource };
      // Its entries are read again only at the version its record pins, wherever that manifest is.
      return { kind: 'job', jobId: work.jobId, outcome: await giveUpJob({ input: checkpoint?.job ?? {}, trigger: checkpoint?.trigger ?? trigger, access: { allowPending: true }, identity }, why, deps, owner) };
    }
    case 'part':
      return { kind: 'part', jobId: work.jobId, part: work.part, outcome: await giveUpPart(work.jobId, work.part, why, trigger, deps, owner) };
    case 'pending_continuation':
      return { kind: 'pending', manifests: [await giveUpPending(deps.config.MANIFEST_BUCKET ?? '', work.key, work.version, why, trigger, deps, owner)] };
    case 'manifests': {
      const manifests = [];
      for (const object of work.objects) manifests.push(await giveUpPending(object.bucket, object.key, undefined, why, trigger, deps, owner));
      return { kind: 'pending', manifests };
    }
  }
}

// A pending manifest whose message was given up: its job gets its report, and the version moves
// to failed/ (done/ when its job had ended), under the manifest's claim.
async function giveUpPending(bucket: string, key: string, pinned: ManifestVersion | undefined, why: AbandonCause, trigger: TriggerInfo, deps: CleanupDeps, owner: string): Promise<Extract<DeadLetterResult, { kind: 'pending' }>['manifests'][number]> {
  const { config, s3, clock } = deps;
  const refusal = refusedPendingKey(bucket, key, config);
  if (refusal !== undefined) {
    const { jobId } = pendingJobIdentity(bucket, key);
    return { manifestKey: key, jobId, outcome: { kind: 'reported', report: await reportRefusal(deps, jobId, { ...trigger, manifest: s3Uri(bucket, key) }, refusal) } };
  }
  const layout = manifestLayout(config);
  const relative = key.slice(layout.pending.length);
  const claim = await claimLease({ s3, bucket, clock }, key, `${layout.claims}${relative}.claim`, { owner, expiresAt: clock.now() + 16 * 60_000 });
  if (claim === undefined) throw new CleanupError('MANIFEST_CLAIMED', `Pending manifest ${key} is claimed by a run: its dead letter comes back once it is free`);
  try {
    const version = pinned ?? (await currentManifestVersion(s3, s3Uri(bucket, key)));
    if (pinned === undefined) await giveUpEarlierVersion(bucket, key, version, why, trigger, deps, owner);
    if (version === undefined) return { manifestKey: key, outcome: { kind: 'not_pending' } };
    const identity = pendingJobIdentity(bucket, key, version);
    const outcome = await giveUpJob({ input: { manifest: s3Uri(bucket, key) }, trigger: { ...trigger, manifest: s3Uri(bucket, key) }, access: { allowPending: true }, identity, manifestVersion: version }, why, deps, owner);
    // A split job's summary comes when its last part ends: the file moves now, pointing at it.
    const summaryUri = s3Uri(config.REPORT_BUCKET, reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, identity.jobId).summaryKey);
    const report = outcome.kind === 'reported' ? outcome.report : outcome.kind === 'split' ? summaryUri : outcome.summary.report.summary;
    const folder = outcome.kind === 'complete' || outcome.kind === 'split' ? layout.done : layout.failed;
    const moved = await movePendingManifest(s3, bucket, key, version, `${folder}${identity.jobId}/${relative}`, report);
    return { manifestKey: key, jobId: identity.jobId, outcome, ...(moved.moved ? { movedTo: moved.to } : {}) };
  } finally {
    await claim.release();
  }
}

// A notification given up was what would have taken up the key's current version, and so ended the
// job of the version the key was last taken up for if that one never ended (its file replaced
// before anything resumed it; lib/triggers/processPendingManifest.ts): that job is given up too.
async function giveUpEarlierVersion(bucket: string, key: string, current: ManifestVersion | undefined, why: AbandonCause, trigger: TriggerInfo, deps: CleanupDeps, owner: string): Promise<void> {
  const pointer = await readUnfinishedKeyJob(deps.s3, deps.config, bucket, key);
  if (pointer === undefined || (current !== undefined && pointer.jobId === pendingJobIdentity(bucket, key, current).jobId)) return;
  const outcome = await giveUpJob({ input: { manifest: s3Uri(bucket, key) }, trigger: { ...trigger, manifest: s3Uri(bucket, key) }, access: { allowPending: true }, identity: { jobId: pointer.jobId, source: 'content_hash' }, manifestVersion: pointer.version }, why, deps, owner);
  if (outcome.kind !== 'complete') deps.logger.warn('the job of an earlier version of a pending manifest, never ended, is given up with it', { manifestKey: key, jobId: pointer.jobId, outcome: outcome.kind });
}

function count(deps: CleanupDeps, kind: string): void {
  if (deps.metrics === undefined) return;
  deps.metrics.addDimension('kind', kind);
  deps.metrics.addMetric('DeadLetters', MetricUnit.Count, 1);
  deps.metrics.publishStoredMetrics();
}
