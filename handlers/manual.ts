import middy from '@middy/core';
import { loadConfig } from '../lib/config/config.js';
import { createCleanupDeps } from '../lib/deps/createCleanupDeps.js';
import { optimizeHeapForSize } from '../lib/deps/optimizeHeapForSize.js';
import { runManualInvocation } from '../lib/triggers/runManualInvocation.js';

// A delete job waits on the service, not on its CPU: V8 trades some CPU for memory (why: lib/deps/optimizeHeapForSize.ts).
optimizeHeapForSize();

// Parsed once per container, at cold start: a bad setting fails the init with a clear message.
const deps = createCleanupDeps(loadConfig());

/** Manual invocation with a test event (a cleanup job); answers with the summary and the report's location. */
export const handler = middy().handler((event: unknown, context) => runManualInvocation(event, deps, context));
