import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { cancelRequestKey, readCancelRequest, type CancelRequest } from '../../lib/job/cancelRequest.js';
import { continueCleanupJob, runCleanupJob } from '../../lib/job/runCleanupJob.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import type { ModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { jobProgressSchema } from '../../lib/report/jobProgressSchema.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import { reportLocation } from '../../lib/report/ReportLocation.js';
import { listKeys } from '../../lib/aws/listKeys.js';
import { planScaleOut } from '../../lib/scaleout/planScaleOut.js';
import { runScaleOutPart } from '../../lib/scaleout/runScaleOutPart.js';
import { requestCancel } from '../../local/cli/requestCancel.js';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { readResults } from '../support/readResults.js';
import { imageIds, stackDeps } from '../support/stackDeps.js';
import { takeMessages } from '../support/takeMessages.js';
import { testBudget } from '../support/testBudget.js';
import { useLocalStack } from '../support/useLocalStack.js';

// A cancel request (cancel.json) against the local stack and the ModelArts emulator: honoured by
// an unsplit run, a paused job's continuation, every part of a split job, and a plan being made;
// the report says `cancelled`, every entry ends once (deleted, or skipped CANCELLED with its
// line), and the emulator's store agrees. The cancel is written from inside the run, at a chosen
// request, by a wrapper around the real client (the emulator still answers every request): so
// "halfway" is a count of requests, never a timing.
const PROJECT = 'ca0ce1000000000000000000000000aa';
const stack = useLocalStack();

beforeEach(() => {
  stack.emulator.requests.length = 0;
});

const request = (jobId: string): CancelRequest => ({ formatVersion: 1, jobId, requestedAt: new Date().toISOString(), requestedBy: 'test@cancel', reason: 'wrong list' });
const locationOf = (jobId: string) => reportLocation(stack.env.REPORT_BUCKET!, 'reports/', jobId);

/** Deps whose client writes the job's cancel request before it sends request number `at` (1-based); looks every 1 ms. */
function cancellingAt(jobId: string, at: number, env: Record<string, string> = {}, overrides: Partial<CleanupDeps> = {}): CleanupDeps {
  const deps = stackDeps(stack, { CANCEL_CHECK_MS: '1', ...env }, overrides);
  let sent = 0;
  const client: ModelArtsClient = {
    async deleteBatch(target, ids, options) {
      sent += 1;
      if (sent === at) await requestCancel(stack.s3, locationOf(jobId), request(jobId));
      return deps.modelArts.deleteBatch(target, ids, options);
    },
  };
  return { ...deps, modelArts: client };
}

async function putManifest(lines: readonly string[]): Promise<string> {
  const key = `uploads/cancel-${randomUUID().slice(0, 8)}.txt`;
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: lines.join('\n') }));
  return `s3://${stack.env.MANIFEST_BUCKET}/${key}`;
}

/** Every entry's outcome once, the store holding exactly the IDs not deleted. */
async function expectTrueReport(summary: JobSummary, ids: readonly string[], store: ReadonlySet<string>): Promise<Map<string, string>> {
  const lines = await readResults(stack.s3, summary.report.results);
  const byId = new Map(lines.map((line) => [line.image_id, line]));
  expect(lines).toHaveLength(ids.length);
  expect(byId.size).toBe(ids.length);
  for (const line of lines) {
    expect(['deleted', 'skipped']).toContain(line.outcome);
    if (line.outcome === 'skipped') expect(line.error_code).toBe('CANCELLED');
    expect(store.has(line.image_id)).toBe(line.outcome === 'skipped');
  }
  expect(summary.counts.deleted + summary.counts.skipped).toBe(ids.length);
  expect(store.size).toBe(summary.counts.skipped);
  // Nothing asked of the service after the cancel is skipped: no skipped ID was ever sent.
  const sent = new Set(stack.emulator.requests.flatMap((r) => r.imageIds));
  for (const line of lines) if (line.outcome === 'skipped') expect(sent.has(line.image_id)).toBe(false);
  return new Map(lines.map((line) => [line.image_id, line.outcome]));
}

describe('cancelling a job', () => {
  it('stops an unsplit job at the cancel: no request after it is seen, the rest skipped CANCELLED, the store agrees', async () => {
    // Prepare: 4,000 IDs in chunks of 100 (40 requests); the cancel written before the 6th
    const ids = imageIds('cancel-unsplit', 4_000);
    stack.emulator.seedLabellingJob(PROJECT, 'unsplit', ids);
    const deps = cancellingAt('cancel-unsplit', 6);

    // Act
    const { summary } = await runCleanupJob({ jobId: 'cancel-unsplit', target: { projectId: PROJECT, dataAnnotationId: 'unsplit' }, manifest: await putManifest(ids), options: { chunkSize: 100, maxInFlight: 2 } }, { type: 'manual' }, deps, testBudget());

    // Assess
    expect(summary.status).toBe('cancelled');
    expect(summary.stop).toMatchObject({ kind: 'cancelled', requestedBy: 'test@cancel' });
    expect(summary.stopReason).toMatch(/^cancelled at .+ by test@cancel \(wrong list\): \d+ IDs not attempted are skipped \(CANCELLED\)/);
    expect(summary.counts.deleted).toBeGreaterThanOrEqual(500);
    expect(summary.counts.skipped).toBeGreaterThan(0);
    await expectTrueReport(summary, ids, stack.emulator.labellingJobImages(PROJECT, 'unsplit'));
    const progress = await readS3Json(stack.s3, stack.env.REPORT_BUCKET!, 'reports/cancel-unsplit/progress.json', jobProgressSchema);
    expect(progress).toMatchObject({ state: 'done', status: 'cancelled', settled: 4_000 });
  });

  it('sends nothing for a job cancelled before it starts, and a cancel asked twice keeps the first request', async () => {
    // Prepare
    const ids = imageIds('cancel-first', 300);
    stack.emulator.seedLabellingJob(PROJECT, 'first', ids);
    const first = await requestCancel(stack.s3, locationOf('cancel-first'), request('cancel-first'));
    const second = await requestCancel(stack.s3, locationOf('cancel-first'), { ...request('cancel-first'), requestedBy: 'someone@else' });

    // Act
    const { summary } = await runCleanupJob({ jobId: 'cancel-first', target: { projectId: PROJECT, dataAnnotationId: 'first' }, manifest: await putManifest(ids), options: { chunkSize: 50 } }, { type: 'manual' }, stackDeps(stack), testBudget());

    // Assess
    expect(first.written).toBe(true);
    expect(second).toEqual({ written: false, request: first.request });
    expect(stack.emulator.requests).toHaveLength(0);
    expect(summary).toMatchObject({ status: 'cancelled', counts: { received: 300, deleted: 0, skipped: 300 } });
    await expectTrueReport(summary, ids, stack.emulator.labellingJobImages(PROJECT, 'first'));
  });

  it('cancels a paused job in its continuation, before it sends anything more', async () => {
    // Prepare: the first invocation cut by the deadline after its first chunks
    const ids = imageIds('cancel-paused', 600);
    stack.emulator.seedLabellingJob(PROJECT, 'paused', ids);
    const deps = stackDeps(stack, { CANCEL_CHECK_MS: '1' });
    let starts = 0;
    const cutDeps: CleanupDeps = { ...deps, modelArts: { deleteBatch: (target, batch, options) => ((starts += 1), deps.modelArts.deleteBatch(target, batch, options)) } };
    const input = { jobId: 'cancel-paused', target: { projectId: PROJECT, dataAnnotationId: 'paused' }, manifest: await putManifest(ids), options: { chunkSize: 100, maxInFlight: 1 } };
    const paused = await runCleanupJob(input, { type: 'manual' }, { ...cutDeps, clock: { ...deps.clock, now: () => (starts >= 2 ? Date.now() + 3_600_000 : Date.now()) } }, testBudget({ stopStartingAt: Date.now() + 600_000 }), { continuation: false });
    const sentBefore = stack.emulator.requests.length;
    await requestCancel(stack.s3, locationOf('cancel-paused'), request('cancel-paused'));

    // Act
    const { summary } = await continueCleanupJob('cancel-paused', deps, testBudget(), { continuation: false });

    // Assess
    expect(paused.summary.status).toBe('continuing');
    expect(sentBefore).toBe(2);
    expect(stack.emulator.requests).toHaveLength(sentBefore);
    expect(summary).toMatchObject({ status: 'cancelled', invocations: 2, counts: { received: 600, deleted: 200, skipped: 400 } });
    await expectTrueReport(summary, ids, stack.emulator.labellingJobImages(PROJECT, 'paused'));
  });

  it('stops every part of a split job: the parts running and those starting later, and the job ends cancelled', async () => {
    // Prepare: 3,000 IDs in parts of ~1,000; part 1 runs until its 4th request writes the cancel
    const ids = imageIds('cancel-split', 3_000);
    stack.emulator.seedLabellingJob(PROJECT, 'split', ids);
    const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `cancel-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 30 });
    const deps = cancellingAt('cancel-split', 4, { WORK_QUEUE_URL: workQueueUrl });
    const planned = await runCleanupJob({ jobId: 'cancel-split', target: { projectId: PROJECT, dataAnnotationId: 'split' }, manifest: await putManifest(ids), options: { chunkSize: 100, maxInFlight: 1, scaleOut: { partSize: 1_000 } } }, { type: 'manual' }, deps, testBudget());
    const messages = await takeMessages(stack.sqs, workQueueUrl);

    // Act: the parts one after the other, as workers taking their messages would
    const parts = [];
    for (let part = 1; part <= messages.length; part += 1) parts.push(await runScaleOutPart('cancel-split', part, { type: 'queue', source: `w${part}` }, deps, testBudget()));

    // Assess
    expect(planned.summary.status).toBe('continuing');
    expect(messages.length).toBeGreaterThanOrEqual(3);
    const completion = parts.at(-1)!.completion;
    const summary = completion?.kind === 'assembled' ? completion.summary : expect.fail('the last part did not assemble');
    expect(parts.map((p) => p.summary.status)).toEqual(messages.map(() => 'cancelled'));
    expect(summary.status).toBe('cancelled');
    expect(summary.stop).toMatchObject({ kind: 'cancelled', parts: messages.length });
    expect(summary.stopReason).toContain(`${messages.length} of ${messages.length} parts stopped`);
    // Part 1 sent 3 requests, then the 4th after writing the cancel; every later part sent none.
    expect(stack.emulator.requests.length).toBeLessThanOrEqual(5);
    expect(summary.counts.deleted).toBeGreaterThanOrEqual(300);
    await expectTrueReport(summary, ids, stack.emulator.labellingJobImages(PROJECT, 'split'));
  });

  it('ends a job cancelled while it is planned: nothing queued or deleted, its entries counted skipped, the plan\'s files gone', async () => {
    // Prepare: a manifest planned in windows of ~4 lines, cut after each; the cancel after the first
    const ids = imageIds('cancel-plan', 40);
    const lines = [...ids.slice(0, 20), 'not-an-id', ...ids.slice(20)];
    stack.emulator.seedLabellingJob(PROJECT, 'plan', ids);
    const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `cancel-plan-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 30 });
    const deps = stackDeps(stack, { WORK_QUEUE_URL: workQueueUrl }, { planScaleOut: (job, d, budget) => planScaleOut(job, d, budget, { windowBytes: 200 }) });
    const input = { jobId: 'cancel-plan', target: { projectId: PROJECT, dataAnnotationId: 'plan' }, manifest: await putManifest(lines), options: { chunkSize: 10, scaleOut: { partSize: 10 } } };
    const first = await runCleanupJob(input, { type: 'manual' }, deps, testBudget({ stopStartingAt: 0 }), { continuation: false });
    await requestCancel(stack.s3, locationOf('cancel-plan'), request('cancel-plan'));

    // Act
    const { summary } = await continueCleanupJob('cancel-plan', deps, testBudget({ stopStartingAt: 0 }), { continuation: false });

    // Assess
    expect(first.summary.status).toBe('continuing');
    expect(summary.status).toBe('cancelled');
    expect(summary.stop).toMatchObject({ kind: 'cancelled', notReached: 41 });
    expect(summary.counts).toMatchObject({ received: 41, deleted: 0, skipped: 41 });
    expect(summary.stopReason).toContain('while the job was being split: nothing was deleted');
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, 'plan').size).toBe(40);
    expect(await takeMessages(stack.sqs, workQueueUrl)).toEqual([]);
    const left: string[] = [];
    for await (const key of listKeys(stack.s3, stack.env.REPORT_BUCKET!, 'reports/cancel-plan/')) left.push(key.replace('reports/cancel-plan/', ''));
    expect(left.sort()).toEqual(['cancel.json', 'failed.csv', 'job.json', 'progress.json', 'results.jsonl.gz', 'summary.json']);
    expect(await readCancelRequest(stack.s3, locationOf('cancel-plan'))).toMatchObject({ requestedBy: 'test@cancel' });
    expect(cancelRequestKey(locationOf('cancel-plan'))).toBe('reports/cancel-plan/cancel.json');
  });
});
