import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readS3Json } from '../../../lib/aws/readS3Json.js';
import { writeS3Json } from '../../../lib/aws/writeS3Json.js';
import { JobValidationError } from '../../../lib/core/errors.js';
import { writeCheckpoint } from '../../../lib/job/jobCheckpoint.js';
import { prepareJob } from '../../../lib/job/prepareJob.js';
import type { CleanupDeps, CleanupResult, PlanningPaused, PreparedJob } from '../../../lib/job/types.js';
import { jobSummarySchema } from '../../../lib/report/jobSummary.js';
import { jobProgressSchema } from '../../../lib/scaleout/jobProgressSchema.js';
import { ensurePartManifest } from '../../../lib/scaleout/ensurePartManifest.js';
import { planSlot } from '../../../lib/scaleout/planPartition.js';
import { planScaleOut } from '../../../lib/scaleout/planScaleOut.js';
import { scaleOutLayout, type ScaleOutLayout } from '../../../lib/scaleout/scaleOutLayout.js';
import { scaleOutPlanSchema, type ScaleOutPlan } from '../../../lib/scaleout/scaleOutPlanSchema.js';
import { createWorkQueues } from '../../../local/stack/createWorkQueues.js';
import { capturingLogger } from '../../support/capturingLogger.js';
import { imageIds, stackDeps } from '../../support/stackDeps.js';
import { readS3Bytes } from '../../support/readS3Bytes.js';
import { takeMessages } from '../../support/takeMessages.js';
import { useLocalStack } from '../../support/useLocalStack.js';
import { virtualClock } from '../../support/virtualClock.js';

// The planner against the local stack (fauxqs S3 and SQS): it is called directly on a prepared
// job; the parts' runs and the final assembly are test/integration/scaleOut.test.ts's.
const PROJECT = 'cc0f0990a56f4a1b9e41c85e79cc511c';
const target = { projectId: PROJECT, dataAnnotationId: '282' };
const T0 = Date.UTC(2026, 11, 2, 9, 0, 0);
const stack = useLocalStack();
let bucket: string;

beforeAll(() => {
  bucket = stack.env.MANIFEST_BUCKET!;
});

/** Deps on the stack with a work queue of the test's own, so its messages are its alone. */
async function depsWithQueue(env: Record<string, string> = {}, overrides: Partial<CleanupDeps> = {}): Promise<{ deps: CleanupDeps; queueUrl: string }> {
  const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `plan-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 30 });
  const deps = stackDeps(stack, { WORK_QUEUE_URL: workQueueUrl, SCALE_OUT_THRESHOLD: '1000', ...env }, { clock: virtualClock({ start: T0, sleeps: 'advance' }), ...overrides });
  return { deps, queueUrl: workQueueUrl };
}

async function putManifest(lines: readonly string[]): Promise<string> {
  const key = `uploads/plan-${randomUUID().slice(0, 8)}.txt`;
  await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: lines.join('\n') }));
  return `s3://${bucket}/${key}`;
}

async function prepared(input: unknown, deps: CleanupDeps): Promise<PreparedJob> {
  const result = await prepareJob({ input, trigger: { type: 'manual' }, access: {} }, deps);
  if (result.kind !== 'ready') expect.fail('expected a job ready to run');
  return result.job;
}

/** Takes every message off a queue, bodies parsed. */
function reportBytes(key: string): Promise<Buffer> {
  return readS3Bytes(stack.s3, stack.env.REPORT_BUCKET, key);
}

/** The planner's answer, which must be a job's answer (not a planning paused, nor no split). */
function answered(result: CleanupResult | PlanningPaused | undefined): CleanupResult {
  if (result === undefined || 'kind' in result) return expect.fail(`expected the job's answer, got ${JSON.stringify(result)}`);
  return result;
}

async function readPlan(layout: ScaleOutLayout): Promise<ScaleOutPlan | undefined> {
  return readS3Json(stack.s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema);
}

// Lines as real lists hold them. Lines 1–12: valid a0 a1, invalid, a2, a1 again, A3 in upper case
// (normalised), a blank line, a4 a5 a6, invalid, the first invalid again.
function messyManifest(label: string): { lines: string[]; ids: string[] } {
  const ids = imageIds(label, 7);
  const lines = [ids[0]!, ids[1]!, 'not-an-id', ids[2]!, ids[1]!, ids[3]!.toUpperCase(), '', ids[4]!, ids[5]!, ids[6]!, 'xyz', 'not-an-id'];
  return { lines, ids };
}

describe('planScaleOut: splitting', () => {
  it('settles invalid entries itself and routes every valid occurrence, with its line, to its ID\'s hash slot\'s part', async () => {
    // Prepare
    const { lines, ids } = messyManifest('split');
    const { deps, queueUrl } = await depsWithQueue();
    const job = await prepared({ jobId: 'plan-split', target, manifest: await putManifest(lines), options: { scaleOut: { partSize: 3 } } }, deps);
    const layout = scaleOutLayout(job.location);
    // The valid occurrences (line 5 repeats a1: its part, which holds line 2 too, settles it), by hash slot of 11 entries / 3.
    const valid: Array<[string, number]> = [[ids[0]!, 1], [ids[1]!, 2], [ids[2]!, 4], [ids[1]!, 5], [ids[3]!, 6], [ids[4]!, 8], [ids[5]!, 9], [ids[6]!, 10]];
    const bySlot = [0, 1, 2, 3].map((slot) => valid.filter(([id]) => planSlot(id, 4) === slot)).filter((group) => group.length > 0);

    // Act
    const result = await planScaleOut(job, deps);

    // Assess: the plan.
    const plan = await readPlan(layout);
    expect(plan).toMatchObject({ jobId: 'plan-split', entries: 11, partSize: 3, queued: true, manifest: job.source.manifest, manifestETag: job.source.manifestETag, plannedAt: new Date(T0).toISOString() });
    expect(plan!.parts).toEqual(bySlot.map((group, i) => ({ part: i + 1, key: layout.partManifestKey(i + 1), entries: group.length, firstLine: group[0]![1], lastLine: group.at(-1)![1], slot: planSlot(group[0]![0], 4) + 1 })));
    expect(plan!.screened).toEqual({ counts: { deleted: 0, already_deleted: 0, failed: 0, invalid: 2, duplicate: 1, skipped: 0, would_delete: 0 }, normalized: 1 });
    const partEntries = plan!.parts.reduce((sum, part) => sum + part.entries, 0);
    expect(partEntries + 3).toBe(plan!.entries);

    // The part manifests (built from their segments, as a part's worker does first): JSON Lines with the original lines.
    for (const part of plan!.parts) expect(await ensurePartManifest(plan!, part.part, layout, stack.s3)).toBe('built');
    const partLines = await Promise.all(plan!.parts.map(async (part) => (await reportBytes(part.key)).toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as unknown)));
    expect(partLines).toEqual(bySlot.map((group) => group.map(([id, line]) => ({ image_id: id, line }))));

    // "Part 0": what the planner settled, in the job's report files (repeats are only counted: docs/report-format.md).
    const screened = gunzipSync(await reportBytes(layout.screened.resultsKey)).toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { line: number; outcome: string });
    expect(screened.map((line) => [line.line, line.outcome])).toEqual([[3, 'invalid'], [11, 'invalid']]);
    expect((await reportBytes(layout.screened.failedKey)).toString('utf8').trimEnd().split('\n')).toHaveLength(1 + 2);

    // One message per part.
    expect((await takeMessages(stack.sqs, queueUrl)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(plan!.parts.map(({ part }) => ({ runPart: { jobId: 'plan-split', part } })));

    // The answer for now.
    const summary = answered(result).summary;
    expect(jobSummarySchema.safeParse(summary).success).toBe(true);
    expect(summary).toMatchObject({
      jobId: 'plan-split',
      status: 'continuing',
      stop: { kind: 'split', parts: plan!.parts.length },
      counts: { received: 11, invalid: 2, duplicate: 1, deleted: 0 },
      settled: 3,
      normalized: 1,
      scaleOut: { parts: plan!.parts.length, partSize: 3, plan: `s3://${layout.job.bucket}/${layout.planKey}`, progress: `s3://${layout.job.bucket}/${layout.progressKey}` },
    });
    expect(summary.stopReason).toBe(summary.stop!.reason);
    expect(await readS3Json(stack.s3, layout.job.bucket, layout.progressKey, jobProgressSchema)).toMatchObject({ jobId: 'plan-split', state: 'running', entries: 11, settled: 3, parts: { total: plan!.parts.length, done: 0, running: 0, waiting: plan!.parts.length } });
  });

  it('makes no part of a hash slot that got no ID: parts are numbered without gaps', async () => {
    // Prepare: 6 IDs in parts of 1 are 6 slots, of which these IDs fill 3 (slots 1, 3 and 4, 0-based; 0, 2 and 5 stay empty).
    const ids = imageIds('empty-slot', 6);
    expect(new Set(ids.map((id) => planSlot(id, 6)))).toEqual(new Set([1, 3, 4]));
    const { deps, queueUrl } = await depsWithQueue();
    const job = await prepared({ jobId: 'plan-empty-slot', target, manifest: await putManifest(ids), options: { scaleOut: { partSize: 1 } } }, deps);

    // Act
    const result = await planScaleOut(job, deps);

    // Assess
    expect((await readPlan(scaleOutLayout(job.location)))!.parts.map((part) => [part.part, part.slot, part.entries])).toEqual([[1, 2, 1], [2, 4, 3], [3, 5, 2]]);
    expect(answered(result).summary.stop).toMatchObject({ kind: 'split', parts: 3 });
    expect(await takeMessages(stack.sqs, queueUrl)).toHaveLength(3);
  });

  it('splits a job over SCALE_OUT_THRESHOLD into parts of SCALE_OUT_PART_SIZE without being asked', async () => {
    // Prepare
    const { deps } = await depsWithQueue({ SCALE_OUT_THRESHOLD: '4', SCALE_OUT_PART_SIZE: '2' });
    const job = await prepared({ jobId: 'plan-threshold', target, manifest: await putManifest(imageIds('threshold', 5)) }, deps);

    // Act
    const result = await planScaleOut(job, deps);

    // Assess
    expect(answered(result).summary.scaleOut).toMatchObject({ parts: 3, partSize: 2 });
  });

  it('reuses a plan already written: the same answer, nothing planned or sent again', async () => {
    // Prepare
    const { deps, queueUrl } = await depsWithQueue();
    const job = await prepared({ jobId: 'plan-again', target, manifest: await putManifest(imageIds('again', 5)), options: { scaleOut: { partSize: 2 } } }, deps);
    const first = await planScaleOut(job, deps);
    const firstMessages = await takeMessages(stack.sqs, queueUrl);
    const planBefore = await readPlan(scaleOutLayout(job.location));

    // Act: later, and with another part size asked for.
    const later = { ...deps, clock: virtualClock({ start: T0 + 3_600_000, sleeps: 'advance' }) };
    const again = await planScaleOut({ ...job, job: { ...job.job, options: { ...job.job.options, scaleOut: { partSize: 4 } } } }, later);

    // Assess
    expect(firstMessages).toHaveLength(3);
    expect(await takeMessages(stack.sqs, queueUrl)).toEqual([]);
    expect(await readPlan(scaleOutLayout(job.location))).toEqual(planBefore);
    expect(answered(again).summary.scaleOut).toEqual(answered(first).summary.scaleOut);
    expect(answered(again).summary.counts).toEqual(answered(first).summary.counts);
  });

  it('sends the messages again when the plan was written but not marked queued (a crash in between)', async () => {
    // Prepare
    const { deps, queueUrl } = await depsWithQueue();
    const job = await prepared({ jobId: 'plan-requeue', target, manifest: await putManifest(imageIds('requeue', 4)), options: { scaleOut: { partSize: 2 } } }, deps);
    await planScaleOut(job, deps);
    await takeMessages(stack.sqs, queueUrl);
    const layout = scaleOutLayout(job.location);
    const plan = (await readPlan(layout))!;
    await writeS3Json(stack.s3, layout.job.bucket, layout.planKey, { ...plan, queued: false });

    // Act
    await planScaleOut(job, deps);

    // Assess
    expect(await takeMessages(stack.sqs, queueUrl)).toHaveLength(2);
    expect(await readPlan(layout)).toEqual(plan);
  });
});

describe('planScaleOut: leaving a job unsplit', () => {
  it('never splits an inline job, even when asked to', async () => {
    // Prepare
    const { deps, queueUrl } = await depsWithQueue({ SCALE_OUT_THRESHOLD: '1' });
    const job = await prepared({ jobId: 'plan-inline', target, imageIds: imageIds('inline', 5), options: { scaleOut: true } }, deps);

    // Act
    const result = await planScaleOut(job, deps);

    // Assess
    expect(result).toBeUndefined();
    expect(await readPlan(scaleOutLayout(job.location))).toBeUndefined();
    expect(await takeMessages(stack.sqs, queueUrl)).toEqual([]);
  });

  it('does not split with scaleOut: false, whatever the size', async () => {
    // Prepare
    const { deps } = await depsWithQueue({ SCALE_OUT_THRESHOLD: '1' });
    const job = await prepared({ jobId: 'plan-false', target, manifest: await putManifest(imageIds('false', 5)), options: { scaleOut: false } }, deps);

    // Act
    const result = await planScaleOut(job, deps);

    // Assess
    expect(result).toBeUndefined();
    expect(await readPlan(scaleOutLayout(job.location))).toBeUndefined();
  });

  it('does not split a job at SCALE_OUT_THRESHOLD entries (only above it)', async () => {
    // Prepare
    const { deps } = await depsWithQueue({ SCALE_OUT_THRESHOLD: '5', SCALE_OUT_PART_SIZE: '2' });
    const job = await prepared({ jobId: 'plan-at-threshold', target, manifest: await putManifest(imageIds('at', 5)) }, deps);

    // Act
    const result = await planScaleOut(job, deps);

    // Assess
    expect(result).toBeUndefined();
  });

  it('runs a big job unsplit, with a warning, when the deployment has no work queue', async () => {
    // Prepare
    const { logger, lines } = capturingLogger();
    const { deps } = await depsWithQueue({ SCALE_OUT_THRESHOLD: '2' }, { logger });
    const noQueue: CleanupDeps = { ...deps, sqs: undefined };
    const job = await prepared({ jobId: 'plan-no-queue', target, manifest: await putManifest(imageIds('no-queue', 5)) }, noQueue);

    // Act
    const result = await planScaleOut(job, noQueue);

    // Assess
    expect(result).toBeUndefined();
    expect(lines.filter((line) => line.level === 'WARN').map((line) => line.message)).toEqual(['job above SCALE_OUT_THRESHOLD runs unsplit: no WORK_QUEUE_URL']);
  });

  it('refuses a split asked for when the deployment has no work queue', async () => {
    // Prepare
    const { deps } = await depsWithQueue();
    const noQueue: CleanupDeps = { ...deps, sqs: undefined };
    const job = await prepared({ jobId: 'plan-refused', target, manifest: await putManifest(imageIds('refused', 5)), options: { scaleOut: true } }, noQueue);

    // Act
    const planning = planScaleOut(job, noQueue);

    // Assess
    await expect(planning).rejects.toBeInstanceOf(JobValidationError);
    await expect(planning).rejects.toMatchObject({ issues: [{ path: 'options.scaleOut' }] });
  });

  it('leaves a job that already started unsplit (it has a checkpoint) as it is', async () => {
    // Prepare
    const { deps } = await depsWithQueue();
    const job = await prepared({ jobId: 'plan-started', target, manifest: await putManifest(imageIds('started', 5)), options: { scaleOut: true } }, deps);
    const zero = { deleted: 0, already_deleted: 0, failed: 0, invalid: 0, duplicate: 0, skipped: 0, would_delete: 0 };
    await writeCheckpoint(stack.s3, job.location.bucket, job.location.checkpointKey, {
      formatVersion: 1,
      jobId: 'plan-started',
      jobIdSource: 'idempotency_key',
      job: job.input,
      trigger: job.trigger,
      resumeAfter: 2,
      invocations: 1,
      counts: { ...zero, deleted: 2 },
      normalized: 0,
      stats: { requests: 1, retries: 0, throttled: 0 },
      threshold: { attempted: 2, failed: 0 },
      latency: { buckets: [], count: 0, maxMs: 0 },
      startedAt: T0,
    });

    // Act
    const result = await planScaleOut(job, deps);

    // Assess
    expect(result).toBeUndefined();
    expect(await readPlan(scaleOutLayout(job.location))).toBeUndefined();
  });
});

describe('planScaleOut: a job with nothing valid to split', () => {
  // Once a defect (pinned by an `it.fails` here): a plan of 0 parts sent no message and answered
  // `continuing` — "summary.json is written when the last part ends" — but no part would ever end.
  it('completes at once with the entries it settled, and its progress says done', async () => {
    // Prepare
    const { deps, queueUrl } = await depsWithQueue();
    const job = await prepared({ jobId: 'plan-nothing-valid', target, manifest: await putManifest(['IMG_0001.jpg', 'IMG_0002.jpg', 'IMG_0001.jpg']), options: { scaleOut: true } }, deps);

    // Act
    const result = await planScaleOut(job, deps);

    // Assess: not waiting for parts that do not exist: the summary is written, and nothing was queued.
    const messages = await takeMessages(stack.sqs, queueUrl);
    expect(messages).toEqual([]);
    expect(answered(result).summary).toMatchObject({ status: 'completed_with_failures', counts: { received: 3, invalid: 2, duplicate: 1 }, settled: 3 });
    const layout = scaleOutLayout(job.location);
    expect(await readS3Json(stack.s3, layout.job.bucket, layout.job.summaryKey, jobSummarySchema)).toMatchObject({ status: 'completed_with_failures', counts: { received: 3 } });
    expect(await readS3Json(stack.s3, layout.job.bucket, layout.progressKey, jobProgressSchema)).toMatchObject({ state: 'done', parts: { total: 0 } });
  });
});
