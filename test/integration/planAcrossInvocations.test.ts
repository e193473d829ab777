import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { prepareJob } from '../../lib/job/prepareJob.js';
import { continueCleanupJob, runCleanupJob } from '../../lib/job/runCleanupJob.js';
import { PLAN_CHECKPOINT_NAME, type CleanupDeps, type CleanupResult, type PlanningPaused, type PreparedJob } from '../../lib/job/types.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import { reportLocation } from '../../lib/report/ReportLocation.js';
import { ensurePartManifest } from '../../lib/scaleout/ensurePartManifest.js';
import { jobProgressSchema } from '../../lib/scaleout/jobProgressSchema.js';
import { planSlot, planSlots } from '../../lib/scaleout/planPartition.js';
import { planScaleOut } from '../../lib/scaleout/planScaleOut.js';
import { runScaleOutPart } from '../../lib/scaleout/runScaleOutPart.js';
import { scaleOutLayout, type ScaleOutLayout } from '../../lib/scaleout/scaleOutLayout.js';
import { scaleOutPlanSchema, type ScaleOutPlan } from '../../lib/scaleout/scaleOutPlanSchema.js';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { imageIds, stackDeps } from '../support/stackDeps.js';
import { testBudget } from '../support/testBudget.js';
import { readS3Bytes } from '../support/readS3Bytes.js';
import { takeMessages } from '../support/takeMessages.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Acceptance of issue 14 against the local stack (fauxqs S3 and SQS) and the ModelArts emulator:
// planning cut by the deadline after every window (windows of ~4 lines instead of 64 MiB, the
// one knob tests turn) goes on in new invocations from its checkpoint, and repeats far apart —
// in another planning invocation, past what would have been other parts' lines — are still settled
// `duplicate` by the part that holds every occurrence of their ID.
const PROJECT = 'ab0f0990a56f4a1b9e41c85e79cc5100';
const WINDOW_BYTES = 200;
const stack = useLocalStack();
let bucket: string;

beforeAll(() => {
  bucket = stack.env.MANIFEST_BUCKET!;
});
beforeEach(() => {
  stack.emulator.requests.length = 0;
});

/** The real planner with tiny windows, so a cut after each window is many invocations. */
const tinyWindows: CleanupDeps['planScaleOut'] = (job, deps, budget) => planScaleOut(job, deps, budget, { windowBytes: WINDOW_BYTES });

async function depsWithQueue(): Promise<{ deps: CleanupDeps; queueUrl: string }> {
  const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `plan-cut-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 30 });
  return { deps: stackDeps(stack, { WORK_QUEUE_URL: workQueueUrl }, { planScaleOut: tinyWindows }), queueUrl: workQueueUrl };
}

async function putManifest(lines: readonly string[]): Promise<string> {
  const key = `uploads/plan-cut-${randomUUID().slice(0, 8)}.txt`;
  await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: lines.join('\n') }));
  return `s3://${bucket}/${key}`;
}

function reportBytes(key: string): Promise<Buffer> {
  return readS3Bytes(stack.s3, stack.env.REPORT_BUCKET, key);
}

const keyOf = (uri: string): string => uri.replace(`s3://${stack.env.REPORT_BUCKET}/`, '');

/**
 * 40 IDs, 2 invalid entries, and repeats at the end (lines 42–47) of lines 1 (twice), 26, 11 (in upper
 * case) and of the invalid entry of line 21: 47 lines, windows of 4 valid lines or fewer.
 */
function farRepeats(label: string): { lines: string[]; ids: string[] } {
  const ids = imageIds(label, 40);
  const lines = [...ids.slice(0, 20), 'bad-1', ...ids.slice(20), ids[0]!, ids[25]!, 'bad-1', ids[10]!.toUpperCase(), 'bad-2', ids[0]!];
  return { lines, ids };
}

/** Each distinct entry (normalised) with the line it first appears on: what results.jsonl.gz must hold. */
function firstLines(lines: readonly string[]): Map<string, number> {
  const first = new Map<string, number>();
  lines.forEach((line, i) => {
    const entry = /^[0-9a-fA-F]{32}$/.test(line) ? line.toLowerCase() : line;
    if (!first.has(entry)) first.set(entry, i + 1);
  });
  return first;
}

async function prepared(input: unknown, deps: CleanupDeps): Promise<PreparedJob> {
  const result = await prepareJob({ input, trigger: { type: 'manual' }, access: {} }, deps);
  if (result.kind !== 'ready') expect.fail('expected a job ready to run');
  return result.job;
}

async function readPlan(layout: ScaleOutLayout): Promise<ScaleOutPlan> {
  const plan = await readS3Json(stack.s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema);
  if (plan === undefined) return expect.fail('no plan.json');
  return plan;
}

describe('planning across invocations', () => {
  it('settles repeats far apart, in other planning invocations, as duplicate: every ID ends exactly once with its first line, the store agrees', async () => {
    // Prepare
    const { lines, ids } = farRepeats('far');
    stack.emulator.seedLabellingJob(PROJECT, 'far', ids);
    const { deps, queueUrl } = await depsWithQueue();
    const jobId = `far-${randomUUID().slice(0, 8)}`;
    const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET!, 'reports/', jobId));
    const cut = () => testBudget({ stopStartingAt: 0 }); // every window ends past stopStartingAt

    // Act: the job's first invocation, then each continuation it queues, as the queue handler would run them.
    let answer: CleanupResult = await runCleanupJob({ jobId, target: { projectId: PROJECT, dataAnnotationId: 'far' }, manifest: await putManifest(lines), options: { chunkSize: 4, scaleOut: { partSize: 8 } } }, { type: 'manual' }, deps, cut());
    const paused: JobSummary[] = [];
    const planning: unknown[] = [];
    while (answer.summary.stop?.kind === 'deadline') {
      paused.push(answer.summary);
      planning.push((await readS3Json(stack.s3, layout.job.bucket, layout.progressKey, jobProgressSchema))?.state);
      expect(await takeMessages(stack.sqs, queueUrl)).toEqual([{ continueJob: jobId }]);
      answer = await continueCleanupJob(jobId, deps, cut());
    }
    const partMessages = await takeMessages(stack.sqs, queueUrl);
    let final: JobSummary | undefined;
    for (const message of partMessages as Array<{ runPart: { part: number } }>) {
      const run = await runScaleOutPart(jobId, message.runPart.part, { type: 'queue', source: 'worker' }, deps, testBudget());
      if (run.completion?.kind === 'assembled') final = run.completion.summary;
    }

    // Assess: planning took an invocation per window, each answered `continuing` with its continuation queued.
    const plan = await readPlan(layout);
    expect(plan.windows).toBeGreaterThan(5);
    expect(paused).toHaveLength(plan.windows! - 1);
    expect(paused.every((summary) => summary.status === 'continuing' && summary.continuation?.queued === true)).toBe(true);
    const reached = paused.map((summary) => summary.continuation?.resumeAfter ?? 0);
    expect(reached.every((line, i) => line > (reached[i - 1] ?? 0) && line < 47)).toBe(true);
    expect(planning).toEqual(Array(paused.length).fill('planning'));
    expect(answer.summary.stop).toMatchObject({ kind: 'split', parts: plan.parts.length });
    expect(partMessages).toHaveLength(plan.parts.length);
    // The repeats were planned invocations after their first occurrence, beyond the lines of what consecutive parts of 8 would have been.
    const slots = planSlots(plan.entries, plan.partSize);
    for (const id of [ids[0]!, ids[10]!, ids[25]!]) {
      const part = plan.parts.find((p) => p.slot === planSlot(id, slots) + 1)!;
      expect(part.lastLine).toBeGreaterThan(41);
    }
    // The job: 47 entries, 40 deleted, 2 invalid, 5 repeats (4 valid, settled by their parts; 1 invalid, by the planner).
    expect(final).toBeDefined();
    expect(final!.counts).toEqual({ received: 47, deleted: 40, already_deleted: 0, failed: 0, invalid: 2, duplicate: 5, skipped: 0, would_delete: 0 });
    const results = gunzipSync(await reportBytes(keyOf(final!.report.results))).toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { image_id: string; outcome: string; line: number });
    expect(new Map(results.map((r) => [r.image_id, r.line]))).toEqual(firstLines(lines));
    expect(results).toHaveLength(42); // one line per distinct entry: none lost, none twice across planning invocations
    expect(results.filter((r) => r.outcome === 'invalid').map((r) => [r.image_id, r.line])).toEqual([['bad-1', 21], ['bad-2', 46]]);
    const failedRows = (await reportBytes(keyOf(final!.report.failed))).toString('utf8').trimEnd().split('\n');
    expect(failedRows).toHaveLength(1 + 2);
    // Every ID sent exactly once, and the emulator's store agrees with the report.
    const sent = stack.emulator.requests.flatMap((request) => request.imageIds);
    expect(sent.sort()).toEqual([...ids].sort());
    expect(stack.emulator.labellingJobImages(PROJECT, 'far').size).toBe(0);
    expect(results.filter((r) => r.outcome === 'deleted').map((r) => r.image_id).sort()).toEqual([...ids].sort());
  });

  it('resumes a planning pass cut by the deadline into the plan an uncut pass makes: the same parts, part manifests and part 0', async () => {
    // Prepare: one manifest, planned by two jobs.
    const { lines } = farRepeats('same-plan');
    const manifest = await putManifest(lines);
    const { deps } = await depsWithQueue();
    const options = { scaleOut: { partSize: 8 } };
    const uncutJob = await prepared({ jobId: `uncut-${randomUUID().slice(0, 8)}`, target: { projectId: PROJECT, dataAnnotationId: 'same' }, manifest, options }, deps);
    const cutJob = await prepared({ jobId: `cut-${randomUUID().slice(0, 8)}`, target: { projectId: PROJECT, dataAnnotationId: 'same' }, manifest, options }, deps);

    // Act
    const uncut = await tinyWindows(uncutJob, deps, testBudget());
    const pauses: PlanningPaused[] = [];
    let cut = await tinyWindows(cutJob, deps, testBudget({ stopStartingAt: 0 }));
    while (cut !== undefined && 'kind' in cut) {
      pauses.push(cut);
      // Each invocation prepares the job anew, as a continuation does.
      cut = await tinyWindows(await prepared(cutJob.input, deps), deps, testBudget({ stopStartingAt: 0 }));
    }

    // Assess: the uncut pass paused never; the cut one at every window, then made the same plan.
    expect(uncut !== undefined && 'summary' in uncut).toBe(true);
    expect(pauses.length).toBeGreaterThan(5);
    expect(pauses.map((p) => p.checkpoint)).toEqual(Array(pauses.length).fill(`s3://${cutJob.location.bucket}/${cutJob.location.prefix}${PLAN_CHECKPOINT_NAME}`));
    const [uncutLayout, cutLayout] = [scaleOutLayout(uncutJob.location), scaleOutLayout(cutJob.location)];
    const [uncutPlan, cutPlan] = [await readPlan(uncutLayout), await readPlan(cutLayout)];
    const shape = (plan: ScaleOutPlan) => ({ parts: plan.parts.map(({ key: _key, ...part }) => part), windows: plan.windows, screened: plan.screened, entries: plan.entries });
    expect(shape(cutPlan)).toEqual(shape(uncutPlan));
    // plan.json's parts are true: each part's entries, first and last line are its slot's occurrences.
    const slots = planSlots(uncutPlan.entries, uncutPlan.partSize);
    const occurrences = lines.map((line, i) => [line.toLowerCase(), i + 1] as const).filter(([line]) => /^[0-9a-f]{32}$/.test(line));
    const truth = Array.from({ length: slots }, (_, slot) => occurrences.filter(([id]) => planSlot(id, slots) === slot)).filter((group) => group.length > 0);
    expect(cutPlan.parts.map((p) => [p.entries, p.firstLine, p.lastLine])).toEqual(truth.map((group) => [group.length, group[0]![1], group.at(-1)![1]]));
    // The part manifests, byte for byte, and part 0's report.
    for (const part of uncutPlan.parts) {
      await ensurePartManifest(uncutPlan, part.part, uncutLayout, stack.s3);
      await ensurePartManifest(cutPlan, part.part, cutLayout, stack.s3);
      expect((await reportBytes(cutPlan.parts[part.part - 1]!.key)).equals(await reportBytes(part.key))).toBe(true);
    }
    expect(gunzipSync(await reportBytes(cutLayout.screened.resultsKey)).toString('utf8')).toBe(gunzipSync(await reportBytes(uncutLayout.screened.resultsKey)).toString('utf8'));
    expect((await reportBytes(cutLayout.screened.failedKey)).toString('utf8')).toBe((await reportBytes(uncutLayout.screened.failedKey)).toString('utf8'));
  });
});
