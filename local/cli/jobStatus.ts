import { z } from 'zod';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { CleanupError } from '../../lib/core/errors.js';
import { readCheckpoint } from '../../lib/job/jobCheckpoint.js';
import { readJobRecord } from '../../lib/job/jobRecord.js';
import { DELETE_OUTCOMES } from '../../lib/pipeline/outcome.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import { readJobSummary } from '../../lib/report/readJobSummary.js';
import { reportLocation } from '../../lib/report/ReportLocation.js';
import { jobProgressSchema, type JobProgress } from '../../lib/report/jobProgressSchema.js';
import { scaleOutLayout } from '../../lib/scaleout/scaleOutLayout.js';
import { OPERATOR_STOP } from './exitCodes.js';
import { formatJobProgress } from './formatJobProgress.js';
import type { OperatorEnvironment } from './operatorEnvironment.js';

/** A job's state as `status` prints it: the lines, and whether the job has ended (`--watch` stops). */
export interface JobStatus {
  text: string;
  done: boolean;
}

const rejectionSchema = z.object({ status: z.literal('rejected'), error: z.object({ code: z.string(), message: z.string() }), rejectedAt: z.string() });

/**
 * Reads what a job's report folder says of it now, most telling first: the final `summary.json`
 * (drawn as the same bar, full), `progress.json` (every job, split or not, while it runs),
 * `rejected.json`, or — a job taken up less than ~10 s ago, or by a version that wrote no
 * progress — its record and last checkpoint. The limiter's state is the summary's once the job
 * ended (the last invocation's), an unsplit job's `progress.json` one while it runs; a split
 * job's limiters are its parts' own.
 *
 * @throws {CleanupError} `CLI_NOT_FOUND` when the folder holds none of them.
 */
export async function jobStatus(jobId: string, where: OperatorEnvironment): Promise<JobStatus> {
  const { s3 } = where;
  const location = reportLocation(where.env.REPORT_BUCKET as string, where.env.REPORT_PREFIX ?? 'reports/', jobId);
  const layout = scaleOutLayout(location);
  const [progress, summary] = await Promise.all([readS3Json(s3, location.bucket, layout.progressKey, jobProgressSchema), readJobSummary(s3, location)]);
  if (summary !== undefined) {
    // The summary is the truth: a progress.json read a moment before it may still say running.
    const lines = [formatJobProgress(progress?.state === 'done' ? progress : fromSummary(summary, progress)), ...limiterLines(summary)];
    return { text: lines.join('\n'), done: true };
  }
  if (progress !== undefined) {
    const limiter = progress.limiter === undefined ? '\nlimiter: one per part, recorded in the summary when the job ends' : '';
    return { text: `${formatJobProgress(progress)}${limiter}`, done: progress.state === 'done' };
  }
  const rejection = await readS3Json(s3, location.bucket, `${location.prefix}rejected.json`, rejectionSchema.passthrough());
  if (rejection !== undefined) {
    return { text: `job ${jobId}: rejected at ${rejection.rejectedAt}, nothing deleted\n  ${rejection.error.code}: ${rejection.error.message}`, done: true };
  }
  const record = await readJobRecord(s3, location);
  if (record === undefined) {
    throw new CleanupError(OPERATOR_STOP.notFound, `no job ${jobId} under s3://${location.bucket}/${location.prefix}: not started yet (a message waits on the queue until a worker takes it), or another id (image-cleanup list)`);
  }
  const checkpoint = await readCheckpoint(s3, location.bucket, location.checkpointKey);
  const counts = Object.fromEntries(DELETE_OUTCOMES.map((outcome) => [outcome, checkpoint?.counts[outcome] ?? 0])) as JobProgress['counts'];
  const settled = DELETE_OUTCOMES.reduce((sum, outcome) => sum + counts[outcome], 0);
  const bar = formatJobProgress({
    formatVersion: 1,
    jobId,
    state: 'running',
    entries: record.entries,
    settled,
    counts,
    parts: { total: 0, done: 0, running: 0, waiting: 0 },
    idsPerSecond: 0,
    etaSeconds: null,
    startedAt: record.createdAt,
    updatedAt: record.createdAt,
    summary: `s3://${location.bucket}/${location.summaryKey}`,
  });
  const note = checkpoint === undefined
    ? 'running unsplit since its first claim: no figures until its first progress.json (about 10 s in), checkpoint or summary'
    : `running unsplit: figures as of its last checkpoint (invocation ${checkpoint.invocations}, line ${checkpoint.resumeAfter.toLocaleString('en')}); rate unknown between checkpoints`;
  return { text: `${bar}\n${note}`, done: false };
}

// A job that ran unsplit has no progress.json: its summary, drawn as the same (full) bar.
function fromSummary(summary: JobSummary, progress: JobProgress | undefined): JobProgress {
  const { received, ...counts } = summary.counts;
  return {
    formatVersion: 1,
    jobId: summary.jobId,
    state: 'done',
    status: summary.status,
    ...(summary.stopReason === undefined ? {} : { stopReason: summary.stopReason }),
    entries: received,
    settled: summary.settled,
    counts,
    // Every part ended once the summary is there, whatever an older progress.json said.
    parts: { total: progress?.parts.total ?? summary.scaleOut?.parts ?? 0, done: progress?.parts.total ?? summary.scaleOut?.parts ?? 0, running: 0, waiting: 0 },
    idsPerSecond: summary.durationMs > 0 ? (summary.settled * 1_000) / summary.durationMs : 0,
    etaSeconds: 0,
    startedAt: summary.startedAt,
    updatedAt: summary.finishedAt,
    summary: summary.report.summary,
  };
}

function limiterLines(summary: JobSummary): string[] {
  const { limiter } = summary;
  if (limiter === undefined) return [`requests: ${summary.requests.toLocaleString('en')} (${summary.retries} retries, ${summary.throttled} throttled)`];
  return [
    `requests: ${summary.requests.toLocaleString('en')} (${summary.retries} retries, ${summary.throttled} throttled)`,
    `limiter (last invocation): ${limiter.final} in flight at the end (started at ${limiter.initial}, bounds ${limiter.min}–${limiter.max}, went from ${limiter.lowest} to ${limiter.highest}), ${limiter.decreases} decreases on ${limiter.throttled} throttled answers${limiter.finalRate === null ? '' : `, ${limiter.finalRate.toFixed(1)} requests/s at the end`}`,
  ];
}
