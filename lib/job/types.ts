import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../core/clock.js';
import type { Config } from '../config/config.js';
import type { ModelArtsClient } from '../modelarts/modelArtsClient.js';
import type { PaceMemory } from '../modelarts/PaceMemory.js';
import type { SummaryFacts } from '../report/buildJobSummary.js';
import type { JobSummary, TriggerInfo } from '../report/jobSummary.js';
import type { ReportLocation } from '../report/ReportLocation.js';
import type { CleanupJob } from './cleanupJob.js';
import type { JobIdentity } from './jobIdentity.js';
import type { JobContent } from './jobRecord.js';
import type { JobSource } from './prepareJobSource.js';

/** Everything a cleanup job needs from the outside world; built by lib/deps/createCleanupDeps.ts. */
export interface CleanupDeps {
  config: Config;
  s3: S3Client;
  modelArts: ModelArtsClient;
  clock: Clock;
  logger: Logger;
  /** Where each finished job's figures go as CloudWatch EMF; none when absent. */
  metrics?: Metrics;
  /** Sends continuation and part messages to `WORK_QUEUE_URL`; none when absent. */
  sqs?: SQSClient;
  /** The pace this container's last job found per service limit, for the next one; each job starts afresh when absent. */
  pace?: PaceMemory;
  /**
   * Splits a big prepared job into parts run by the work queue's workers, or leaves it alone
   * (undefined). Injected, not imported: lib/scaleout/ sits above lib/job/ (docs/architecture.md).
   */
  planScaleOut: (job: PreparedJob, deps: CleanupDeps, budget?: InvocationBudget) => Promise<CleanupResult | PlanningPaused | undefined>;
}

/**
 * A split job's planning cut by the deadline (lib/scaleout/planScaleOut.ts): its planning
 * checkpoint is written, and the job goes on from it in a new invocation, as a paused run does.
 */
export interface PlanningPaused {
  kind: 'planning_paused';
  /** What the summary of this invocation says (what the planner settled so far). */
  facts: SummaryFacts;
  /** Every entry up to this line is planned. */
  resumeAfter: number;
  /** `s3://` URI of the planning checkpoint. */
  checkpoint: string;
}

/**
 * The name of a split job's planning checkpoint in its report folder (lib/scaleout/planCheckpointSchema.ts):
 * its head says how to prepare the job again, so a `continueJob` message resumes planning too.
 */
export const PLAN_CHECKPOINT_NAME = 'plan-checkpoint.json';

/** What a job returns to its trigger. */
export interface CleanupResult {
  summary: JobSummary;
  /** True when the job had completed before and its report was returned as it was: nothing was sent. */
  reused?: boolean;
}

/** A job after its preparing pass and guard rails: everything the claim and the run need. */
export interface PreparedJob {
  job: CleanupJob;
  /** The job as it was given, kept in the checkpoint to run it again. */
  input: unknown;
  trigger: TriggerInfo;
  identity: JobIdentity;
  location: ReportLocation;
  source: JobSource;
  /** What the job deletes and how: written to its record at its first claim, or checked against it. */
  content: JobContent;
  /** The job's options resolved against the deployment's defaults, as the summary states them. */
  options: JobSummary['options'];
  /** Logs with the job's id on every line. */
  logger: Logger;
  /** Epoch ms this invocation took the job up. */
  startedAt: number;
}

/**
 * The time of one invocation, as epoch-ms instants, derived once from the Lambda context
 * (lib/job/invocationBudget.ts) and passed whole. Outside Lambda every instant is `Infinity`
 * but the claim's expiry.
 */
export interface InvocationBudget {
  /** The Lambda deadline. */
  deadline: number;
  /** No request (retries included) starts after this: the report must still be written. */
  stopRetryingAt: number;
  /** No new chunk starts after this: a chunk started just before still has a whole request timeout. */
  stopStartingAt: number;
  /** When a claim taken in this invocation may be taken over: once the invocation is certainly over. */
  claimExpiresAt: number;
}
