import { s3Uri } from '../aws/s3Uri.js';
import { writeS3Json } from '../aws/writeS3Json.js';
import { cancelledStop } from '../job/cancelRequest.js';
import type { CleanupDeps, CleanupResult, PreparedJob } from '../job/types.js';
import { DELETE_OUTCOMES } from '../pipeline/outcome.js';
import { concatenateReports } from '../report/assembleReport.js';
import { buildJobSummary } from '../report/buildJobSummary.js';
import { jobProgressSchema, type JobProgress } from '../report/jobProgressSchema.js';
import { ReportStreams } from '../report/ReportStreams.js';
import { writeJobSummary } from '../report/writeJobSummary.js';
import { deleteKeys } from './deleteKeys.js';
import { deletePlanFiles } from './deletePlanFiles.js';
import type { PlanningCancelled } from './planManifest.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';

/**
 * Ends a split job whose planning a cancel request stopped: no part was queued, so nothing was
 * deleted. The invalid entries the written windows settled keep their lines (the job's
 * `failed.csv` and `results.jsonl.gz` are their window files, in order); every other entry is
 * counted `skipped` (`CANCELLED`) with no line — valid IDs were never listed — and the stop says
 * so (`notReached`). Then `summary.json`, `progress.json` (`done`), and the plan's files are deleted.
 */
export async function endCancelledPlanning(run: PreparedJob, deps: CleanupDeps, layout: ScaleOutLayout, cancelled: PlanningCancelled): Promise<CleanupResult> {
  const { s3, clock, logger } = deps;
  const { job } = layout;
  const windows = cancelled.screenedWindows.map((w) => layout.screenedWindow(w));
  if (windows.length > 0) await concatenateReports(s3, job, windows);
  else await new ReportStreams(s3, { bucket: job.bucket, failedKey: job.failedKey, resultsKey: job.resultsKey }, run.source.target).close();
  const { facts } = cancelled;
  const settled = DELETE_OUTCOMES.reduce((sum, outcome) => sum + facts.counts[outcome], 0);
  const notReached = Math.max(0, facts.received - settled);
  const counts = { ...facts.counts, skipped: facts.counts.skipped + notReached };
  const summary = buildJobSummary({ ...facts, counts, finishedAt: clock.now(), stop: cancelledStop(cancelled.request, counts.skipped, { notReached }) });
  await writeJobSummary(s3, job, summary, logger);
  const progress: JobProgress = {
    formatVersion: 1,
    jobId: summary.jobId,
    state: 'done',
    status: summary.status,
    ...(summary.stopReason === undefined ? {} : { stopReason: summary.stopReason }),
    entries: facts.received,
    settled: summary.settled,
    counts,
    parts: { total: 0, done: 0, running: 0, waiting: 0 },
    idsPerSecond: 0,
    etaSeconds: 0,
    startedAt: summary.startedAt,
    updatedAt: summary.finishedAt,
    summary: s3Uri(job.bucket, job.summaryKey),
  };
  await writeS3Json(s3, job.bucket, layout.progressKey, jobProgressSchema.parse(progress));
  // The segments repeat the manifest's IDs, and the checkpoint would resume a plan no one will run.
  await Promise.all([deletePlanFiles(s3, layout), deleteKeys(s3, job.bucket, [layout.planCheckpointKey, ...windows.flatMap((w) => [w.failedKey, w.resultsKey])])]).catch((error: unknown) => {
    logger.warn('plan files of a cancelled job not deleted', { jobId: summary.jobId, error: error as Error });
  });
  logger.info('job finished', { status: summary.status, counts: summary.counts, report: summary.report });
  return { summary };
}
