import { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import { continueCleanupJob, runCleanupJob } from '../../lib/job/runCleanupJob.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import { createModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import { readJobSummary } from '../../lib/report/readJobSummary.js';
import { reportLocation } from '../../lib/report/ReportLocation.js';
import { runScaleOutPart } from '../../lib/scaleout/runScaleOutPart.js';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { scaleOutLayout } from '../../lib/scaleout/scaleOutLayout.js';
import { scaleOutPlanSchema } from '../../lib/scaleout/scaleOutPlanSchema.js';
import { seededRandom } from '../../local/emulator/seededRandom.js';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { clockedModelArts } from '../support/clockedModelArts.js';
import { failingS3 } from '../support/failingS3.js';
import { readResults } from '../support/readResults.js';
import { imageIds, readS3Text, stackDeps } from '../support/stackDeps.js';
import { testBudget } from '../support/testBudget.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { virtualClock, type AdvancingClock } from '../support/virtualClock.js';

// Integration: replay situation 7 of issue 12 (docs/replays.md section 7) against the real local
// servers: a v1 job sent to the wrong, existing labelling job, and a re-run whose IDs are all gone.
// v1 answers for a whole batch, so every batch of such a job is refused "not found" and, before the
// bisection budget, was split down to single IDs: 3,980 requests for 2,000 IDs, status `completed`.
const PROJECT = '0123456789abcdef0123456789abcdef';
const RIGHT = '282';
const WRONG = '283';
const stack = useLocalStack();

beforeEach(() => {
  stack.emulator.requests.length = 0;
  Object.assign(stack.emulator.settings, { latencyMs: 0, latencyJitterMs: 0, randomFaults: undefined, auth: 'none', maxBatchSize: 1000, v1UnknownIds: 'fail_batch', v1UnknownIdCode: 'ModelArts.4420' });
});

// The deployment defaults (MAX_IN_FLIGHT 4, so 8 chunks in progress; BISECT_MAX_REFUSALS 32): the
// chunks in progress when the first one settles are the most a wrong target can cost.
const CHUNKS_IN_PROGRESS = 2 * 4;
const MAX_REFUSALS = 32;

/**
 * The report agrees with the target's store for every ID it names: nothing it calls deleted or
 * already gone is still there, nothing it skipped was touched, the counts add up, and failed.csv
 * lists exactly the failed IDs, each with a code.
 */
async function assessAgreesWithStore(summary: JobSummary, left: ReadonlySet<string>): Promise<void> {
  const lines = await readResults(stack.s3, summary.report.results);
  for (const line of lines) {
    if (line.outcome === 'deleted' || line.outcome === 'already_deleted') expect(left.has(line.image_id), `${line.image_id} reported ${line.outcome}`).toBe(false);
  }
  const { received, ...outcomes } = summary.counts;
  expect(Object.values(outcomes).reduce((sum, count) => sum + count, 0)).toBe(received);
  expect(lines).toHaveLength(received);
  const failedRows = parse<Record<string, string>>(await readS3Text(stack.s3, summary.report.failed), { columns: true });
  expect(failedRows.map((row) => row.image_id).sort()).toEqual(lines.filter((line) => line.outcome === 'failed').map((line) => line.image_id).sort());
  for (const row of failedRows) expect(row.error_code).not.toBe('');
  expect(summary.requests).toBe(stack.emulator.requests.length);
}

describe('a v1 job on the wrong, existing labelling job (replay situation 7)', () => {
  it('stops with its own status after at most a few hundred requests, and deletes nothing', async () => {
    // Prepare: the IDs belong to job 282; the job names 283, which exists and holds other images.
    const ids = imageIds('situation-7', 2000);
    const others = imageIds('situation-7-others', 500);
    stack.emulator.seedLabellingJob(PROJECT, RIGHT, ids);
    stack.emulator.seedLabellingJob(PROJECT, WRONG, others);

    // Act
    const { summary } = await runCleanupJob({ target: { projectId: PROJECT, dataAnnotationId: WRONG }, imageIds: ids }, { type: 'manual' }, stackDeps(stack));

    // Assess
    console.info(`situation 7: ${summary.requests} requests for 2,000 IDs on the wrong labelling job; counts ${JSON.stringify(summary.counts)}; ${summary.stopReason ?? ''}`);
    expect(summary.status).toBe('stopped_not_found');
    expect(summary.stop).toMatchObject({ kind: 'not_found_threshold' });
    expect(summary.stopReason).toMatch(/not found/);
    expect(summary.requests).toBeLessThanOrEqual(CHUNKS_IN_PROGRESS * MAX_REFUSALS);
    expect(summary.counts).toMatchObject({ received: 2000, deleted: 0 });
    // Nothing deleted anywhere: the wrong job keeps its images, the right one all 2,000.
    expect(stack.emulator.labellingJobImages(PROJECT, WRONG)).toEqual(new Set(others));
    expect(stack.emulator.labellingJobImages(PROJECT, RIGHT)).toEqual(new Set(ids));
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, WRONG));
    const lines = await readResults(stack.s3, summary.report.results);
    // An ID whose batch was refused "not found" but that was never sent alone is not claimed gone.
    for (const line of lines.filter((l) => l.outcome === 'failed')) expect(line.error_code).toBe('NOT_FOUND_UNRESOLVED');
    for (const line of lines.filter((l) => l.outcome === 'skipped')) expect(line.error_code).toBe('NOT_FOUND_THRESHOLD');
    expect(summary.counts.skipped).toBeGreaterThanOrEqual(2000 - CHUNKS_IN_PROGRESS * 100);
  });

  it('a re-run whose IDs are all gone costs the budget per chunk, not two requests per ID, and claims none gone that was not isolated', async () => {
    // Prepare: every ID already gone from the right job; the deployment's not-found threshold off,
    // so every chunk is attempted and the budget alone bounds the cost.
    const ids = imageIds('situation-7-rerun', 2000);
    stack.emulator.seedLabellingJob(PROJECT, RIGHT, imageIds('situation-7-rerun-others', 10));

    // Act
    const { summary } = await runCleanupJob({ target: { projectId: PROJECT, dataAnnotationId: RIGHT }, imageIds: ids }, { type: 'manual' }, stackDeps(stack, { NOT_FOUND_THRESHOLD_RATE: '1' }));

    // Assess
    console.info(`situation 7, re-run with every ID gone: ${summary.requests} requests for 2,000 IDs (before the budget: 3,980)`);
    expect(summary.status).toBe('completed_with_failures');
    expect(summary.requests).toBe((2000 / 100) * MAX_REFUSALS);
    expect(summary.counts.deleted).toBe(0);
    expect(summary.counts.already_deleted + summary.counts.failed).toBe(2000);
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, RIGHT));
    const lines = await readResults(stack.s3, summary.report.results);
    for (const line of lines.filter((l) => l.outcome === 'failed')) expect(line.error_code).toBe('NOT_FOUND_UNRESOLVED');
  });
});

describe('a re-run after a crash (replay situation 7, the other side)', () => {
  it('is not taken for a wrong target: the IDs the crashed invocation deleted are found gone, and the job completes', async () => {
    // Prepare: the first invocation deletes every ID, then cannot write its summary (an S3 outage,
    // injected by a wrapper: fauxqs cannot fail one write), so it throws and leaves no checkpoint.
    const ids = imageIds('situation-7-crash', 2000);
    stack.emulator.seedLabellingJob(PROJECT, RIGHT, ids);
    const jobId = `crash-rerun-${randomUUID()}`;
    const job = { jobId, target: { projectId: PROJECT, dataAnnotationId: RIGHT }, imageIds: ids };
    const broken = failingS3(stack.s3, `reports/${jobId}/summary.json`);
    broken.failWrite(0);
    await expect(runCleanupJob(job, { type: 'manual' }, stackDeps(stack, {}, { s3: broken.s3 }))).rejects.toThrow();
    expect(broken.failed).toContain('summary.json');
    expect(stack.emulator.labellingJobImages(PROJECT, RIGHT).size).toBe(0);
    stack.emulator.requests.length = 0;

    // Act: the redelivery, with the deployment's default not-found threshold.
    const { summary } = await runCleanupJob(job, { type: 'manual' }, stackDeps(stack));

    console.info(`crash re-run: ${summary.status} ${summary.requests} requests ${JSON.stringify(summary.counts)} ${summary.stopReason ?? ""}`);
    // Assess: not stopped as a wrong target; nothing claimed deleted; the cost bounded by the budget.
    expect(summary.status).not.toBe('stopped_not_found');
    expect(summary.counts).toMatchObject({ received: 2000, deleted: 0, skipped: 0 });
    expect(summary.counts.already_deleted + summary.counts.failed).toBe(2000);
    expect(summary.requests).toBeLessThanOrEqual((2000 / 100) * MAX_REFUSALS);
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, RIGHT));
  });
});

/** Production deps on a virtual clock: every request moves it 10 ms, so a budget cuts a job after a known number of requests. */
function virtualDeps(env: Record<string, string>): { deps: CleanupDeps; clock: AdvancingClock } {
  const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(7), sleeps: 'advance' });
  const config = loadConfig({ ...stack.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', ...env });
  const modelArts = clockedModelArts(createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: 5_000, now: () => clock.now() }), clock, 10);
  const deps = createCleanupDeps(config, { s3: stack.s3, sqs: stack.sqs, clock, modelArts, logger: new Logger({ serviceName: 'image-cleanup-test', logLevel: 'SILENT' }) });
  delete deps.metrics;
  return { deps, clock };
}

describe('the not-found threshold', () => {
  it('keeps its counts across a deadline cut: the continuation stops as soon as the whole job crossed it', async () => {
    // Prepare: judged after 300 IDs; one request in flight at a time, two chunks of 100 in progress.
    // The first invocation is cut at once: it settles the one or two chunks it started (not found).
    const ids = imageIds('situation-7-cut', 1000);
    stack.emulator.seedLabellingJob(PROJECT, WRONG, imageIds('situation-7-cut-others', 10));
    const { deps, clock } = virtualDeps({ NOT_FOUND_THRESHOLD_MIN_ATTEMPTED: '300' });
    const job = { jobId: 'situation-7-cut', target: { projectId: PROJECT, dataAnnotationId: WRONG }, imageIds: ids, options: { maxInFlight: 1 } };

    // Act
    const cut = await runCleanupJob(job, { type: 'manual' }, deps, testBudget({ stopStartingAt: clock.now() + 10 }, clock.now()), { continuation: false });
    const { summary } = await continueCleanupJob(cut.summary.jobId, deps, testBudget({}, clock.now()), { continuation: false });

    // Assess: the continuation crosses 300 counting the first invocation's attempts, and the chunk in
    // progress then settles too: 400 attempted. Counting from zero again it would stop at 500 or 600.
    expect(cut.summary.status).toBe('continuing');
    expect([100, 200]).toContain(cut.summary.settled);
    expect(summary.status).toBe('stopped_not_found');
    expect(summary.stop).toMatchObject({ kind: 'not_found_threshold', attempted: 300, notFound: 300 });
    const { deleted, already_deleted: alreadyDeleted, failed, skipped } = summary.counts;
    expect(deleted + alreadyDeleted + failed).toBe(400);
    expect(skipped).toBe(600);
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, WRONG));
  });

  it('stops a v2 job on the wrong, existing dataset too, at one request per chunk', async () => {
    // Prepare: v2 answers per sample, so every ID is settled already_deleted without bisection.
    const ids = imageIds('situation-7-v2', 2000);
    stack.emulator.seedDataset(PROJECT, 'right-dataset', ids);
    stack.emulator.seedDataset(PROJECT, 'wrong-dataset', imageIds('situation-7-v2-others', 50));

    // Act
    const { summary } = await runCleanupJob({ target: { projectId: PROJECT, datasetId: 'wrong-dataset' }, imageIds: ids }, { type: 'manual' }, stackDeps(stack));

    // Assess
    console.info(`situation 7 on v2: ${summary.requests} requests for 2,000 IDs on the wrong dataset`);
    expect(summary.status).toBe('stopped_not_found');
    expect(summary.requests).toBeLessThanOrEqual(CHUNKS_IN_PROGRESS);
    expect(summary.counts).toMatchObject({ deleted: 0, already_deleted: summary.requests * 100, failed: 0, skipped: 2000 - summary.requests * 100 });
    expect(stack.emulator.datasetSamples(PROJECT, 'right-dataset').size).toBe(2000);
    await assessAgreesWithStore(summary, stack.emulator.datasetSamples(PROJECT, 'wrong-dataset'));
  });

  // The stop marker carries the threshold's kind: the parts after the one that crossed it settle
  // their IDs skipped without a request, and the assembled summary says stopped_not_found.
  it('a split job stops every part once one crossed it, and its final report says stopped_not_found', async () => {
    // Prepare: 600 IDs in 3 parts of 200, judged after 20 IDs, on the wrong labelling job.
    const ids = imageIds('situation-7-split', 600);
    stack.emulator.seedLabellingJob(PROJECT, RIGHT, ids);
    stack.emulator.seedLabellingJob(PROJECT, WRONG, imageIds('situation-7-split-others', 10));
    const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `wrong-target-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 1 });
    const deps = stackDeps(stack, { WORK_QUEUE_URL: workQueueUrl, NOT_FOUND_THRESHOLD_MIN_ATTEMPTED: '20' });
    const key = `uploads/situation-7-split-${randomUUID().slice(0, 8)}.txt`;
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: ids.join('\n') }));
    const jobId = `situation-7-split-${randomUUID().slice(0, 8)}`;
    await runCleanupJob({ jobId, target: { projectId: PROJECT, dataAnnotationId: WRONG }, manifest: `s3://${stack.env.MANIFEST_BUCKET}/${key}`, options: { chunkSize: 20, maxInFlight: 1, scaleOut: { partSize: 200 } } }, { type: 'manual' }, deps);
    stack.emulator.requests.length = 0;

    // Act
    const one = await runScaleOutPart(jobId, 1, { type: 'queue', source: 'w1' }, deps, testBudget());
    const requestsAfterPartOne = stack.emulator.requests.length;
    await runScaleOutPart(jobId, 2, { type: 'queue', source: 'w2' }, deps, testBudget());
    await runScaleOutPart(jobId, 3, { type: 'queue', source: 'w3' }, deps, testBudget());
    const summary = await readJobSummary(stack.s3, reportLocation(stack.env.REPORT_BUCKET!, 'reports/', jobId));

    // Assess
    expect(one.summary.status).toBe('stopped_not_found');
    expect(stack.emulator.requests).toHaveLength(requestsAfterPartOne);
    expect(summary?.status).toBe('stopped_not_found');
    expect(summary?.stop).toMatchObject({ kind: 'not_found_threshold', part: 1 });
    expect(summary?.counts).toMatchObject({ received: 600, deleted: 0 });
    expect(summary?.counts.skipped).toBeGreaterThanOrEqual(400);
    expect(stack.emulator.labellingJobImages(PROJECT, RIGHT)).toEqual(new Set(ids));
    await assessAgreesWithStore(summary!, stack.emulator.labellingJobImages(PROJECT, WRONG));
  });

  it("a split job's part does not take IDs NOT_FOUND_UNRESOLVED for failures: with the not-found threshold off, no part stops the others", async () => {
    // Prepare: a re-run whose IDs are all gone, in 3 parts of about 40; one refusal per chunk
    // (BISECT_MAX_REFUSALS 1), so every ID ends failed NOT_FOUND_UNRESOLVED; the job's failure
    // threshold judged after 20. A single job would not stop (those are not failures): nor may a part.
    const ids = imageIds('situation-7-split-unresolved', 120);
    stack.emulator.seedLabellingJob(PROJECT, RIGHT, imageIds('situation-7-split-unresolved-others', 5));
    const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `unresolved-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 1 });
    const deps = stackDeps(stack, { WORK_QUEUE_URL: workQueueUrl, NOT_FOUND_THRESHOLD_RATE: '1', BISECT_MAX_REFUSALS: '1' });
    const key = `uploads/situation-7-unresolved-${randomUUID().slice(0, 8)}.txt`;
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: ids.join('\n') }));
    const jobId = `situation-7-unresolved-${randomUUID().slice(0, 8)}`;
    await runCleanupJob({ jobId, target: { projectId: PROJECT, dataAnnotationId: RIGHT }, manifest: `s3://${stack.env.MANIFEST_BUCKET}/${key}`, options: { chunkSize: 20, maxInFlight: 1, scaleOut: { partSize: 40 }, failureThreshold: { minAttempted: 20, maxFailureRate: 0.5 } } }, { type: 'manual' }, deps);
    stack.emulator.requests.length = 0;
    // Parts are hash slots of about 40 IDs each: how many chunks each sends is read from the plan.
    const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET!, 'reports/', jobId));
    const plan = await readS3Json(stack.s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema);
    expect(plan?.parts.length).toBeGreaterThan(1);

    // Act
    for (const { part } of plan!.parts) await runScaleOutPart(jobId, part, { type: 'queue', source: `w${part}` }, deps, testBudget());
    const summary = await readJobSummary(stack.s3, reportLocation(stack.env.REPORT_BUCKET!, 'reports/', jobId));

    // Assess: every part sent its chunks (one request each); nothing skipped.
    expect(stack.emulator.requests).toHaveLength(plan!.parts.reduce((sum, part) => sum + Math.ceil(part.entries / 20), 0));
    expect(summary?.status).toBe('completed_with_failures');
    expect(summary?.counts).toMatchObject({ received: 120, failed: 120, skipped: 0 });
    for (const line of await readResults(stack.s3, summary!.report.results)) expect(line.error_code).toBe('NOT_FOUND_UNRESOLVED');
  });
});
