import middy from '@middy/core';
import { loadConfig } from '../lib/config/config.js';
import { createCleanupDeps } from '../lib/deps/createCleanupDeps.js';
import { optimizeHeapForSize } from '../lib/deps/optimizeHeapForSize.js';
import { runScheduledScan } from '../lib/triggers/scheduledRun.js';

// A delete job waits on the service, not on its CPU: V8 trades some CPU for memory (why: lib/deps/optimizeHeapForSize.ts).
optimizeHeapForSize();

// Parsed once per container, at cold start: a bad setting fails the init with a clear message.
const deps = createCleanupDeps(loadConfig());

/** EventBridge schedule (rule or Scheduler): processes the manifests waiting under `pending/`. */
export const handler = middy().handler((event: unknown, context) => runScheduledScan(event, deps, context));
