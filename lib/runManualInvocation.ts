import type { Context } from 'aws-lambda';
import { CleanupError, JobValidationError, type ValidationIssue } from './errors.js';
import type { JobSummary } from './jobSummary.js';
import { runCleanupJob, type CleanupDeps } from './runCleanupJob.js';

/** What a manual invocation returns: the summary and where the report is, or why the job was refused. */
export type ManualInvocationResult =
  | { status: 'completed'; jobId: string; summary: JobSummary; report: JobSummary['report'] }
  | { status: 'rejected'; error: { code: string; message: string; issues: readonly ValidationIssue[] } };

/**
 * Runs a cleanup job given directly as the invocation's event (a test event) and answers
 * synchronously. A job that fails validation is answered with `status: "rejected"` and every
 * issue found; nothing is deleted then. Other errors propagate, so Lambda reports them.
 *
 * @param event - A cleanup job: `{ target, imageIds, options?, jobId? }`.
 * @param context - The Lambda context, for the deadline; absent when run outside Lambda.
 */
export async function runManualInvocation(event: unknown, deps: CleanupDeps, context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<ManualInvocationResult> {
  const stopRetryingAt = context ? deps.clock.now() + context.getRemainingTimeInMillis() - deps.config.DEADLINE_MARGIN_MS : undefined;
  try {
    const { summary } = await runCleanupJob(event, { type: 'manual', ...(context ? { source: context.awsRequestId } : {}) }, deps, stopRetryingAt === undefined ? {} : { stopRetryingAt });
    return { status: 'completed', jobId: summary.jobId, summary, report: summary.report };
  } catch (error) {
    if (error instanceof JobValidationError) {
      deps.logger.warn('job rejected', { issues: error.issues });
      return { status: 'rejected', error: { code: error.code, message: error.message, issues: error.issues } };
    }
    if (error instanceof CleanupError) deps.logger.error('job failed', { code: error.code, error });
    throw error;
  }
}
