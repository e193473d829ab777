import { Logger } from '@aws-lambda-powertools/logger';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import { createModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { runCleanupJob } from '../../lib/job/runCleanupJob.js';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import type { EmulatorFault } from '../../local/emulator/modelArtsEmulator.js';
import { imageIds, readS3Text, stackDeps } from '../support/stackDeps.js';
import { seededRandom as seeded } from '../../local/emulator/seededRandom.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { testBudget } from '../support/testBudget.js';
import { virtualClock } from '../support/virtualClock.js';

// Integration: the client's protocol and error model against the emulator: v1 and v2 alike,
// bisection of all-or-nothing v1 batches, random faults, permanent errors, the time budget.
const PROJECT = '0123456789abcdef0123456789abcdef';
const JOB = '282';
const DATASET = 'WxCREuCkBSAlQr9xrde';
const v1 = { projectId: PROJECT, dataAnnotationId: JOB };
const v2 = { projectId: PROJECT, datasetId: DATASET };

const stack = useLocalStack();

beforeEach(() => {
  stack.emulator.requests.length = 0;
  stack.emulator.clearFaults();
  Object.assign(stack.emulator.settings, { latencyMs: 0, latencyJitterMs: 0, maxBatchSize: 1000, v1UnknownIds: 'fail_batch', v1UnknownIdCode: 'ModelArts.4420', randomFaults: undefined });
});

async function completed(event: unknown, env: Record<string, string> = {}) {
  const result = await runManualInvocation(event, stackDeps(stack, env));
  if (result.status !== 'completed') throw new Error(`expected a completed job, got ${result.status === 'rejected' ? result.error.code : result.status}`);
  return result;
}

async function failedRows(uri: string) {
  return parse<Record<string, string>>(await readS3Text(stack.s3, uri), { columns: true });
}

describe('v1 and v2 alike', () => {
  it('a job against v1 and the same job against v2 end with the same outcomes for the same emulator state', async () => {
    // Prepare: the same images in a labelling job and a dataset; the job names some that are gone, some invalid, some twice.
    const present = imageIds('same-present', 60);
    const keep = imageIds('same-keep', 10);
    const gone = imageIds('same-gone', 5);
    stack.emulator.seedLabellingJob(PROJECT, JOB, [...present, ...keep]);
    stack.emulator.seedDataset(PROJECT, DATASET, [...present, ...keep]);
    const entries = [...present.slice(0, 25), gone[0], 'not-an-id', ...present.slice(25, 50), gone[1], gone[2], present[3], ...present.slice(50), gone[3], gone[4], 'ABC'];

    // Act
    const onV1 = await completed({ target: v1, imageIds: entries, options: { chunkSize: 20 } });
    const onV2 = await completed({ target: v2, imageIds: entries, options: { chunkSize: 20 } });

    // Assess
    expect(onV1.summary.counts).toEqual({ received: entries.length, deleted: 60, already_deleted: 5, failed: 0, invalid: 2, duplicate: 1, skipped: 0, would_delete: 0 });
    expect(onV2.summary.counts).toEqual(onV1.summary.counts);
    // Rows come in the order entries were settled; the target columns name each job's own target.
    const comparable = async (uri: string) =>
      (await failedRows(uri)).map(({ project_id: _p, data_annotation_id: _a, dataset_id: _d, ...row }) => row).sort((a, b) => Number(a.line) - Number(b.line));
    expect(await comparable(onV2.report.failed)).toEqual(await comparable(onV1.report.failed));
    expect([...stack.emulator.datasetSamples(PROJECT, DATASET)].sort()).toEqual([...keep].sort());
    expect([...stack.emulator.labellingJobImages(PROJECT, JOB)].sort()).toEqual([...keep].sort());
  });
});

describe('isolating unknown IDs in all-or-nothing v1 batches', () => {
  const n = 100;
  const bound = (k: number) => 2 * k * Math.ceil(Math.log2(n));

  function chunkWithUnknown(label: string, k: number) {
    const random = seeded(k * 7919);
    const present = imageIds(`${label}-present-${k}`, n - k);
    const unknown = imageIds(`${label}-unknown-${k}`, k);
    const chunk = [...present];
    // The unknown IDs at seeded positions of the chunk.
    for (const id of unknown) chunk.splice(Math.floor(random() * (chunk.length + 1)), 0, id);
    return { present, unknown, chunk };
  }

  it.each([1, 2, 5, 10])('k=%i unknown IDs in a chunk of 100: the others deleted, the k already_deleted, within 2·k·log2(n) extra requests', async (k) => {
    // Prepare
    const { present, unknown, chunk } = chunkWithUnknown('bisect', k);
    stack.emulator.seedLabellingJob(PROJECT, JOB, present);

    // Act
    const result = await completed({ target: v1, imageIds: chunk, options: { chunkSize: n } });

    // Assess
    expect(result.summary.counts).toMatchObject({ deleted: n - k, already_deleted: k, failed: 0 });
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(0);
    expect(result.summary.requests - 1).toBeLessThanOrEqual(bound(k));
    expect(result.summary.requests).toBe(stack.emulator.requests.length);
    // Each unknown ID ends alone in a request of its own.
    for (const id of unknown) expect(stack.emulator.requests.some((r) => r.imageIds.length === 1 && r.imageIds[0] === id)).toBe(true);
  });

  it.each([1, 3, 8])('k=%i, with the emulator switched to answer unknown IDs with ModelArts.0104: the k end failed, the others deleted, same bound', async (k) => {
    // Prepare
    stack.emulator.settings.v1UnknownIdCode = 'ModelArts.0104';
    const { present, unknown, chunk } = chunkWithUnknown('bisect-0104', k);
    stack.emulator.seedLabellingJob(PROJECT, JOB, present);

    // Act
    const result = await completed({ target: v1, imageIds: chunk, options: { chunkSize: n } });

    // Assess
    expect(result.summary.counts).toMatchObject({ deleted: n - k, already_deleted: 0, failed: k });
    const rows = await failedRows(result.report.failed);
    expect(rows.map((row) => row.image_id).sort()).toEqual([...unknown].sort());
    expect(new Set(rows.map((row) => row.error_code))).toEqual(new Set(['ModelArts.0104']));
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(0);
    expect(result.summary.requests - 1).toBeLessThanOrEqual(bound(k));
  });
});

describe('transient faults, throttling and permanent errors', () => {
  const FAULTS: EmulatorFault[] = [
    { status: 500, errorCode: 'ModelArts.4424' },
    { status: 503 },
    { status: 429, errorCode: 'APIG.0308' },
    { status: 429, errorCode: 'ModelArts.4395', retryAfterSeconds: 0 },
    { action: 'reset' },
    { action: 'hang' },
  ];
  const RETRYING = { MAX_ATTEMPTS: '12', REQUEST_TIMEOUT_MS: '250' };

  it('under 20% random (seeded) transient faults and throttling, every deletable image ends deleted', async () => {
    // Prepare
    const ids = imageIds('random-faults', 2000);
    const keep = imageIds('random-keep', 20);
    stack.emulator.seedLabellingJob(PROJECT, JOB, [...ids, ...keep]);
    stack.emulator.settings.randomFaults = { rate: 0.2, random: seeded(20260101), faults: FAULTS };

    // Act
    const result = await completed({ target: v1, imageIds: ids, options: { chunkSize: 20, maxInFlight: 4 } }, RETRYING);

    // Assess
    const log = stack.emulator.requests;
    const faulted = log.filter((r) => r.status !== 200);
    expect(result.summary.counts).toMatchObject({ deleted: 2000, failed: 0 });
    expect([...stack.emulator.labellingJobImages(PROJECT, JOB)].sort()).toEqual([...keep].sort());
    // The faults did happen, of every kind, at about the rate asked for.
    expect(new Set(faulted.map((r) => r.errorCode))).toEqual(new Set(['ModelArts.4424', 'HTTP.503', 'APIG.0308', 'ModelArts.4395', 'RESET', 'HANG']));
    expect(faulted.length / log.length).toBeGreaterThan(0.1);
    expect(faulted.length / log.length).toBeLessThan(0.3);
    expect(result.summary.requests).toBe(log.length);
    expect(result.summary.retries).toBe(faulted.length);
  });

  it('never retries a permanent error, even among random transient faults (checked on the emulator log)', async () => {
    // Prepare
    const ids = imageIds('permanent-among-random', 200);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.injectFaults({ status: 403, errorCode: 'ModelArts.4803', errorMessage: 'The dataset has unfinished label tasks.' });
    stack.emulator.settings.randomFaults = { rate: 0.2, random: seeded(4803), faults: FAULTS };

    // Act
    const result = await completed({ target: v1, imageIds: ids, options: { chunkSize: 20, maxInFlight: 4 } }, RETRYING);

    // Assess
    const refused = stack.emulator.requests.filter((r) => r.errorCode === 'ModelArts.4803');
    expect(refused).toHaveLength(1);
    const refusedIds = new Set(refused[0]!.imageIds);
    const sentAgain = stack.emulator.requests.filter((r) => r !== refused[0] && r.imageIds.some((id) => refusedIds.has(id)));
    expect(sentAgain).toEqual([]);
    expect(result.summary.counts).toMatchObject({ deleted: 180, failed: 20 });
    expect((await failedRows(result.report.failed)).every((row) => row.error_code === 'ModelArts.4803' && refusedIds.has(row.image_id!))).toBe(true);
  });

  it('abandons a hanging request at REQUEST_TIMEOUT_MS and retries it; a reset connection is retried too', async () => {
    // Prepare
    const ids = imageIds('hang-reset', 10);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.injectFaults({ action: 'hang' }, { action: 'reset' });

    // Act
    const result = await completed({ target: v1, imageIds: ids }, { REQUEST_TIMEOUT_MS: '200' });

    // Assess
    expect(stack.emulator.requests.map((r) => `${r.status} ${r.errorCode ?? ''}`.trim())).toEqual(['0 HANG', '0 RESET', '200']);
    expect(result.summary.counts).toMatchObject({ deleted: 10, failed: 0 });
    expect(result.summary.retries).toBe(2);
  });
});

describe('the real protocol\'s edges (issue 13)', () => {
  it('v2: an answer one result short is not mapped by position: the chunk is sent again, and the repeat settles each sample truthfully', async () => {
    // Prepare: the first answer deletes the samples but confirms nothing per sample.
    const ids = imageIds('v2-short', 10);
    stack.emulator.seedDataset(PROJECT, DATASET, ids);
    stack.emulator.injectFaults({ v2Answer: 'short_results' });

    // Act
    const result = await completed({ target: v2, imageIds: ids });

    // Assess: the repeat answered 4420 for each (gone since the first request): none is called failed, none deleted twice.
    expect(stack.emulator.requests.map((r) => r.errorCode ?? r.status)).toEqual(['SHORT_RESULTS', 200]);
    expect(result.summary.counts).toMatchObject({ received: 10, deleted: 0, already_deleted: 10, failed: 0 });
    expect(stack.emulator.datasetSamples(PROJECT, DATASET).size).toBe(0);
  });

  it('v2: success: false with no results, again and again: the samples end failed UNCONFIRMED_RESULTS after the retries, never "deleted", never bisected', async () => {
    // Prepare
    const ids = imageIds('v2-no-results', 8);
    stack.emulator.seedDataset(PROJECT, DATASET, ids);
    stack.emulator.injectFaults({ v2Answer: 'no_results', times: 3 });

    // Act
    const result = await completed({ target: v2, imageIds: ids }, { MAX_ATTEMPTS: '3' });

    // Assess
    expect(stack.emulator.requests.map((r) => r.imageIds.length)).toEqual([8, 8, 8]);
    expect(result.summary.counts).toMatchObject({ deleted: 0, failed: 8 });
    const rows = await failedRows(result.report.failed);
    expect(new Set(rows.map((row) => row.error_code))).toEqual(new Set(['UNCONFIRMED_RESULTS']));
  });

  it('ModelArts.4204 (API not subscribed): every ID of the chunk failed with it, no retry, no bisection', async () => {
    // Prepare
    const ids = imageIds('not-subscribed', 40);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.injectFaults({ status: 400, errorCode: 'ModelArts.4204', errorMessage: 'Request api error! The API is not subscribed.', times: 2 });

    // Act
    const result = await completed({ target: v1, imageIds: ids, options: { chunkSize: 20 } });

    // Assess: one request per chunk.
    expect(stack.emulator.requests.map((r) => r.imageIds.length)).toEqual([20, 20]);
    expect(result.summary.counts).toMatchObject({ deleted: 0, failed: 40 });
    expect(new Set((await failedRows(result.report.failed)).map((row) => row.error_code))).toEqual(new Set(['ModelArts.4204']));
  });

  it('ModelArts.4712 (dataset busy with an import or sync): retried after waits of 30 s and more, then deleted', async () => {
    // Prepare: a virtual clock, so the long waits cost no time; its sleeps are recorded.
    const ids = imageIds('busy-dataset', 10);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.injectFaults({ status: 400, errorCode: 'ModelArts.4712', errorMessage: 'The dataset is being imported or synchronized.', times: 2 });
    const clock = virtualClock({ start: 1_800_000_000_000, random: seeded(4712), sleeps: 'advance' });
    const sleeps: number[] = [];
    const recording = { ...clock, sleep: (ms: number) => (sleeps.push(ms), clock.sleep(ms)) };
    const deps = stackDeps(stack, {}, { clock: recording });

    // Act
    const { summary } = await runCleanupJob({ target: v1, imageIds: ids }, { type: 'manual' }, deps, testBudget({ stopRetryingAt: clock.now() + 600_000 }, clock.now()));

    // Assess
    expect(stack.emulator.requests.map((r) => r.errorCode ?? r.status)).toEqual(['ModelArts.4712', 'ModelArts.4712', 200]);
    expect(summary.counts).toMatchObject({ deleted: 10, failed: 0 });
    expect(sleeps.filter((ms) => ms >= 30_000)).toHaveLength(2);
  });

  it('EXTRA_ERROR_CODES: a code the deployment calls throttled is retried whole; without it, the status decides (400: permanent, the v1 batch bisected)', async () => {
    // Prepare
    const ids = imageIds('extra-codes', 10);
    const other = imageIds('extra-codes-other', 10);
    stack.emulator.seedLabellingJob(PROJECT, JOB, [...ids, ...other]);
    stack.emulator.injectFaults({ status: 400, errorCode: 'ModelArts.9001' });

    // Act
    const withCode = await completed({ target: v1, imageIds: ids }, { EXTRA_ERROR_CODES: 'throttled:ModelArts.9001' });
    const sentWith = stack.emulator.requests.map((r) => r.imageIds.length);
    stack.emulator.requests.length = 0;
    stack.emulator.injectFaults({ status: 400, errorCode: 'ModelArts.9001' });
    const withoutCode = await completed({ target: v1, imageIds: other });

    // Assess
    expect(sentWith).toEqual([10, 10]);
    expect(withCode.summary).toMatchObject({ throttled: 1, counts: { deleted: 10, failed: 0 } });
    expect(stack.emulator.requests.map((r) => r.imageIds.length)).toEqual([10, 5, 5]);
    expect(withoutCode.summary).toMatchObject({ throttled: 0, counts: { deleted: 10, failed: 0 } });
  });
});

describe('the time budget', () => {
  it('makes no request after the budget is spent: chunks not started are left for a continuation, never sent, and the next invocation finishes the job', async () => {
    // Prepare: a virtual clock that advances 100 ms per request, a budget of 1000 ms, one request at a time.
    const ids = imageIds('budget', 100);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    // No retries or pacing waits happen here, so what a sleep does is moot: 'advance' is the simpler kind.
    const clock = virtualClock({ start: 1_800_000_000_000, random: seeded(1), sleeps: 'advance' });
    const start = clock.now();
    const config = loadConfig({ ...stack.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5' });
    const real = createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS });
    const calledAt: number[] = [];
    const modelArts = {
      deleteBatch: (...args: Parameters<typeof real.deleteBatch>) => {
        calledAt.push(clock.now());
        clock.advance(100);
        return real.deleteBatch(...args);
      },
    };
    const deps = createCleanupDeps(config, { s3: stack.s3, sqs: stack.sqs, clock, modelArts, logger: new Logger({ logLevel: 'SILENT' }) });
    const job = { target: v1, imageIds: ids, options: { chunkSize: 5, maxInFlight: 1 } };

    // Act
    const { summary } = await runCleanupJob(job, { type: 'manual' }, deps, testBudget({ stopRetryingAt: start + 1000 }, clock.now()));
    const sentFirst = new Set(stack.emulator.requests.flatMap((r) => r.imageIds));
    const left = new Set(stack.emulator.labellingJobImages(PROJECT, JOB));
    const { summary: final } = await runCleanupJob(job, { type: 'manual' }, deps, testBudget({ stopRetryingAt: clock.now() + 10_000 }, clock.now()));

    // Assess: the first invocation stopped at the budget, sent nothing after it, and saved where it was.
    expect(calledAt.filter((t) => t < start + 1000)).toHaveLength(10);
    expect(summary.status).toBe('continuing');
    expect(summary.requests).toBe(10);
    expect(summary.counts).toMatchObject({ deleted: 50, failed: 0 });
    expect(summary.settled).toBe(50);
    expect(summary.continuation).toMatchObject({ resumeAfter: 50 });
    expect(sentFirst.size).toBe(50);
    expect(ids.slice(50).every((id) => left.has(id) && !sentFirst.has(id))).toBe(true);
    // The second finished it: one report over both invocations, each ID counted once.
    expect(final.status).toBe('completed');
    expect(final.invocations).toBe(2);
    expect(final.counts).toMatchObject({ received: 100, deleted: 100, failed: 0 });
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(0);
    expect(await failedRows(final.report.failed)).toEqual([]);
  });

  it('abandons a hanging request when the budget ends, long before REQUEST_TIMEOUT_MS, so the report is still written', async () => {
    // Prepare: a budget of 0.4 s; the request timeout is a minute.
    const ids = imageIds('budget-hang', 5);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.injectFaults({ action: 'hang' });
    const deps = stackDeps(stack, { REQUEST_TIMEOUT_MS: '60000' });

    // Act: the chunk starts within the budget (0.4 s), and hangs past it.
    const result = { summary: (await runCleanupJob({ target: v1, imageIds: ids }, { type: 'manual' }, deps, testBudget({ stopRetryingAt: Date.now() + 400 }))).summary };

    // Assess
    expect(stack.emulator.requests.map((r) => r.errorCode)).toEqual(['HANG']);
    const hung = stack.emulator.requests[0]!;
    expect(hung.answeredAt - hung.receivedAt).toBeLessThan(60_000);
    expect(result.summary.counts).toMatchObject({ deleted: 0, failed: 5 });
    const rows = await failedRows(result.summary.report.failed);
    expect(rows[0]).toMatchObject({ error_code: 'TIMEOUT' });
    expect(rows[0]?.error_message).toContain('time budget');
  });
});
