import { s3Uri } from '../aws/s3Uri.js';
import type { PreparedJob } from '../job/types.js';
import { createJobStats } from '../pipeline/jobStats.js';
import { LatencyHistogram } from '../report/LatencyHistogram.js';
import type { PlanCheckpoint } from './planCheckpointSchema.js';
import type { SummaryFacts } from '../report/buildJobSummary.js';
import type { JobSummary } from '../report/jobSummary.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';
import type { ScaleOutPlan } from './scaleOutPlanSchema.js';

/** The `scaleOut` field of a split job's summaries: how many parts, and where its plan and progress are. */
function scaleOutSummary(plan: ScaleOutPlan, layout: ScaleOutLayout): NonNullable<JobSummary['scaleOut']> {
  return { parts: plan.parts.length, partSize: plan.partSize, plan: s3Uri(layout.job.bucket, layout.planKey), progress: s3Uri(layout.job.bucket, layout.progressKey) };
}

/** What every summary of a split job (its plan's, its final one) takes from the plan. */
export function planFacts(plan: ScaleOutPlan, layout: ScaleOutLayout): Pick<SummaryFacts, 'jobId' | 'jobIdSource' | 'trigger' | 'target' | 'options' | 'received' | 'startedAt' | 'location' | 'scaleOut'> {
  return {
    jobId: plan.jobId,
    jobIdSource: plan.jobIdSource,
    trigger: plan.trigger,
    target: plan.target,
    options: plan.options,
    received: plan.entries,
    startedAt: Date.parse(plan.startedAt),
    location: layout.job,
    scaleOut: scaleOutSummary(plan, layout),
  };
}

/** What a summary of a split job says while it is planned (paused, or cancelled): the checkpoint's counts, no request made. */
export function planningFacts(run: PreparedJob, state: PlanCheckpoint, now: number): SummaryFacts {
  return {
    jobId: run.identity.jobId,
    jobIdSource: run.identity.source,
    trigger: state.trigger,
    target: run.source.target,
    options: run.options,
    received: run.source.entryCount,
    counts: { ...state.counts },
    normalized: state.normalized,
    startedAt: state.startedAt,
    finishedAt: now,
    invocations: state.invocations,
    stats: createJobStats(),
    latency: new LatencyHistogram().toJSON(),
    location: run.location,
  };
}
