import { listKeys } from '../aws/listKeys.js';
import { invocationBudget } from '../job/invocationBudget.js';
import type { Context } from 'aws-lambda';
import { JobValidationError } from '../core/errors.js';
import { manifestLayout } from '../manifest/manifestLocation.js';
import { processPendingManifest, type PendingManifestOutcome } from './processPendingManifest.js';
import type { CleanupDeps } from '../job/types.js';
import { rejection, type Rejection } from './rejection.js';
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
  | Rejection;

/**
 * A scheduled run: scans the pending prefix of the manifest bucket (paged ListObjectsV2, read
 * lazily), and for each manifest claims it, runs it and moves it to `done/` or `failed/` (see
 * `processPendingManifest`: the same job as its notification's, so a run cut before is resumed),
 * one at a time. It stops claiming once the time left falls under
 * `DEADLINE_MARGIN_MS`; what is left waits for the next run. The report of each job records
 * `trigger: { type: "schedule", source: <schedule time>, manifest }`.
 */
export async function runScheduledScan(event: unknown, deps: CleanupDeps, context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<ScheduledRunResult> {
  const { config, clock, logger } = deps;
  const budget = invocationBudget(clock.now(), context.getRemainingTimeInMillis(), config);
  let request;
  try {
    if (config.MANIFEST_BUCKET === undefined) throw new JobValidationError([{ path: 'MANIFEST_BUCKET', message: 'the schedule needs a manifest bucket: MANIFEST_BUCKET is not set' }]);
    request = parseScheduleEvent(event, clock.now());
  } catch (error) {
    if (!(error instanceof JobValidationError)) throw error;
    logger.error('schedule event refused', { issues: error.issues });
    return rejection(error);
  }
  const prefix = `${manifestLayout(config).root}${request.prefix}`;
  logger.info('scheduled run started', { scheduledAt: request.scheduledAt, prefix });

  const manifests: PendingManifestOutcome[] = [];
  const errors: Array<{ manifestKey: string; error: string }> = [];
  let started = 0;
  let stoppedEarly = false;
  for await (const key of listKeys(deps.s3, config.MANIFEST_BUCKET, prefix)) {
    if (clock.now() >= budget.stopRetryingAt || (request.maxManifests !== undefined && started >= request.maxManifests)) {
      stoppedEarly = true;
      break;
    }
    started += 1;
    try {
      manifests.push(
        await processPendingManifest({ bucket: config.MANIFEST_BUCKET, key }, { type: 'schedule', source: request.scheduledAt }, deps, budget, context.awsRequestId),
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
