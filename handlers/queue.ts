import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { loadConfig } from '../lib/config/config.js';
import { createCleanupDeps } from '../lib/deps/createCleanupDeps.js';
import { processQueueBatch } from '../lib/triggers/processQueueBatch.js';

// Parsed once per container, at cold start: a bad setting fails the init with a clear message.
const deps = createCleanupDeps(loadConfig());

/** SQS work queue: jobs and manifest notifications, answered with partial batch failures. */
export const handler = middy<SQSEvent>().handler((event, context) => processQueueBatch(event, deps, context));
