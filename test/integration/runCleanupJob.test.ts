import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import { readResults } from '../support/readResults.js';
import { imageIds, readS3Text, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: the pipeline against the real local servers (fauxqs S3, the ModelArts emulator).
const PROJECT = '0123456789abcdef0123456789abcdef';
const JOB = '282';
const target = { projectId: PROJECT, dataAnnotationId: JOB };

const stack = useLocalStack();

beforeEach(() => {
  stack.emulator.requests.length = 0;
  Object.assign(stack.emulator.settings, { latencyMs: 0, latencyJitterMs: 0, maxBatchSize: 1000, v1UnknownIds: 'fail_batch' });
});

async function completed(event: unknown, env: Record<string, string> = {}) {
  const result = await runManualInvocation(event, stackDeps(stack, env));
  if (result.status !== 'completed') throw new Error(`expected a completed job, got ${JSON.stringify(result.status === 'rejected' ? result.error : result.status)}`);
  return result;
}

describe('runCleanupJob against the local stack', () => {
  it('deletes exactly the named images, in chunks no larger than the chunk size, and reports every entry', async () => {
    // Prepare
    const keep = imageIds('keep', 150);
    const remove = imageIds('remove', 1050);
    stack.emulator.seedLabellingJob(PROJECT, JOB, [...keep, ...remove]);

    // Act
    const result = await completed({ target, imageIds: remove, options: { chunkSize: 70 } });

    // Assess
    const left = stack.emulator.labellingJobImages(PROJECT, JOB);
    expect(remove.filter((id) => left.has(id))).toEqual([]);
    expect(keep.every((id) => left.has(id))).toBe(true);
    expect(result.summary.counts).toEqual({ received: 1050, deleted: 1050, already_deleted: 0, failed: 0, invalid: 0, duplicate: 0, skipped: 0, would_delete: 0 });
    expect(Math.max(...stack.emulator.requests.map((r) => r.imageIds.length))).toBeLessThanOrEqual(70);
    expect(stack.emulator.requests).toHaveLength(Math.ceil(1050 / 70));
    expect(result.summary.requests).toBe(stack.emulator.requests.length);
    const summary: unknown = JSON.parse(await readS3Text(stack.s3, result.report.summary));
    expect(summary).toEqual(result.summary);
  });

  it('never has more requests in flight than maxInFlight, and does use them', async () => {
    // Prepare
    const ids = imageIds('flight', 2000);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.settings.latencyMs = 15;
    stack.emulator.settings.latencyJitterMs = 10;

    // Act
    const result = await completed({ target, imageIds: ids, options: { chunkSize: 50, maxInFlight: 3 } });

    // Assess
    expect(result.summary.counts.deleted).toBe(2000);
    expect(stack.emulator.maxInFlightSeen).toBeLessThanOrEqual(3);
    expect(stack.emulator.maxInFlightSeen).toBeGreaterThan(1);
  });

  it('retries HTTP 500 and 429 with Retry-After, and the images end deleted', async () => {
    // Prepare
    const ids = imageIds('transient', 30);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.injectFaults({ status: 500, times: 2 }, { status: 429, retryAfterSeconds: 1 }, { status: 503 });
    const started = Date.now();

    // Act
    const result = await completed({ target, imageIds: ids, options: { chunkSize: 30, maxInFlight: 1 } });

    // Assess
    expect(result.summary.counts.deleted).toBe(30);
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(0);
    expect(stack.emulator.requests.map((r) => r.status)).toEqual([500, 500, 429, 503, 200]);
    expect(result.summary.retries).toBe(4);
    expect(result.summary.throttled).toBe(1);
    // The retry after the 429 waited for Retry-After (1 s), not for the 1-5 ms backoff of this test.
    const afterThrottle = stack.emulator.requests[3]!.receivedAt - stack.emulator.requests[2]!.answeredAt;
    expect(afterThrottle).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('does not retry a permanent failure, and reports its IDs as failed with the API error code', async () => {
    // Prepare
    const ids = imageIds('permanent', 5);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.injectFaults({ status: 403, errorCode: 'ModelArts.4803', errorMessage: 'The dataset has unfinished label tasks.' });

    // Act
    const result = await completed({ target, imageIds: ids });

    // Assess
    expect(stack.emulator.requests).toHaveLength(1);
    expect(result.summary.counts).toMatchObject({ deleted: 0, failed: 5 });
    expect(result.summary.status).toBe('completed_with_failures');
    const rows = parse<Record<string, string>>(await readS3Text(stack.s3, result.report.failed), { columns: true });
    expect(rows.map((row) => row.image_id)).toEqual(ids);
    expect(new Set(rows.map((row) => row.error_code))).toEqual(new Set(['ModelArts.4803']));
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(5);
  });

  it('does not retry a 400 on a single ID: one request, failed with ModelArts.0104', async () => {
    // Prepare
    const [id] = imageIds('bad-request', 1);
    stack.emulator.seedLabellingJob(PROJECT, JOB, [id!]);
    stack.emulator.injectFaults({ status: 400, errorCode: 'ModelArts.0104', errorMessage: 'Invalid parameter.' });

    // Act
    const result = await completed({ target, imageIds: [id] });

    // Assess
    expect(stack.emulator.requests).toHaveLength(1);
    expect(result.summary.counts.failed).toBe(1);
    expect(result.summary.retries).toBe(0);
  });

  it('isolates unknown IDs inside an all-or-nothing v1 batch: the others are deleted, the unknown end already_deleted', async () => {
    // Prepare
    const present = imageIds('present', 97);
    const gone = imageIds('gone', 3);
    stack.emulator.seedLabellingJob(PROJECT, JOB, present);

    // Act
    const result = await completed({ target, imageIds: [...present.slice(0, 40), gone[0], ...present.slice(40, 80), gone[1], gone[2], ...present.slice(80)] });

    // Assess
    expect(result.summary.counts).toMatchObject({ deleted: 97, already_deleted: 3, failed: 0 });
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(0);
    // Bisection bound for k bad IDs in a chunk of n: about 2·k·log2(n) extra requests.
    expect(result.summary.requests).toBeLessThanOrEqual(1 + 2 * 3 * Math.ceil(Math.log2(100)));
  });

  it('reports invalid and repeated entries, sends only valid IDs, and the counts add up to the entries received', async () => {
    // Prepare
    const ids = imageIds('mixed', 10);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    const entries = [ids[0], 'xyz', ids[1], ids[0], 42, ids[2]!.toUpperCase(), ...ids.slice(1)];

    // Act
    const result = await completed({ target, imageIds: entries });

    // Assess
    expect(result.summary.counts).toEqual({ received: entries.length, deleted: 10, already_deleted: 0, failed: 0, invalid: 2, duplicate: 3, skipped: 0, would_delete: 0 });
    // The upper-case ID was normalised (and then repeated later in the list).
    expect(result.summary.normalized).toBe(1);
    const sent = stack.emulator.requests.flatMap((r) => r.imageIds);
    expect(sent.sort()).toEqual([...ids].sort());
    const rows = parse<Record<string, string>>(await readS3Text(stack.s3, result.report.failed), { columns: true });
    const targetColumns = { project_id: PROJECT, data_annotation_id: JOB, dataset_id: '' };
    expect(rows).toEqual([
      { image_id: 'xyz', outcome: 'invalid', error_code: 'INVALID_IMAGE_ID', error_message: 'expected 32 hexadecimal characters, got 3', line: '2', ...targetColumns },
      { image_id: '42', outcome: 'invalid', error_code: 'INVALID_IMAGE_ID', error_message: 'expected a string, got a number', line: '5', ...targetColumns },
    ]);
  });

  it('deletes from a v2 dataset with the same outcomes as v1', async () => {
    // Prepare
    const present = imageIds('v2-present', 20);
    const gone = imageIds('v2-gone', 2);
    stack.emulator.seedDataset(PROJECT, 'WxCREuCkBSAlQr9xrde', present);

    // Act
    const result = await completed({ target: { projectId: PROJECT, datasetId: 'WxCREuCkBSAlQr9xrde' }, imageIds: [...gone, ...present] });

    // Assess
    expect(result.summary.counts).toMatchObject({ deleted: 20, already_deleted: 2, failed: 0 });
    expect(stack.emulator.datasetSamples(PROJECT, 'WxCREuCkBSAlQr9xrde').size).toBe(0);
    expect(stack.emulator.requests).toHaveLength(1);
    expect(result.summary.target).toEqual({ api: 'v2', projectId: PROJECT, datasetId: 'WxCREuCkBSAlQr9xrde', deleteSource: false });
  });
});

describe('jobs that fail validation as a whole', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a missing target', { imageIds: imageIds('v', 1) }, 'target'],
    ['IDs that are not an array', { target, imageIds: 'abc' }, 'imageIds'],
    ['an empty list', { target, imageIds: [] }, 'imageIds'],
    ['a chunk size over the bound', { target, imageIds: imageIds('v', 1), options: { chunkSize: 1001 } }, 'options.chunkSize'],
    ['a target with both v1 and v2 IDs', { target: { ...target, datasetId: 'abc' }, imageIds: imageIds('v', 1) }, 'target'],
    ['a project ID that would change the path', { target: { projectId: '../x', dataAnnotationId: '1' }, imageIds: imageIds('v', 1) }, 'target.projectId'],
  ];

  it.each(cases)('rejects %s, naming the field, and deletes nothing', async (_label, event, path) => {
    // Prepare
    const ids = imageIds('v', 1);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);

    // Act
    const result = await runManualInvocation(event, stackDeps(stack));

    // Assess
    expect(result.status).toBe('rejected');
    if (result.status !== 'rejected') return;
    expect(result.error.code).toBe('INVALID_JOB');
    expect(result.error.issues.map((issue) => issue.path)).toContain(path);
    expect(result.error.message).toContain(path);
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(1);
  });
});

describe("job options cannot loosen the deployment's limits", () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, string>, string, string]> = [
    ['maxInFlight above MAX_IN_FLIGHT', { maxInFlight: 5 }, { MAX_IN_FLIGHT: '4' }, 'options.maxInFlight', "expected at most 4, this deployment's MAX_IN_FLIGHT; got 5"],
    ['a failure rate above FAILURE_THRESHOLD_RATE', { failureThreshold: { minAttempted: 10, maxFailureRate: 0.9 } }, {}, 'options.failureThreshold', 'maxFailureRate at most 0.5 (FAILURE_THRESHOLD_RATE)'],
    ['a minAttempted above FAILURE_THRESHOLD_MIN_ATTEMPTED', { failureThreshold: { minAttempted: 5000, maxFailureRate: 0.1 } }, {}, 'options.failureThreshold', 'minAttempted at most 1000 (FAILURE_THRESHOLD_MIN_ATTEMPTED)'],
    ['a not-found rate above NOT_FOUND_THRESHOLD_RATE', { notFoundThreshold: { maxNotFoundRate: 0.95 } }, {}, 'options.notFoundThreshold.maxNotFoundRate', 'expected at most 0.9 (NOT_FOUND_THRESHOLD_RATE)'],
    ['a not-found minAttempted above NOT_FOUND_THRESHOLD_MIN_ATTEMPTED', { notFoundThreshold: { minAttempted: 50 } }, { NOT_FOUND_THRESHOLD_MIN_ATTEMPTED: '20' }, 'options.notFoundThreshold.minAttempted', 'expected at most 20 (NOT_FOUND_THRESHOLD_MIN_ATTEMPTED)'],
  ];

  it.each(cases)('refuses %s, naming the field and the limit, and deletes nothing', async (_label, options, env, path, message) => {
    // Prepare
    const ids = imageIds('limits', 3);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);

    // Act
    const result = await runManualInvocation({ target, imageIds: ids, options }, stackDeps(stack, env));

    // Assess
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'INVALID_JOB', issues: [{ path, message: expect.stringContaining(message) as unknown }] } });
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(3);
  });

  it('runs options that tighten the limits, as the summary states them', async () => {
    // Prepare
    const ids = imageIds('tighter', 3);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);

    // Act
    const result = await completed({ target, imageIds: ids, options: { maxInFlight: 2, failureThreshold: { minAttempted: 1000, maxFailureRate: 0.5 } } }, { MAX_IN_FLIGHT: '2' });

    // Assess
    expect(result.summary.options).toMatchObject({ maxInFlight: 2, failureThreshold: { minAttempted: 1000, maxFailureRate: 0.5 } });
    expect(result.summary.counts.deleted).toBe(3);
  });

  it("runs a stricter not-found threshold: a wrong target is stopped after the job's minAttempted, the deployment's rate kept", async () => {
    // Prepare: 300 IDs of another labelling job; the deployment judges after 100, this job after 20.
    const ids = imageIds('stricter-not-found', 300);
    stack.emulator.seedLabellingJob(PROJECT, '283', ids);
    stack.emulator.seedLabellingJob(PROJECT, JOB, imageIds('stricter-not-found-others', 5));

    // Act: one chunk of 20 at a time, so the job is judged after its first chunk.
    const result = await runManualInvocation({ target, imageIds: ids, options: { chunkSize: 20, maxInFlight: 1, notFoundThreshold: { minAttempted: 20 } } }, stackDeps(stack));

    // Assess: two chunks in progress at most when the first settles (2 x maxInFlight), then the rest skipped.
    if (result.status !== 'completed') throw new Error(`expected a finished job, got ${JSON.stringify(result)}`);
    expect(result.summary.status).toBe('stopped_not_found');
    expect(result.summary.options.notFoundThreshold).toEqual({ minAttempted: 20, maxNotFoundRate: 0.9 });
    expect(result.summary.stop).toMatchObject({ kind: 'not_found_threshold', attempted: 20, notFound: 20 });
    expect(result.summary.counts.skipped).toBeGreaterThanOrEqual(300 - 2 * 20);
    expect(stack.emulator.labellingJobImages(PROJECT, '283').size).toBe(300);
  });

  it('refuses deleteSource: true unless the ALLOWED_TARGETS entry of the dataset ends in +deleteSource, and runs it where it does', async () => {
    // Prepare
    const ids = imageIds('delete-source', 4);
    stack.emulator.seedDataset(PROJECT, 'ds-source', ids);
    const job = { target: { projectId: PROJECT, datasetId: 'ds-source', deleteSource: true }, imageIds: ids };

    // Act
    const refused = await Promise.all([
      runManualInvocation(job, stackDeps(stack, { ALLOWED_TARGETS: '*' })),
      runManualInvocation(job, stackDeps(stack, { ALLOWED_TARGETS: `${PROJECT}/dataset:ds-source` })),
      runManualInvocation(job, stackDeps(stack, { ALLOWED_TARGETS: `${PROJECT}/dataset:other+deleteSource` })),
    ]);
    const requestsWhenRefused = stack.emulator.requests.length;
    const ran = await completed(job, { ALLOWED_TARGETS: `${PROJECT}/dataset:ds-source+deleteSource` });

    // Assess
    expect(refused.map((r) => (r.status === 'rejected' ? r.error.issues.map((i) => i.path) : r.status))).toEqual([['target.deleteSource'], ['target.deleteSource'], ['target']]);
    expect(refused[0]).toMatchObject({ error: { message: expect.stringContaining('its ALLOWED_TARGETS entry has no "+deleteSource"') as unknown } });
    expect(requestsWhenRefused).toBe(0);
    expect(ran.summary.target).toEqual({ api: 'v2', projectId: PROJECT, datasetId: 'ds-source', deleteSource: true });
    expect(stack.emulator.datasetSamples(PROJECT, 'ds-source').size).toBe(0);
  });
});

describe('a refusal of the whole job by the service (ModelArts.4204, API not subscribed)', () => {
  // Every delete is refused 4204 (issue 13: permanent, whole job): before, each chunk failed on its
  // own and only the failure threshold, after 1,000 attempts, could end the job.
  const notSubscribed = { status: 403, errorCode: 'ModelArts.4204', errorMessage: 'API not subscribed (injected).', times: 1000 };

  it.each([
    ['v1', (ids: string[]) => stack.emulator.seedLabellingJob(PROJECT, JOB, ids), target, () => stack.emulator.labellingJobImages(PROJECT, JOB)],
    ['v2', (ids: string[]) => stack.emulator.seedDataset(PROJECT, 'ds-4204', ids), { projectId: PROJECT, datasetId: 'ds-4204' }, () => stack.emulator.datasetSamples(PROJECT, 'ds-4204')],
  ] as const)('stops a %s job after the chunks in progress when it met it, the rest skipped (SERVICE_REFUSED), status stopped_service_refused', async (_api, seed, jobTarget, store) => {
    // Prepare: 2,000 IDs in chunks of 100; MAX_IN_FLIGHT 4, so at most 8 chunks in progress.
    const ids = imageIds(`not-subscribed-${_api}`, 2000);
    seed(ids);
    stack.emulator.injectFaults(notSubscribed);

    // Act
    const result = await runManualInvocation({ target: jobTarget, imageIds: ids, options: { chunkSize: 100 } }, stackDeps(stack, { MAX_IN_FLIGHT: '4' }));
    stack.emulator.clearFaults();

    // Assess
    if (result.status !== 'completed') throw new Error(`expected a finished job, got ${JSON.stringify(result)}`);
    const { summary } = result;
    console.info(`ModelArts.4204 on a ${_api} job of 2,000 IDs: ${summary.requests} requests, ${JSON.stringify(summary.counts)}`);
    expect(summary.status).toBe('stopped_service_refused');
    expect(summary.stop).toMatchObject({ kind: 'service_refused', code: 'ModelArts.4204', crossing: expect.stringContaining('ModelArts.4204') as unknown });
    expect(summary.stopReason).toContain('the service refused the job as a whole');
    expect(summary.requests).toBeLessThanOrEqual(2 * 4);
    expect(summary.requests).toBe(stack.emulator.requests.length);
    expect(summary.counts).toMatchObject({ received: 2000, deleted: 0, failed: summary.requests * 100, skipped: 2000 - summary.requests * 100 });
    expect(store().size).toBe(2000);
    const failed = parse<Record<string, string>>(await readS3Text(stack.s3, summary.report.failed), { columns: true });
    expect(failed).toHaveLength(summary.counts.failed);
    expect(new Set(failed.map((row) => row.error_code))).toEqual(new Set(['ModelArts.4204']));
    const skipped = (await readResults(stack.s3, summary.report.results)).filter((line) => line.outcome === 'skipped');
    expect(skipped).toHaveLength(summary.counts.skipped);
    for (const line of skipped) expect(line.error_code).toBe('SERVICE_REFUSED');
  });

  it('is left to the failure threshold where the deployment re-classifies the code (EXTRA_ERROR_CODES)', async () => {
    // Prepare
    const ids = imageIds('not-subscribed-reclassified', 300);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.injectFaults(notSubscribed);

    // Act
    const result = await runManualInvocation({ target, imageIds: ids, options: { chunkSize: 100 } }, stackDeps(stack, { EXTRA_ERROR_CODES: 'whole_request:ModelArts.4204' }));
    stack.emulator.clearFaults();

    // Assess: every chunk sent once (never bisected), none skipped.
    if (result.status !== 'completed') throw new Error(`expected a finished job, got ${JSON.stringify(result)}`);
    expect(result.summary.status).toBe('completed_with_failures');
    expect(result.summary.counts).toMatchObject({ failed: 300, skipped: 0 });
    expect(result.summary.requests).toBe(3);
  });

  it('leaves other permanent whole-request refusals (ModelArts.4352, dataset missing) to the failure threshold', async () => {
    // Prepare: 3 chunks refused 4352, then the rest deleted.
    const ids = imageIds('dataset-missing', 600);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.injectFaults({ status: 400, errorCode: 'ModelArts.4352', errorMessage: 'Dataset does not exist (injected).', times: 3 });

    // Act
    const result = await runManualInvocation({ target, imageIds: ids, options: { chunkSize: 100, maxInFlight: 1 } }, stackDeps(stack));
    stack.emulator.clearFaults();

    // Assess
    if (result.status !== 'completed') throw new Error(`expected a finished job, got ${JSON.stringify(result)}`);
    expect(result.summary.status).toBe('completed_with_failures');
    expect(result.summary.counts).toMatchObject({ deleted: 300, failed: 300, skipped: 0 });
  });
});
