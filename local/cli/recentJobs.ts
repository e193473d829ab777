import { paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { jobSummarySchema } from '../../lib/report/jobSummary.js';
import { readJobSummary } from '../../lib/report/readJobSummary.js';
import { reportLocation } from '../../lib/report/ReportLocation.js';
import { jobProgressSchema } from '../../lib/scaleout/jobProgressSchema.js';
import type { OperatorEnvironment } from './operatorEnvironment.js';

interface Folder {
  jobId: string;
  /** The newest write in the folder: when the job last did something. */
  lastModified: Date;
  files: Set<string>;
}

/**
 * `image-cleanup list`: the jobs of the report prefix, most recently active first, each with its
 * status — the summary's, `rejected`, or `running` (with how far a split job's progress.json says).
 * Lists the prefix once (the folders' newest writes order them), then reads the files of the
 * `limit` shown only.
 */
export async function recentJobs(where: OperatorEnvironment, limit: number): Promise<string> {
  const bucket = where.env.REPORT_BUCKET as string;
  const prefix = where.env.REPORT_PREFIX ?? 'reports/';
  const folders = new Map<string, Folder>();
  for await (const page of paginateListObjectsV2({ client: where.s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) {
      const rest = object.Key?.slice(prefix.length) ?? '';
      const slash = rest.indexOf('/');
      if (slash <= 0) continue;
      const jobId = rest.slice(0, slash);
      const folder = folders.get(jobId) ?? { jobId, lastModified: new Date(0), files: new Set<string>() };
      if (object.LastModified !== undefined && object.LastModified > folder.lastModified) folder.lastModified = object.LastModified;
      folder.files.add(rest.slice(slash + 1));
      folders.set(jobId, folder);
    }
  }
  if (folders.size === 0) return `no jobs under s3://${bucket}/${prefix}`;
  const shown = [...folders.values()].sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime()).slice(0, limit);
  const rows = await Promise.all(shown.map(async (folder) => [folder.lastModified.toISOString().replace(/\.\d+Z$/, 'Z'), folder.jobId, await statusOf(where, bucket, prefix, folder)] as const));
  const width = Math.max(...rows.map(([, jobId]) => jobId.length), 'JOB'.length);
  const lines = [`${'LAST ACTIVE'.padEnd(20)}  ${'JOB'.padEnd(width)}  STATUS`, ...rows.map(([when, jobId, status]) => `${when.padEnd(20)}  ${jobId.padEnd(width)}  ${status}`)];
  if (folders.size > limit) lines.push(`(${folders.size - limit} older jobs not shown: --limit N)`);
  return lines.join('\n');
}

async function statusOf(where: OperatorEnvironment, bucket: string, prefix: string, folder: Folder): Promise<string> {
  const location = reportLocation(bucket, prefix, folder.jobId);
  if (folder.files.has('summary.json')) {
    const summary = await readJobSummary(where.s3, location);
    if (summary !== undefined) return `${summary.status}: ${summary.counts.received.toLocaleString('en')} entries, ${summary.counts.deleted.toLocaleString('en')} deleted, ${summary.counts.failed.toLocaleString('en')} failed`;
    // Another format version's summary (readJobSummary's rule): say so rather than guess.
    const stored = await readS3Json(where.s3, bucket, location.summaryKey, jobSummarySchema.pick({ status: true }).loose()).catch(() => undefined);
    return stored === undefined ? 'summary of another format' : stored.status;
  }
  if (folder.files.has('rejected.json')) return 'rejected (nothing deleted)';
  if (folder.files.has('progress.json')) {
    const progress = await readS3Json(where.s3, bucket, `${location.prefix}progress.json`, jobProgressSchema).catch(() => undefined);
    if (progress !== undefined) return `running: ${progress.settled.toLocaleString('en')} of ${progress.entries.toLocaleString('en')} settled`;
  }
  return 'running';
}
