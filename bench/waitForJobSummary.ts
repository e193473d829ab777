import { setTimeout as sleep } from 'node:timers/promises';
import { jobProgressSchema } from '../lib/scaleout/jobProgressSchema.js';
import { jobSummarySchema, type JobSummary } from '../lib/report/jobSummary.js';
import { reportLocation } from '../lib/report/ReportLocation.js';
import { readS3Json } from '../lib/aws/readS3Json.js';
import { scaleOutLayout } from '../lib/scaleout/scaleOutLayout.js';
import { formatJobProgress } from '../local/cli/formatJobProgress.js';
import type { LocalStack } from '../local/stack/startLocalStack.js';

/** Options of {@link waitForJobSummary}. */
export interface WaitForJobSummaryOptions {
  /** When the job was sent (epoch ms). */
  startedAt: number;
  /** Gives up (throws) after this long since `startedAt`. */
  timeoutMs: number;
  /** Called at every poll (every 250 ms) before the summary is looked for; a throw ends the wait. */
  everyPoll?: () => Promise<void> | void;
}

/**
 * Waits for a split job's final `summary.json` in the local stack's report bucket, printing three
 * lines of its `progress.json` every 10 s (as `npm run job -- status` shows them).
 *
 * @throws when the job has no summary within `timeoutMs`, or when `everyPoll` throws.
 */
export async function waitForJobSummary(stack: LocalStack, jobId: string, options: WaitForJobSummaryOptions): Promise<JobSummary> {
  const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET as string, 'reports/', jobId));
  let lastPrinted = 0;
  while (Date.now() - options.startedAt < options.timeoutMs) {
    await options.everyPoll?.();
    const summary = await readS3Json(stack.s3, layout.job.bucket, layout.job.summaryKey, jobSummarySchema);
    if (summary !== undefined) return summary;
    if (Date.now() - lastPrinted >= 10_000) {
      lastPrinted = Date.now();
      const progress = await readS3Json(stack.s3, layout.job.bucket, layout.progressKey, jobProgressSchema);
      if (progress !== undefined) console.log(formatJobProgress(progress).split('\n').slice(1, 4).map((line) => `  ${line}`).join('\n'));
    }
    await sleep(250);
  }
  throw new Error(`job ${jobId} did not finish within ${options.timeoutMs / 60_000} min`);
}
