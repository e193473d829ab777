import type { ValidationIssue } from '../core/errors.js';
import type { CleanupDeps } from '../job/types.js';
import { SUMMARY_FORMAT_VERSION, type TriggerInfo } from '../report/jobSummary.js';
import { writeRejectionReport } from '../report/writeRejectionReport.js';

/**
 * Answers work that will not run — a job refused as a whole, a refused queue message or pending
 * key, a pending manifest quarantined, a message given up from the dead-letter queue — with
 * `rejected.json` in the report folder `jobId` names, for triggers that have no caller to answer.
 *
 * @param error - Its `code` says which: `INVALID_JOB`, `INVALID_MESSAGE`, `QUARANTINED`, `DEAD_LETTERED`, …
 * @returns the report's `s3://` URI.
 * @throws {ReportWriteError} when S3 refuses it: the work must then not be acknowledged.
 */
export async function reportRefusal(deps: Pick<CleanupDeps, 's3' | 'config' | 'clock'>, jobId: string, trigger: TriggerInfo, error: { code: string; message: string; issues: readonly ValidationIssue[] }): Promise<string> {
  return writeRejectionReport(deps.s3, deps.config.REPORT_BUCKET, deps.config.REPORT_PREFIX, {
    formatVersion: SUMMARY_FORMAT_VERSION,
    jobId,
    trigger,
    status: 'rejected',
    error: { code: error.code, message: error.message, issues: [...error.issues] },
    rejectedAt: new Date(deps.clock.now()).toISOString(),
  });
}
