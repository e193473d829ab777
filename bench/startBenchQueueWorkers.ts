import type { LocalStack } from '../local/stack/startLocalStack.js';
import { startQueueWorkers, type QueueWorkers } from '../local/stack/startQueueWorkers.js';

/** How the benchmark's queue workers are configured. */
export interface BenchQueueWorkersOptions {
  count: number;
  /** The ModelArts endpoint (the emulator's process). */
  modelArtsUrl: string;
  chunkSize: number;
  /** Each worker's limiter ceiling. */
  maxInFlight: number;
  partSize: number;
  /** The deployment's cap on a job's entries, set to the manifest's size so it runs without `confirmEntries`. */
  maxIdsPerJob: number;
  /** More of the function's environment (e.g. `NODE_OPTIONS`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`). */
  env?: Record<string, string>;
}

/**
 * Starts the queue workers of a scale-out benchmark, each in a process of its own
 * (local/stack/startQueueWorkers.ts), on the local stack's work queue: one message per receive,
 * as an event source mapping with `batchSize: 1`, so parts spread over the workers; logs at WARN
 * (`BENCH_LOG_LEVEL` to change), metrics off.
 */
export function startBenchQueueWorkers(stack: LocalStack, options: BenchQueueWorkersOptions): Promise<QueueWorkers> {
  return startQueueWorkers({
    count: options.count,
    env: {
      ...stack.env,
      MODELARTS_ENDPOINT: options.modelArtsUrl,
      CHUNK_SIZE: String(options.chunkSize),
      MAX_IN_FLIGHT: String(options.maxInFlight),
      SCALE_OUT_PART_SIZE: String(options.partSize),
      MAX_IDS_PER_JOB: String(options.maxIdsPerJob),
      POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...options.env,
    },
    sqs: stack.sqs,
    queueUrl: stack.env.WORK_QUEUE_URL as string,
    batchSize: 1,
    waitTimeSeconds: 1,
    onError: (worker, error) => console.error(`  worker ${worker}: ${error instanceof Error ? error.message : String(error)}`),
  });
}
