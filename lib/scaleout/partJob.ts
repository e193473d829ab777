import type { JobIdentity } from '../job/jobIdentity.js';
import type { JobRequest } from '../job/prepareJob.js';
import type { TriggerInfo } from '../report/jobSummary.js';
import { partJobId, type ScaleOutLayout } from './scaleOutLayout.js';
import type { ScaleOutPlan } from './scaleOutPlanSchema.js';

/**
 * A part of a split job as a job of its own: its part manifest, the job's target and resolved
 * options; confirmed (the job was), never split again. Its content is what the part's job record
 * holds, so whoever prepares a part — its worker, or the dead-letter handler giving it up — builds
 * it here.
 *
 * @param bucket - The report bucket, where the plan's part manifests are.
 */
export function partJob(plan: ScaleOutPlan, part: number, bucket: string): unknown {
  const entry = plan.parts[part - 1]!;
  const { chunkSize, maxInFlight, dryRun, failureThreshold, notFoundThreshold } = plan.options;
  const target = plan.target.api === 'v1'
    ? { projectId: plan.target.projectId, dataAnnotationId: plan.target.dataAnnotationId }
    : { projectId: plan.target.projectId, datasetId: plan.target.datasetId, deleteSource: plan.target.deleteSource };
  return {
    target,
    manifest: `s3://${bucket}/${entry.key}`,
    options: { chunkSize, maxInFlight, dryRun, failureThreshold, ...(notFoundThreshold === undefined ? {} : { notFoundThreshold }), confirmEntries: entry.entries, scaleOut: false },
  };
}

/**
 * The request that prepares a part as a job of its own — its id, its report folder under the job,
 * its plan manifest — for its worker and for the dead-letter handler alike. Its options are the
 * job's, resolved when the job was admitted: a later change of the deployment's limits does not
 * strand it.
 */
export function partRequest(plan: ScaleOutPlan, part: number, layout: ScaleOutLayout, trigger: TriggerInfo): JobRequest & { identity: JobIdentity } {
  return {
    input: partJob(plan, part, layout.job.bucket),
    trigger,
    access: { planParts: { bucket: layout.job.bucket, prefix: layout.planPrefix } },
    identity: { jobId: partJobId(plan.jobId, part), source: plan.jobIdSource },
    location: layout.partLocation(part),
    admitted: true,
  };
}
