// `npm run job -- status <job-id> [--watch]`: prints a job's progress with a progress bar — a
// split job's progress.json (docs/scale-out.md), or the summary of a job that ran unsplit.
// Reads REPORT_BUCKET and REPORT_PREFIX from the environment; S3 is AWS, or the local stack when
// AWS_ENDPOINT_URL_S3 and S3_FORCE_PATH_STYLE point at it (`set -a; . ./.stack.env; set +a`).
// With --watch, prints again every 5 s until the job is done (at most one hour).
import { S3Client } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { jobProgressSchema } from '../../lib/scaleout/jobProgressSchema.js';
import { jobSummarySchema } from '../../lib/report/jobSummary.js';
import { reportLocation } from '../../lib/report/ReportLocation.js';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { scaleOutLayout } from '../../lib/scaleout/scaleOutLayout.js';
import { jobIdSchema } from '../../lib/job/jobIdentity.js';
import { formatJobProgress } from './formatJobProgress.js';

const usage = 'usage: npm run job -- status <job-id> [--watch]   (env: REPORT_BUCKET, REPORT_PREFIX; AWS_ENDPOINT_URL_S3 for the local stack)';
const { values, positionals } = parseArgs({ allowPositionals: true, options: { watch: { type: 'boolean', default: false } } });
const [command, jobId] = positionals;
if (command !== 'status' || jobId === undefined || !jobIdSchema.safeParse(jobId).success) {
  console.error(usage);
  process.exit(2);
}
const bucket = process.env.REPORT_BUCKET;
if (bucket === undefined || bucket === '') {
  console.error(`REPORT_BUCKET is not set. ${usage}`);
  process.exit(2);
}
const layout = scaleOutLayout(reportLocation(bucket, process.env.REPORT_PREFIX || 'reports/', jobId));
const s3 = new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' || process.env.S3_FORCE_PATH_STYLE === '1' });

const WATCH_EVERY_MS = 5_000;
const WATCH_AT_MOST_MS = 60 * 60_000;
const until = Date.now() + WATCH_AT_MOST_MS;
let exitCode = 0;
for (;;) {
  const progress = await readS3Json(s3, bucket, layout.progressKey, jobProgressSchema);
  if (progress !== undefined) {
    console.log(formatJobProgress(progress));
    if (!values.watch || progress.state === 'done' || Date.now() > until) break;
    console.log('');
    await sleep(WATCH_EVERY_MS);
    continue;
  }
  // Not split: the summary (complete, or an invocation's pause) is all there is.
  const summary = await readS3Json(s3, bucket, layout.job.summaryKey, jobSummarySchema);
  if (summary === undefined) {
    console.error(`no progress.json and no summary.json for job ${jobId} under s3://${bucket}/${layout.job.prefix}: not started, running unsplit (see its logs), or another job id`);
    exitCode = 1;
  } else {
    console.log(`job ${jobId}: ${summary.status} (not split)\ncounts: ${JSON.stringify(summary.counts)}\nreport: ${summary.report.summary}`);
  }
  break;
}
s3.destroy();
process.exit(exitCode);
