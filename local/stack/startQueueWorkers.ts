import type { SQSClient } from '@aws-sdk/client-sqs';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerRequest, WorkerResponse } from './queueWorkerProcess.js';
import { startSqsPoller, type PollerBatch, type SqsHandler, type SqsPoller } from './sqsPoller.js';

/** Options of {@link startQueueWorkers}. */
export interface QueueWorkersOptions {
  /** Worker processes, as Lambda instances (the event source mapping's `maximumConcurrency`). */
  count: number;
  /** The environment of each worker: the function's configuration (e.g. the local stack's `env`). */
  env: Record<string, string>;
  sqs: SQSClient;
  queueUrl: string;
  /** Messages per batch. @default 10 */
  batchSize?: number;
  /** Long-poll wait per receive. @default 2 */
  waitTimeSeconds?: number;
  onBatch?: (worker: number, batch: PollerBatch) => void;
  onError?: (worker: number, error: unknown) => void;
}

/** Running workers. */
export interface QueueWorkers {
  /** Process ids of the workers. */
  pids: number[];
  /** Stops polling, waits for the batches in progress, and ends the processes. */
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./queueWorkerProcess.ts', import.meta.url));

/**
 * Runs N queue workers in separate Node processes (child_process.fork of
 * local/stack/queueWorkerProcess.ts), each fed by its own poller (local/stack/sqsPoller.ts) — as Lambda runs
 * up to `maximumConcurrency` instances of the queue function, each with its own memory, limiter
 * and connections. Resolves once every worker has built its dependencies.
 */
export async function startQueueWorkers(options: QueueWorkersOptions): Promise<QueueWorkers> {
  const children = await Promise.all(Array.from({ length: options.count }, () => startWorker(options.env)));
  const pollers: SqsPoller[] = children.map((child, index) =>
    startSqsPoller({
      sqs: options.sqs,
      queueUrl: options.queueUrl,
      handler: child.handler,
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.waitTimeSeconds === undefined ? {} : { waitTimeSeconds: options.waitTimeSeconds }),
      onBatch: (batch) => options.onBatch?.(index + 1, batch),
      onError: (error) => options.onError?.(index + 1, error),
    }),
  );
  return {
    pids: children.map((child) => child.process.pid ?? 0),
    async stop() {
      await Promise.all(pollers.map((poller) => poller.stop()));
      await Promise.all(children.map((child) => child.stop()));
    },
  };
}

async function startWorker(env: Record<string, string>): Promise<{ process: ChildProcess; handler: SqsHandler; stop: () => Promise<void> }> {
  const child = fork(ENTRY, [], { execArgv: ['--disable-warning=ExperimentalWarning', '--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`queue worker exited with ${code} before it was ready`)));
  });
  const waiting = new Map<number, (answer: WorkerResponse) => void>();
  child.on('message', (answer: WorkerResponse) => waiting.get(answer.id)?.(answer));
  child.once('exit', (code) => {
    for (const settle of waiting.values()) settle({ id: -1, ok: false, error: `queue worker exited with ${code}` });
  });
  let next = 0;
  const handler: SqsHandler = async (event, context) => {
    const id = (next += 1);
    const answer = await new Promise<WorkerResponse>((resolve) => {
      waiting.set(id, resolve);
      child.send({ id, event, timeoutMs: context.getRemainingTimeInMillis() } satisfies WorkerRequest);
    });
    waiting.delete(id);
    if (!answer.ok) throw new Error(answer.error);
    return answer.response;
  };
  return {
    process: child,
    handler,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
