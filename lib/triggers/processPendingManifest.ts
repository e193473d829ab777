import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { JobValidationError } from '../core/errors.js';
import { SUMMARY_FORMAT_VERSION, type TriggerInfo } from '../report/jobSummary.js';
import { claimLease } from '../aws/claimLease.js';
import { manifestLayout } from '../manifest/manifestLocation.js';
import { newJobId } from '../job/newJobId.js';
import { runCleanupJob } from '../job/runCleanupJob.js';
import type { CleanupDeps, InvocationBudget } from '../job/types.js';
import { writeRejectionReport } from '../report/writeRejectionReport.js';
import { isS3NotFound } from '../aws/isS3NotFound.js';

/** What became of one pending manifest. */
export type PendingManifestOutcome =
  /** The job ran (its report gives each ID's outcome); the manifest is now under `done/`. */
  | { status: 'done'; manifestKey: string; movedTo: string; jobId: string; report: string }
  /** The job was refused as a whole (nothing deleted); the manifest is now under `failed/`, with `rejected.json`. */
  | { status: 'failed'; manifestKey: string; movedTo: string; jobId: string; report: string; error: string }
  /** Cut by the deadline: the manifest stays pending (its claim released), and the next run resumes its job from the checkpoint. */
  | { status: 'continuing'; manifestKey: string; jobId: string; resumeAfter: number }
  /** Not ours to run: another run holds its claim, or it is no longer pending (already processed). */
  | { status: 'skipped'; manifestKey: string; reason: 'claimed_elsewhere' | 'not_pending' };

/**
 * Processes one manifest dropped under `pending/` of the manifest bucket, for the schedule and for
 * S3 notifications alike: claims it (so overlapping runs and duplicate notifications never run it
 * twice), runs its job, then moves it (copy, then delete) to `done/{jobId}/…` — or to
 * `failed/{jobId}/…` with a `rejected.json` report when the job is refused as a whole — and
 * releases the claim. The job id names both the report folder and the moved manifest's folder.
 *
 * An error other than a refusal (S3 or the report unavailable) releases the claim, leaves the
 * manifest pending for the next run, and propagates.
 *
 * @param manifestKey - The key under `pending/`, already checked to be there.
 * @param owner - Who claims: the Lambda request id.
 */
export async function processPendingManifest(manifestKey: string, trigger: TriggerInfo, deps: CleanupDeps, budget: InvocationBudget, owner: string): Promise<PendingManifestOutcome> {
  const { config, s3, clock, logger } = deps;
  const bucket = config.MANIFEST_BUCKET as string;
  const layout = manifestLayout(config);
  const relative = manifestKey.slice(layout.pending.length);

  const claim = await claimLease({ s3, bucket, clock }, manifestKey, `${layout.claims}${relative}.claim`, { owner, expiresAt: budget.claimExpiresAt });
  if (claim === undefined) {
    logger.info('manifest claimed by another run; skipped', { manifestKey });
    return { status: 'skipped', manifestKey, reason: 'claimed_elsewhere' };
  }
  if (claim.tookOver) logger.warn('took over an expired claim', { manifestKey, claimKey: claim.claimKey });
  try {
    // Listed (or notified) before we claimed: another run may have finished it since.
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: manifestKey }));
    } catch (error) {
      if (isS3NotFound(error)) {
        return { status: 'skipped', manifestKey, reason: 'not_pending' };
      }
      throw error;
    }

    // No explicit id: the job's id is a hash of the manifest's location and version, so a run
    // cut by the deadline is resumed, not restarted, by the next run that claims the manifest.
    const job = { manifest: `s3://${bucket}/${manifestKey}` };
    try {
      const { summary } = await runCleanupJob(job, trigger, deps, budget, { access: { allowPending: true }, continuation: false });
      if (summary.status === 'continuing') {
        logger.info('pending manifest paused at the deadline; the next run resumes it', { manifestKey, jobId: summary.jobId });
        return { status: 'continuing', manifestKey, jobId: summary.jobId, resumeAfter: summary.continuation?.resumeAfter ?? 0 };
      }
      const movedTo = await move(`${layout.done}${summary.jobId}/${relative}`, summary.report.summary);
      return { status: 'done', manifestKey, movedTo, jobId: summary.jobId, report: summary.report.summary };
    } catch (error) {
      if (!(error instanceof JobValidationError)) throw error;
      const jobId = newJobId(clock.now(), clock.random);
      logger.warn('pending manifest refused', { manifestKey, jobId, issues: error.issues });
      const report = await writeRejectionReport(s3, config.REPORT_BUCKET, config.REPORT_PREFIX, {
        formatVersion: SUMMARY_FORMAT_VERSION,
        jobId,
        trigger: { ...trigger, manifest: job.manifest },
        status: 'rejected',
        error: { code: error.code, message: error.message, issues: error.issues },
        rejectedAt: new Date(clock.now()).toISOString(),
      });
      const movedTo = await move(`${layout.failed}${jobId}/${relative}`, report);
      return { status: 'failed', manifestKey, movedTo, jobId, report, error: error.message };
    }
  } finally {
    // Only after the manifest left pending/: a run that claims it next finds it gone.
    await claim.release();
  }

  // Copy, then delete: the manifest is never lost, at worst briefly in both places.
  async function move(destination: string, report: string): Promise<string> {
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: destination,
        CopySource: `${bucket}/${manifestKey.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'REPLACE',
        Metadata: { report },
      }),
    );
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey }));
    return `s3://${bucket}/${destination}`;
  }
}
