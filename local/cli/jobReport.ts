import { GetObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import { isS3NotFound } from '../../lib/aws/isS3NotFound.js';
import { parseS3Uri } from '../../lib/aws/s3Uri.js';
import { CleanupError } from '../../lib/core/errors.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import { readJobSummary } from '../../lib/report/readJobSummary.js';
import { reportLocation } from '../../lib/report/ReportLocation.js';
import { OPERATOR_STOP } from './exitCodes.js';
import type { OperatorEnvironment } from './operatorEnvironment.js';

const number = (n: number): string => n.toLocaleString('en');
const TOP_REASONS = 5;

/**
 * `image-cleanup report`: a job's summary in words, its most frequent failure reasons with their
 * counts (read from `failed.csv`, streamed: it may hold every entry), and where the report's files
 * are. Only a complete report has a summary: a running job has none yet (`status` says how far).
 *
 * @throws {CleanupError} `CLI_NOT_FOUND` when the job has no `summary.json`.
 */
export async function jobReport(jobId: string, where: OperatorEnvironment, top = TOP_REASONS): Promise<string> {
  const location = reportLocation(where.env.REPORT_BUCKET as string, where.env.REPORT_PREFIX ?? 'reports/', jobId);
  const summary = await readJobSummary(where.s3, location);
  if (summary === undefined) throw new CleanupError(OPERATOR_STOP.notFound, `job ${jobId} has no summary under s3://${location.bucket}/${location.prefix}: not ended yet (image-cleanup status ${jobId}), rejected (status says why) or another id`);
  const reasons = await failureReasons(where, summary.report.failed);
  const lines = [...inWords(summary), ''];
  if (reasons.total === 0) lines.push('failures: none (failed.csv has no rows)');
  else {
    lines.push(`failures: ${number(reasons.total)} rows in failed.csv; the most frequent reasons:`);
    for (const reason of [...reasons.byReason.values()].sort((a, b) => b.count - a.count).slice(0, top)) {
      lines.push(`  ${number(reason.count).padStart(8)}  ${reason.outcome} ${reason.code}: ${reason.example}`);
    }
    if (reasons.byReason.size > top) lines.push(`  (and ${reasons.byReason.size - top} more reasons)`);
  }
  lines.push('', 'files:', `  summary  ${summary.report.summary}`, `  failed   ${summary.report.failed}   (a CSV manifest: copy it to the manifest bucket and submit it to re-run exactly these)`, `  results  ${summary.report.results}`);
  return lines.join('\n');
}

function inWords(summary: JobSummary): string[] {
  const { counts } = summary;
  const target = summary.target.api === 'v1' ? `labelling job ${summary.target.projectId}/${summary.target.dataAnnotationId}` : `dataset ${summary.target.projectId}/${summary.target.datasetId}`;
  const outcomes = (['deleted', 'already_deleted', 'would_delete', 'failed', 'invalid', 'duplicate', 'skipped'] as const).filter((outcome) => counts[outcome] > 0).map((outcome) => `${number(counts[outcome])} ${outcome.replace('_', ' ')}`);
  const seconds = summary.durationMs / 1_000;
  return [
    `job ${summary.jobId}: ${summary.status}${summary.dryRun ? ' (a dry run: nothing was deleted)' : ''}`,
    `  ${number(counts.received)} entries for ${target}: ${outcomes.join(', ') || 'none'}`,
    ...(summary.stopReason === undefined ? [] : [`  stopped: ${summary.stopReason}`]),
    `  ${number(summary.requests)} requests (${number(summary.retries)} retries, ${number(summary.throttled)} throttled) in ${summary.invocations} invocation${summary.invocations === 1 ? '' : 's'}${summary.scaleOut === undefined ? '' : `, split into ${summary.scaleOut.parts} parts`}; ${seconds.toFixed(1)} s, ${number(Math.round(seconds > 0 ? summary.settled / seconds : 0))} entries/s`,
    `  chunk latency p50 ${Math.round(summary.chunkLatencyMs.p50)} ms, p99 ${Math.round(summary.chunkLatencyMs.p99)} ms; started ${summary.startedAt}, finished ${summary.finishedAt}`,
  ];
}

interface Reason {
  outcome: string;
  code: string;
  count: number;
  /** The first message seen with this code: messages may name the ID, so they are not grouped on. */
  example: string;
}

async function failureReasons(where: OperatorEnvironment, uri: string): Promise<{ total: number; byReason: Map<string, Reason> }> {
  const byReason = new Map<string, Reason>();
  let total = 0;
  const { bucket, key } = parseS3Uri(uri) ?? { bucket: '', key: '' };
  let body: Readable;
  try {
    body = (await where.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable;
  } catch (error) {
    if (isS3NotFound(error)) return { total, byReason };
    throw error;
  }
  // failed.csv's header (docs/report-format.md): image_id,outcome,error_code,error_message,line,…
  for await (const row of body.pipe(parse({ columns: true, relax_column_count: true })) as AsyncIterable<Record<string, string | undefined>>) {
    total += 1;
    const outcome = row.outcome ?? '';
    const code = row.error_code ?? '';
    const id = `${outcome}\u0000${code}`;
    const reason = byReason.get(id);
    if (reason === undefined) byReason.set(id, { outcome, code, count: 1, example: (row.error_message ?? '').slice(0, 160) });
    else reason.count += 1;
  }
  return { total, byReason };
}
