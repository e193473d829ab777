import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { loadConfig } from '../lib/config/config.js';
import { createCleanupDeps } from '../lib/deps/createCleanupDeps.js';
import { optimizeHeapForSize } from '../lib/deps/optimizeHeapForSize.js';
import { processQueueBatch } from '../lib/triggers/processQueueBatch.js';

// A delete job waits on the service, not on its CPU: V8 trades some CPU for memory (why: lib/deps/optimizeHeapForSize.ts).
optimizeHeapForSize();

// Parsed once per container, at cold start: a bad setting fails the init with a clear message.
const deps = createCleanupDeps(loadConfig());

/** SQS work queue: jobs and manifest notifications, answered with partial batch failures. */
export const handler = middy<SQSEvent>().handler((event, context) => processQueueBatch(event, deps, context));
