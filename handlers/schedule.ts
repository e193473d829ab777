import middy from '@middy/core';
import { loadConfig } from '../lib/config/config.js';
import { createCleanupDeps } from '../lib/deps/createCleanupDeps.js';
import { runScheduledScan } from '../lib/triggers/scheduledRun.js';

// Parsed once per container, at cold start: a bad setting fails the init with a clear message.
const deps = createCleanupDeps(loadConfig());

/** EventBridge schedule (rule or Scheduler): processes the manifests waiting under `pending/`. */
export const handler = middy().handler((event: unknown, context) => runScheduledScan(event, deps, context));
