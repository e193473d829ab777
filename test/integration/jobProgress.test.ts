import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import { runCleanupJob } from '../../lib/job/runCleanupJob.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import { createModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { jobProgressSchema, type JobProgress } from '../../lib/report/jobProgressSchema.js';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { seededRandom } from '../../local/emulator/seededRandom.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { sqsEvent, sqsRecord } from '../support/sqsEvents.js';
import { imageIds } from '../support/stackDeps.js';
import { testBudget } from '../support/testBudget.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { virtualClock } from '../support/virtualClock.js';

// Integration: progress.json of a job that runs unsplit, against fauxqs S3 and the ModelArts
// emulator over HTTP. A virtual clock moves 4 s at every delete request, so "about every 10 s" is
// every third request, and the test reads S3 between requests: while the job runs.
const PROJECT = '0123456789abcdef0123456789abcdef';
const MS_PER_REQUEST = 4_000;
const stack = useLocalStack();

/** Deps whose clock moves at each request; `beforeRequest` runs (awaited) before each request is sent. */
function clockedDeps(beforeRequest: () => Promise<void>, env: Record<string, string> = {}, s3: S3Client = stack.s3) {
  const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(5), sleeps: 'advance' });
  const config = loadConfig({ ...stack.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', ...env });
  const real = createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: 5_000, now: () => clock.now() });
  // A job logs through a child logger, which prints to stdout itself: the lines are read there (see `logLines`).
  const logger = new Logger({ serviceName: 'image-cleanup-test', logLevel: 'INFO' });
  const deps: CleanupDeps = createCleanupDeps(config, {
    s3,
    sqs: stack.sqs,
    clock,
    logger,
    modelArts: {
      deleteBatch: async (target, ids, options) => {
        await beforeRequest();
        clock.advance(MS_PER_REQUEST);
        return real.deleteBatch(target, ids, options);
      },
    },
  });
  delete deps.metrics;
  return { deps, clock };
}

/** Runs `act` with stdout caught: the JSON log lines it printed. */
async function logLines<T>(act: () => Promise<T>): Promise<{ result: T; lines: Array<Record<string, unknown>> }> {
  const printed: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true));
  try {
    const result = await act();
    const lines = printed.join('').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    return { result, lines };
  } finally {
    spy.mockRestore();
  }
}

const readProgress = (jobId: string): Promise<JobProgress | undefined> => readS3Json(stack.s3, stack.env.REPORT_BUCKET!, `reports/${jobId}/progress.json`, jobProgressSchema);

describe('progress.json of a job that runs unsplit', () => {
  it('is written about every 10 s while the job runs, with its rate and time left, and says done with the final status at the end', async () => {
    // Prepare: 1,000 IDs in 10 requests of 100, one at a time
    const jobId = `progress-${randomUUID().slice(0, 8)}`;
    const ids = imageIds(jobId, 1_000);
    stack.emulator.seedLabellingJob(PROJECT, 'p1', ids);
    const seen: Array<JobProgress | undefined> = [];
    const { deps } = clockedDeps(async () => {
      seen.push(await readProgress(jobId));
    });

    // Act
    const { result, lines } = await logLines(() => runCleanupJob({ jobId, target: { projectId: PROJECT, dataAnnotationId: 'p1' }, imageIds: ids, options: { chunkSize: 100, maxInFlight: 1 } }, { type: 'manual' }, deps));

    // Assess: none before 10 s; then running, written after the 3rd and the 6th chunk settled (12 and 24 s in)
    expect(seen).toHaveLength(10);
    expect(seen.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    const running = seen.filter((progress) => progress !== undefined);
    expect(running.slice(0, 6).map((progress) => progress.settled)).toEqual([300, 300, 300, 600, 600, 600]);
    expect(running.every((progress) => progress.state === 'running')).toBe(true);
    expect(running[0]).toMatchObject({ jobId, state: 'running', entries: 1_000, counts: { deleted: 300 }, parts: { total: 0, done: 0, running: 0, waiting: 0 }, idsPerSecond: 25, etaSeconds: 28 });
    expect(running[0]!.status).toBeUndefined();
    expect(running[0]!.limiter).toMatchObject({ limit: 1, waiting: 0, throttled: 0 });
    expect(running[3]).toMatchObject({ settled: 600, idsPerSecond: 25, etaSeconds: 16 });
    // The end: done, the summary's status, never running again
    expect(result.summary.status).toBe('completed');
    expect(await readProgress(jobId)).toMatchObject({ state: 'done', status: 'completed', settled: 1_000, counts: { deleted: 1_000 }, etaSeconds: 0, summary: result.summary.report.summary });
    // The log line carries the same figures
    const logged = lines.filter((line) => line.message === 'job progress');
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      const settled = line.settled as number;
      const seconds = ((line.requests as number) * MS_PER_REQUEST) / 1_000;
      expect(line).toMatchObject({ jobId, entries: 1_000, counts: { deleted: settled }, limiter: { limit: 1 } });
      // The rate over the job's life, as progress.json computes it: settled over the time passed (the clock moved at each request sent).
      expect(line.idsPerSecond).toBeLessThanOrEqual(Math.round((settled / (seconds - MS_PER_REQUEST / 1_000)) * 10) / 10);
      expect(line).toHaveProperty('etaSeconds');
    }
  });

  it('is written at a pause with the figures so far (state running), and done with the final status when a later invocation ends it', async () => {
    // Prepare: cut after 2 requests (8 s in: before any timed write), then a second invocation that stops at the not-found threshold
    const jobId = `paused-${randomUUID().slice(0, 8)}`;
    const ids = imageIds(jobId, 500);
    stack.emulator.seedLabellingJob(PROJECT, 'p2', ids);
    const { deps, clock } = clockedDeps(() => Promise.resolve());
    const input = { jobId, target: { projectId: PROJECT, dataAnnotationId: 'p2' }, imageIds: ids, options: { chunkSize: 100, maxInFlight: 1 } };

    // Act
    const paused = await runCleanupJob(input, { type: 'manual' }, { ...deps, sqs: undefined }, testBudget({ stopStartingAt: clock.now() + 2 * MS_PER_REQUEST }, clock.now()));
    const atPause = await readProgress(jobId);
    const ended = await runCleanupJob(input, { type: 'manual' }, deps);

    // Assess
    expect(paused.summary.status).toBe('continuing');
    expect(atPause).toMatchObject({ state: 'running', settled: 200, counts: { deleted: 200 }, idsPerSecond: 25, etaSeconds: 12 });
    expect(ended.summary.status).toBe('completed');
    expect(await readProgress(jobId)).toMatchObject({ state: 'done', status: 'completed', settled: 500 });
  });
});

describe('progress of a split job', () => {
  it('is not written by its parts\' runs: a part\'s folder holds its part progress only, the job\'s file is the workers\'', async () => {
    // Prepare: 60 IDs in parts of 20 (about 3), chunks of 5: each part runs past 10 s of its clock
    const jobId = `split-progress-${randomUUID().slice(0, 8)}`;
    const ids = imageIds(jobId, 60);
    stack.emulator.seedLabellingJob(PROJECT, 'p3', ids);
    const key = `uploads/${jobId}.txt`;
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: ids.join('\n') }));
    const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `progress-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 1 });
    // Every progress.json written, as S3 receives it.
    const written: Array<{ key: string; body: Record<string, unknown> }> = [];
    const s3 = new Proxy(stack.s3, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
        return (command: { input: { Key?: string; Body?: unknown } }, ...rest: unknown[]) => {
          if (command instanceof PutObjectCommand && command.input.Key?.endsWith('progress.json') === true) written.push({ key: command.input.Key, body: JSON.parse(command.input.Body as string) as Record<string, unknown> });
          return (target.send as (...args: unknown[]) => unknown).call(target, command, ...rest);
        };
      },
    });
    const { deps, clock } = clockedDeps(() => Promise.resolve(), { WORK_QUEUE_URL: workQueueUrl }, s3);

    // Act: plan it, then run each part's message as the queue handler does
    await runCleanupJob({ jobId, target: { projectId: PROJECT, dataAnnotationId: 'p3' }, manifest: `s3://${stack.env.MANIFEST_BUCKET}/${key}`, options: { chunkSize: 5, maxInFlight: 1, scaleOut: { partSize: 20 } } }, { type: 'manual' }, deps);
    for (let round = 0; round < 5; round += 1) {
      const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: workQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (Messages.length === 0) break;
      for (const message of Messages) {
        await processQueueBatch(sqsEvent(sqsRecord(message.Body ?? '', message.MessageId)), deps, createLambdaContext('queue', 900_000, () => clock.now()));
        await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: workQueueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }

    // Assess: the job ended; every write into a part's folder is a part's progress, never the job's schema
    const progress = await readProgress(jobId);
    expect(progress).toMatchObject({ state: 'done', status: 'completed', settled: 60 });
    expect(progress!.parts.total).toBeGreaterThan(1);
    expect(stack.emulator.labellingJobImages(PROJECT, 'p3').size).toBe(0);
    const inParts = written.filter((write) => write.key.includes('/parts/'));
    expect(inParts.length).toBeGreaterThan(0);
    expect(inParts.filter((write) => 'formatVersion' in write.body)).toEqual([]);
    expect(inParts.every((write) => typeof write.body.part === 'number')).toBe(true);
    // The job's own file is written only with the plan's parts: no part run wrote it with parts.total 0.
    const jobLevel = written.filter((write) => write.key === `reports/${jobId}/progress.json`);
    expect(jobLevel.length).toBeGreaterThan(0);
    expect(jobLevel.filter((write) => (write.body.parts as { total: number }).total === 0)).toEqual([]);
  });
});
