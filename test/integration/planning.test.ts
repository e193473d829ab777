import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { runCleanupJob } from '../../lib/job/runCleanupJob.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import { jobSummarySchema } from '../../lib/report/jobSummary.js';
import { reportLocation } from '../../lib/report/ReportLocation.js';
import { ensurePartManifest } from '../../lib/scaleout/ensurePartManifest.js';
import { planScaleOut } from '../../lib/scaleout/planScaleOut.js';
import { runScaleOutPart } from '../../lib/scaleout/runScaleOutPart.js';
import { scaleOutLayout } from '../../lib/scaleout/scaleOutLayout.js';
import { scaleOutPlanSchema, type ScaleOutPlan } from '../../lib/scaleout/scaleOutPlanSchema.js';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { imageIds, stackDeps } from '../support/stackDeps.js';
import { testBudget } from '../support/testBudget.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: planning in windows across invocations, against fauxqs S3/SQS and the emulator.
const PROJECT = '0123456789abcdef0123456789abcdef';
const stack = useLocalStack();

async function deps(): Promise<CleanupDeps> {
  const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `planning-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 30 });
  // Windows of ~300 bytes (about six IDs): a 60-line manifest is planned in about ten windows.
  return stackDeps(stack, { WORK_QUEUE_URL: workQueueUrl }, { planScaleOut: (job, d, budget) => planScaleOut(job, d, budget, { windowBytes: 300 }) });
}

async function text(key: string): Promise<string> {
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: key }));
  return object.Body!.transformToString('utf8');
}

async function plan(jobId: string): Promise<ScaleOutPlan | undefined> {
  const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET!, 'reports/', jobId));
  return readS3Json(stack.s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema);
}

describe('planning a split job in windows', () => {
  it('resumes a plan cut by the deadline into the plan of an uncut run, and reports repeats far apart duplicate with their lines', async () => {
    // Prepare: 50 IDs, then repeats of the first ten (far from them: other windows, other invocations), one invalid line and its repeat.
    const ids = imageIds('planning', 50);
    const lines = [...ids.slice(0, 25), 'not-an-id', ...ids.slice(25), ...ids.slice(0, 10), 'not-an-id'];
    const key = `uploads/planning-${randomUUID().slice(0, 8)}.txt`;
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: lines.join('\n') }));
    const manifest = `s3://${stack.env.MANIFEST_BUCKET}/${key}`;
    stack.emulator.seedLabellingJob(PROJECT, 'planning-cut', ids);
    const d = await deps();
    const job = (jobId: string) => ({ jobId, target: { projectId: PROJECT, dataAnnotationId: 'planning-cut' }, manifest, options: { chunkSize: 5, scaleOut: { partSize: 8 } } });

    // Act: the uncut plan; then the same job planned one window per invocation (the budget is spent at once).
    await runCleanupJob(job('planning-uncut'), { type: 'manual' }, d);
    const answers: string[] = [];
    for (let i = 0; i < 40 && (await plan('planning-cut')) === undefined; i += 1) {
      const { summary } = await runCleanupJob(job('planning-cut'), { type: 'manual' }, d, testBudget({ stopStartingAt: -Infinity }));
      answers.push(summary.stop?.kind ?? summary.status);
    }
    const [uncut, cut] = [(await plan('planning-uncut'))!, (await plan('planning-cut'))!];
    const layouts = ['planning-uncut', 'planning-cut'].map((id) => scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET!, 'reports/', id)));
    const manifests: Array<[string, string]> = [];
    for (const part of uncut.parts) {
      await ensurePartManifest(uncut, part.part, layouts[0]!, stack.s3);
      await ensurePartManifest(cut, part.part, layouts[1]!, stack.s3);
      manifests.push([await text(layouts[0]!.partManifestKey(part.part)), await text(layouts[1]!.partManifestKey(part.part))]);
    }
    for (const part of cut.parts) await runScaleOutPart('planning-cut', part.part, { type: 'queue', source: `w${part.part}` }, d, testBudget());
    const location = reportLocation(stack.env.REPORT_BUCKET!, 'reports/', 'planning-cut');
    const summary = await readS3Json(stack.s3, location.bucket, location.summaryKey, jobSummarySchema);

    // Assess: paused several times, then split; the same plan and the same part manifests as the uncut run.
    expect(answers.filter((kind) => kind === 'deadline').length).toBeGreaterThan(3);
    expect(answers.at(-1)).toBe('split');
    expect(cut.windows).toBe(uncut.windows);
    expect(cut.parts).toEqual(uncut.parts.map((part) => ({ ...part, key: part.key.replace('planning-uncut', 'planning-cut') })));
    expect(cut.screened).toEqual(uncut.screened);
    for (const [a, b] of manifests) expect(b).toBe(a);
    expect(cut.parts.length).toBeGreaterThan(3);
    expect(summary).toMatchObject({ status: 'completed_with_failures', counts: { received: 62, deleted: 50, duplicate: 11, invalid: 1 } });
    expect(stack.emulator.labellingJobImages(PROJECT, 'planning-cut').size).toBe(0);
    const results = (await import('node:zlib')).gunzipSync(Buffer.from(await (await stack.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.resultsKey }))).Body!.transformToByteArray())).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { image_id: string; line: number; outcome: string });
    // Every ID once, at its first line; the repeats are counted, not listed.
    expect(results.filter((r) => r.outcome === 'deleted').map((r) => r.line).sort((a, b) => a - b)).toEqual([...Array.from({ length: 25 }, (_, i) => i + 1), ...Array.from({ length: 25 }, (_, i) => i + 27)]);
  }, 120_000);
});
