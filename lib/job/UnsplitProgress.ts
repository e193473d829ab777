import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import { s3Uri } from '../aws/s3Uri.js';
import { writeS3Json } from '../aws/writeS3Json.js';
import type { Clock } from '../core/clock.js';
import type { LimiterSnapshot } from '../modelarts/adaptiveLimiter.js';
import { DELETE_OUTCOMES, type OutcomeCounts } from '../pipeline/outcome.js';
import { jobProgressSchema, type JobProgress } from '../report/jobProgressSchema.js';
import type { JobSummary } from '../report/jobSummary.js';
import type { ReportLocation } from '../report/ReportLocation.js';

// How often a long job logs its progress, and how often it writes progress.json.
const LOG_INTERVAL_MS = 5_000;
const WRITE_INTERVAL_MS = 10_000;

// A split job's part runs in `{job}/parts/part-0001/` (lib/scaleout/scaleOutLayout.ts, a layer
// above): its progress is the part's own file there, and the job's progress.json is the workers'.
const PART_FOLDER = /\/parts\/part-\d+\/$/;

/** What a job's progress is read from at each moment: its running counts and its limiter. */
export interface ProgressSource {
  counts: () => Readonly<OutcomeCounts>;
  limiter: () => LimiterSnapshot;
  /** Further figures for the log line only (requests, retries…). */
  extra?: () => object;
}

/** The job the progress is of. */
export interface ProgressJob {
  jobId: string;
  location: ReportLocation;
  entries: number;
  /** Epoch ms the job was first taken up (its checkpoint's `startedAt`): rates are over the job's life. */
  startedAt: number;
}

/**
 * The progress of a job that runs unsplit: the structured `job progress` log line (every ~5 s) and
 * `progress.json` in its report folder (every ~10 s while it runs, at a pause, and `done` at its
 * end), with the same figures as a split job's (lib/scaleout/writeJobProgress.ts: no parts). The
 * writes are driven by the run (no timer outlives it); a failed write is logged, never fails the
 * job. A part of a split job writes nothing: its folder is under the job's `parts/`.
 */
export class UnsplitProgress {
  private lastLogAt: number;
  private lastWriteAt: number;
  private readonly writes: boolean;

  public constructor(
    private readonly deps: { s3: S3Client; clock: Pick<Clock, 'now'>; logger: Logger },
    private readonly job: ProgressJob,
    private readonly source: ProgressSource,
  ) {
    this.lastLogAt = deps.clock.now();
    this.lastWriteAt = deps.clock.now();
    this.writes = !PART_FOLDER.test(job.location.prefix);
  }

  /** The figures now, as `progress.json` holds them; `final`: the job's summary, once it ended. */
  public figures(final?: JobSummary): JobProgress {
    const now = this.deps.clock.now();
    const counts = { ...this.source.counts() };
    const settled = DELETE_OUTCOMES.reduce((sum, outcome) => sum + counts[outcome], 0);
    const seconds = (now - this.job.startedAt) / 1_000;
    const rate = seconds > 0 ? settled / seconds : 0;
    const left = Math.max(0, this.job.entries - settled);
    return {
      formatVersion: 1,
      jobId: this.job.jobId,
      state: final === undefined ? 'running' : 'done',
      ...(final === undefined ? {} : { status: final.status, ...(final.stopReason === undefined ? {} : { stopReason: final.stopReason }) }),
      entries: this.job.entries,
      settled,
      counts,
      parts: { total: 0, done: 0, running: 0, waiting: 0 },
      idsPerSecond: Math.round(rate * 10) / 10,
      etaSeconds: left === 0 ? 0 : rate > 0 ? Math.round(left / rate) : null,
      startedAt: new Date(this.job.startedAt).toISOString(),
      updatedAt: new Date(now).toISOString(),
      summary: s3Uri(this.job.location.bucket, this.job.location.summaryKey),
      limiter: this.source.limiter(),
    };
  }

  /** Logs `job progress` when ~5 s passed since the last line. */
  public log(): void {
    const now = this.deps.clock.now();
    if (now - this.lastLogAt < LOG_INTERVAL_MS) return;
    this.lastLogAt = now;
    const { settled, entries, counts, idsPerSecond, etaSeconds, limiter } = this.figures();
    this.deps.logger.info('job progress', { settled, entries, counts, idsPerSecond, etaSeconds, ...this.source.extra?.(), limiter });
  }

  /** After a settled chunk: logs when due, and writes `progress.json` when ~10 s passed since the last write. */
  public async tick(): Promise<void> {
    this.log();
    if (this.deps.clock.now() - this.lastWriteAt < WRITE_INTERVAL_MS) return;
    await this.write();
  }

  /**
   * Writes `progress.json` now: `running` (while the job runs, or paused at the deadline), or
   * `done` with the summary's status and stop reason once `summary.json` is written.
   */
  public async write(final?: JobSummary): Promise<void> {
    if (!this.writes) return;
    this.lastWriteAt = this.deps.clock.now();
    const progress = this.figures(final);
    try {
      jobProgressSchema.parse(progress);
      await writeS3Json(this.deps.s3, this.job.location.bucket, `${this.job.location.prefix}progress.json`, progress);
    } catch (error) {
      this.deps.logger.warn('job progress not written', { jobId: this.job.jobId, state: progress.state, error: error as Error });
    }
  }
}
