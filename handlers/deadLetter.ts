import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { loadConfig } from '../lib/config/config.js';
import { createCleanupDeps } from '../lib/deps/createCleanupDeps.js';
import { optimizeHeapForSize } from '../lib/deps/optimizeHeapForSize.js';
import { processDeadLetters } from '../lib/triggers/processDeadLetters.js';

// A delete job waits on the service, not on its CPU: V8 trades some CPU for memory (why: lib/deps/optimizeHeapForSize.ts).
optimizeHeapForSize();

// Parsed once per container, at cold start: a bad setting fails the init with a clear message.
const deps = createCleanupDeps(loadConfig());

/** The work queue's dead-letter queue: every message that failed maxReceiveCount times gets a report. */
export const handler = middy<SQSEvent>().handler((event, context) => processDeadLetters(event, deps, context));
