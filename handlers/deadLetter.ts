import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { loadConfig } from '../lib/config/config.js';
import { createCleanupDeps } from '../lib/deps/createCleanupDeps.js';
import { processDeadLetters } from '../lib/triggers/processDeadLetters.js';

// Parsed once per container, at cold start: a bad setting fails the init with a clear message.
const deps = createCleanupDeps(loadConfig());

/** The work queue's dead-letter queue: every message that failed maxReceiveCount times gets a report. */
export const handler = middy<SQSEvent>().handler((event, context) => processDeadLetters(event, deps, context));
