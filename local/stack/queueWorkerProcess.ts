// One queue worker in a process of its own, as one Lambda instance of the queue function: the
// handler module builds its dependencies from this process's environment at import (cold start),
// then runs every batch its parent (local/stack/startQueueWorkers.ts) hands it over IPC, one at a time,
// and answers with the handler's response. Ends when its parent disconnects or on SIGTERM.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLambdaContext } from './lambdaContext.js';
import type { SqsHandler } from './sqsPoller.js';

/** A batch for the worker. */
export interface WorkerRequest {
  id: number;
  event: SQSEvent;
  /** The invocation's remaining time, for its Lambda context. */
  timeoutMs: number;
}

/** The worker's answer to one batch. */
export type WorkerResponse = { id: number; ok: true; response: SQSBatchResponse | undefined } | { id: number; ok: false; error: string };

const { handler } = (await import('../../handlers/queue.js')) as { handler: SqsHandler };

process.on('message', (request: WorkerRequest) => {
  void (async () => {
    let answer: WorkerResponse;
    try {
      const response = await handler(request.event, createLambdaContext('image-cleanup-queue', request.timeoutMs));
      answer = { id: request.id, ok: true, response: response ?? undefined };
    } catch (error) {
      answer = { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    process.send?.(answer);
  })();
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.send?.({ ready: true });
