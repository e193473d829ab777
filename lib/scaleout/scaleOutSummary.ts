import { s3Uri } from '../aws/s3Uri.js';
import type { JobSummary } from '../report/jobSummary.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';
import type { ScaleOutPlan } from './scaleOutPlanSchema.js';

/** The `scaleOut` field of a split job's summaries: how many parts, and where its plan and progress are. */
export function scaleOutSummary(plan: ScaleOutPlan, layout: ScaleOutLayout): NonNullable<JobSummary['scaleOut']> {
  return { parts: plan.parts.length, partSize: plan.partSize, plan: s3Uri(layout.job.bucket, layout.planKey), progress: s3Uri(layout.job.bucket, layout.progressKey) };
}
