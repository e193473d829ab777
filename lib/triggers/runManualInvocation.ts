import type { Context } from 'aws-lambda';
import { CleanupError, JobInProgressError, JobValidationError } from '../core/errors.js';
import { invocationBudget } from '../job/invocationBudget.js';
import { rejection, type Rejection } from './rejection.js';
import type { JobSummary } from '../report/jobSummary.js';
import { runCleanupJob } from '../job/runCleanupJob.js';
import { type CleanupDeps } from '../job/types.js';

/** What a manual invocation returns: the summary and where the report is, or why the job was refused. */
export type ManualInvocationResult =
  /** The job ran to its end (or had before: `reused`), or was stopped by its failure threshold. */
  | { status: 'completed'; jobId: string; summary: JobSummary; report: JobSummary['report']; reused: boolean }
  /** Cut by the deadline: `summary.continuation` says where the job's state is and whether it was queued. */
  | { status: 'continuing'; jobId: string; summary: JobSummary; report: JobSummary['report'] }
  /** The same job is running in another invocation: ask again later for its report. */
  | { status: 'in_progress'; jobId: string }
  | Rejection;

/**
 * Runs a cleanup job given directly as the invocation's event (a test event) and answers
 * synchronously. A job that fails validation is answered with `status: "rejected"` and every
 * issue found; nothing is deleted then. Other errors propagate, so Lambda reports them.
 *
 * @param event - A cleanup job: `{ target, imageIds | manifest, options?, jobId? }`.
 * @param context - The Lambda context, for the deadline; absent when run outside Lambda.
 */
export async function runManualInvocation(event: unknown, deps: CleanupDeps, context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<ManualInvocationResult> {
  const budget = invocationBudget(deps.clock.now(), context?.getRemainingTimeInMillis(), deps.config);
  try {
    const { summary, reused } = await runCleanupJob(event, { type: 'manual', ...(context ? { source: context.awsRequestId } : {}) }, deps, budget);
    if (summary.status === 'continuing') return { status: 'continuing', jobId: summary.jobId, summary, report: summary.report };
    return { status: 'completed', jobId: summary.jobId, summary, report: summary.report, reused: reused ?? false };
  } catch (error) {
    if (error instanceof JobValidationError) {
      deps.logger.warn('job rejected', { issues: error.issues });
      return rejection(error);
    }
    if (error instanceof JobInProgressError) return { status: 'in_progress', jobId: error.jobId };
    if (error instanceof CleanupError) deps.logger.error('job failed', { code: error.code, error });
    throw error;
  }
}
