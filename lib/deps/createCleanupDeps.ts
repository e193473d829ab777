import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { systemClock } from '../core/clock.js';
import { workQueueAddress, type Config } from '../config/config.js';
import { createAuthFromConfig, type AuthFromConfigDeps } from './createAuthFromConfig.js';
import { createModelArtsClient } from '../modelarts/modelArtsClient.js';
import { PaceMemory } from '../modelarts/PaceMemory.js';
import { planScaleOut } from '../scaleout/planScaleOut.js';
import type { CleanupDeps } from '../job/types.js';

/**
 * Builds the production dependencies from the configuration. Creates clients only: no network
 * I/O happens here, so it is safe at cold start. The S3 endpoint comes from the SDK's own
 * `AWS_ENDPOINT_URL_S3` convention, so the same code runs on AWS and on the local stack.
 *
 * @param authDeps - Where ModelArts credentials come from besides the configuration (the environment
 *   on the local stack, injected secret fetchers in tests); see lib/deps/createAuthFromConfig.ts.
 */
export function createCleanupDeps(config: Config, overrides: Partial<CleanupDeps> = {}, authDeps: AuthFromConfigDeps = {}): CleanupDeps {
  // MODELARTS_AUTH: closures only here; credentials are read at the first request.
  const clock = overrides.clock ?? systemClock;
  const auth = overrides.modelArts === undefined ? createAuthFromConfig(config, { clock, ...authDeps }) : undefined;
  return {
    config,
    s3: overrides.s3 ?? new S3Client({ forcePathStyle: config.S3_FORCE_PATH_STYLE }),
    modelArts: overrides.modelArts ?? createModelArtsClient({
      endpoint: config.MODELARTS_ENDPOINT,
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
      extraErrorCodes: config.EXTRA_ERROR_CODES,
      // The time budget's deadline is on this clock.
      now: () => clock.now(),
      ...(auth === undefined ? {} : { authorize: auth.authorize, renewCredentials: auth.renewCredentials, redact: auth.redact }),
    }),
    clock,
    // One per container: the next job against the same limit starts at the pace the last one found.
    pace: overrides.pace ?? new PaceMemory(),
    // The scale-out planner sits above lib/job/: it reaches the job only through here.
    planScaleOut: overrides.planScaleOut ?? planScaleOut,
    logger: overrides.logger ?? new Logger({ serviceName: 'image-cleanup' }),
    // Powertools' own switch: with metrics off there is nothing to emit (and no warning per job).
    ...(overrides.metrics !== undefined ? { metrics: overrides.metrics } : config.POWERTOOLS_METRICS_DISABLED ? {} : { metrics: new Metrics({ namespace: 'ImageCleanup', serviceName: 'image-cleanup' }) }),
    // Only where continuations can be queued. The endpoint is the configured one (AWS_ENDPOINT_URL_SQS
    // locally), not the queue URL's host, which the local stack's queue URLs do not resolve.
    ...(overrides.sqs !== undefined ? { sqs: overrides.sqs } : workQueueAddress(config) !== undefined ? { sqs: new SQSClient({ useQueueUrlAsEndpoint: false }) } : {}),
  };
}
