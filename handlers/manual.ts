import middy from '@middy/core';
import { loadConfig } from '../lib/config/config.js';
import { createCleanupDeps } from '../lib/deps/createCleanupDeps.js';
import { runManualInvocation } from '../lib/triggers/runManualInvocation.js';

// Parsed once per container, at cold start: a bad setting fails the init with a clear message.
const deps = createCleanupDeps(loadConfig());

/** Manual invocation with a test event (a cleanup job); answers with the summary and the report's location. */
export const handler = middy().handler((event: unknown, context) => runManualInvocation(event, deps, context));
