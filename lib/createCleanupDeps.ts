import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { systemClock } from './clock.js';
import type { Config } from './config.js';
import { createModelArtsClient } from './modelArtsClient.js';
import type { CleanupDeps } from './runCleanupJob.js';

/**
 * Builds the production dependencies from the configuration. Creates clients only: no network
 * I/O happens here, so it is safe at cold start. The S3 endpoint comes from the SDK's own
 * `AWS_ENDPOINT_URL_S3` convention, so the same code runs on AWS and on the local stack.
 */
export function createCleanupDeps(config: Config, overrides: Partial<CleanupDeps> = {}): CleanupDeps {
  return {
    config,
    s3: overrides.s3 ?? new S3Client({ forcePathStyle: config.S3_FORCE_PATH_STYLE }),
    modelArts: overrides.modelArts ?? createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS }),
    clock: overrides.clock ?? systemClock,
    logger: overrides.logger ?? new Logger({ serviceName: 'image-cleanup' }),
  };
}
