import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { JobValidationError, type ValidationIssue } from '../core/errors.js';
import { manifestLayout } from '../manifest/manifestLocation.js';
import { processPendingManifest, type PendingManifestOutcome } from './processPendingManifest.js';
import type { CleanupDeps } from '../job/runCleanupJob.js';
import { parseScheduleEvent } from './scheduleEvent.js';

/** What a scheduled run did. */
export type ScheduledRunResult =
  | {
      status: 'completed';
      scheduledAt: string;
      prefix: string;
      /** One entry per manifest this run looked at, in listing order. */
      manifests: PendingManifestOutcome[];
      /** Manifests left pending because an error other than a refusal stopped them; the next run retries. */
      errors: Array<{ manifestKey: string; error: string }>;
      /** True when the run stopped claiming before the end of the listing (deadline or maxManifests): the rest waits. */
      stoppedEarly: boolean;
    }
  | { status: 'rejected'; error: { code: string; message: string; issues: readonly ValidationIssue[] } };

// How long after this invocation's deadline its claims stay valid: by then Lambda has certainly
// stopped it, so another run may take over a claim it could not release.
const CLAIM_GRACE_MS = 60_000;

/**
 * A scheduled run: scans the pending prefix of the manifest bucket (paged ListObjectsV2, read
 * lazily), and for each manifest claims it, runs it and moves it to `done/` or `failed/` (see
 * `processPendingManifest`), one at a time. It stops claiming once the time left falls under
 * `DEADLINE_MARGIN_MS`; what is left waits for the next run. The report of each job records
 * `trigger: { type: "schedule", source: <schedule time>, manifest }`.
 */
export async function runScheduledScan(event: unknown, deps: CleanupDeps, context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<ScheduledRunResult> {
  const { config, clock, logger } = deps;
  const deadline = clock.now() + context.getRemainingTimeInMillis();
  const stopAt = deadline - config.DEADLINE_MARGIN_MS;
  let request;
  try {
    if (config.MANIFEST_BUCKET === undefined) throw new JobValidationError([{ path: 'MANIFEST_BUCKET', message: 'the schedule needs a manifest bucket: MANIFEST_BUCKET is not set' }]);
    request = parseScheduleEvent(event, clock.now());
  } catch (error) {
    if (!(error instanceof JobValidationError)) throw error;
    logger.error('schedule event refused', { issues: error.issues });
    return { status: 'rejected', error: { code: error.code, message: error.message, issues: error.issues } };
  }
  const prefix = `${manifestLayout(config).root}${request.prefix}`;
  logger.info('scheduled run started', { scheduledAt: request.scheduledAt, prefix });

  const manifests: PendingManifestOutcome[] = [];
  const errors: Array<{ manifestKey: string; error: string }> = [];
  let started = 0;
  let stoppedEarly = false;
  for await (const key of listKeys(deps.s3, config.MANIFEST_BUCKET, prefix)) {
    if (clock.now() >= stopAt || (request.maxManifests !== undefined && started >= request.maxManifests)) {
      stoppedEarly = true;
      break;
    }
    started += 1;
    try {
      manifests.push(
        await processPendingManifest(key, { type: 'schedule', source: request.scheduledAt }, deps, {
          owner: context.awsRequestId,
          claimExpiresAt: deadline + CLAIM_GRACE_MS,
          stopRetryingAt: stopAt,
          stopStartingAt: stopAt - config.REQUEST_TIMEOUT_MS,
          deadline,
        }),
      );
    } catch (error) {
      // Left pending and unclaimed: the next run tries again. The others still run.
      logger.error('manifest left pending after an error', { manifestKey: key, error: error as Error });
      errors.push({ manifestKey: key, error: error instanceof Error ? error.message : String(error) });
    }
  }
  logger.info('scheduled run finished', { scheduledAt: request.scheduledAt, processed: manifests.length, errors: errors.length, stoppedEarly });
  return { status: 'completed', scheduledAt: request.scheduledAt, prefix, manifests, errors, stoppedEarly };
}

// Keys under a prefix, page by page, only as they are needed; "folder" placeholders skipped.
async function* listKeys(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<string> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token === undefined ? {} : { ContinuationToken: token }) }));
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined && !object.Key.endsWith('/')) yield object.Key;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}
