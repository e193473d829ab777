import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobValidationError } from '../../lib/core/errors.js';
import { runCleanupJob } from '../../lib/job/runCleanupJob.js';
import { FIXED_MIB, unsplitEntryCapacity } from '../../lib/job/unsplitCapacity.js';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { reportLocation } from '../../lib/report/ReportLocation.js';
import { scaleOutLayout } from '../../lib/scaleout/scaleOutLayout.js';
import { scaleOutPlanSchema } from '../../lib/scaleout/scaleOutPlanSchema.js';
import { imageIds, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: a job the function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE) cannot hold unsplit,
// against the local stack and the ModelArts emulator: split where a work queue is, refused where
// none is (or options.scaleOut is false), and nothing deleted.
const PROJECT = '0123456789abcdef0123456789abcdef';
const stack = useLocalStack();
// A memory size that leaves about 1 MiB for entries: a capacity of some 30,000.
const MEMORY = String(Math.ceil((FIXED_MIB + 1) / 0.8));
const capacity = unsplitEntryCapacity({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: Number(MEMORY) });

beforeEach(() => {
  stack.emulator.requests.length = 0;
});

async function putManifest(name: string, lines: readonly string[]): Promise<string> {
  const key = `uploads/${name}-${randomUUID().slice(0, 8)}.txt`;
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: lines.join('\n') }));
  return `s3://${stack.env.MANIFEST_BUCKET}/${key}`;
}

describe('a job too big for the function to run unsplit', () => {
  it('is refused (JOB_TOO_BIG) where no work queue is configured, before any delete', async () => {
    // Prepare
    const deps = stackDeps(stack, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: MEMORY, WORK_QUEUE_URL: '', MAX_IDS_PER_JOB: String(capacity + 1) });
    const ids = imageIds('too-big', capacity + 1);
    stack.emulator.seedLabellingJob(PROJECT, 'too-big', ids);
    const manifest = await putManifest('too-big', ids);

    // Act
    const run = runCleanupJob({ jobId: 'too-big-no-queue', target: { projectId: PROJECT, dataAnnotationId: 'too-big' }, manifest }, { type: 'manual' }, deps);

    // Assess
    await expect(run).rejects.toBeInstanceOf(JobValidationError);
    await expect(run).rejects.toMatchObject({ code: 'JOB_TOO_BIG' });
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, 'too-big').size).toBe(capacity + 1);
  });

  it('is refused when options.scaleOut is false, even with a work queue', async () => {
    // Prepare
    const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `fit-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 1 });
    const deps = stackDeps(stack, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: MEMORY, WORK_QUEUE_URL: workQueueUrl, MAX_IDS_PER_JOB: String(capacity + 1) });
    const ids = imageIds('too-big-unsplit', capacity + 1);
    stack.emulator.seedLabellingJob(PROJECT, 'too-big-unsplit', ids);
    const manifest = await putManifest('too-big-unsplit', ids);

    // Act
    const run = runCleanupJob({ jobId: 'too-big-scale-out-false', target: { projectId: PROJECT, dataAnnotationId: 'too-big-unsplit' }, manifest, options: { scaleOut: false } }, { type: 'manual' }, deps);

    // Assess
    await expect(run).rejects.toMatchObject({ code: 'JOB_TOO_BIG', issues: [{ path: 'options.scaleOut' }] });
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, 'too-big-unsplit').size).toBe(capacity + 1);
  });

  it('is split into parts that fit where a work queue is configured, though under SCALE_OUT_THRESHOLD', async () => {
    // Prepare: parts of SCALE_OUT_PART_SIZE would not fit either; they are made smaller
    const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `fit-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 1 });
    const deps = stackDeps(stack, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: MEMORY, WORK_QUEUE_URL: workQueueUrl, MAX_IDS_PER_JOB: String(capacity + 1), SCALE_OUT_THRESHOLD: String(10 * capacity), SCALE_OUT_PART_SIZE: String(10 * capacity) });
    const manifest = await putManifest('split', imageIds('split', capacity + 1));

    // Act
    const { summary } = await runCleanupJob({ jobId: 'too-big-split', target: { projectId: PROJECT, dataAnnotationId: 'too-big' }, manifest }, { type: 'manual' }, deps);

    // Assess: planned, not run: two parts queued, nothing deleted yet
    expect(summary.status).toBe('continuing');
    expect(summary.scaleOut?.parts).toBe(2);
    // Parts are hash slots whose sizes scatter around the planned size: planned a tenth under the capacity, each fits.
    expect(summary.scaleOut?.partSize).toBe(Math.floor(capacity * 0.9));
    const layout = scaleOutLayout(reportLocation(deps.config.REPORT_BUCKET, deps.config.REPORT_PREFIX, 'too-big-split'));
    const plan = await readS3Json(deps.s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema);
    expect(plan?.parts.map((part) => part.entries).reduce((a, b) => a + b, 0)).toBe(capacity + 1);
    for (const part of plan?.parts ?? []) expect(part.entries).toBeLessThanOrEqual(capacity);
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it('runs unsplit when it fits', async () => {
    // Prepare
    const deps = stackDeps(stack, { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: MEMORY, WORK_QUEUE_URL: '' });
    const ids = imageIds('fits', 50);
    stack.emulator.seedLabellingJob(PROJECT, 'fits', ids);

    // Act
    const { summary } = await runCleanupJob({ jobId: 'fits-unsplit', target: { projectId: PROJECT, dataAnnotationId: 'fits' }, manifest: await putManifest('fits', ids) }, { type: 'manual' }, deps);

    // Assess
    expect(summary.counts.deleted).toBe(50);
    expect(stack.emulator.labellingJobImages(PROJECT, 'fits').size).toBe(0);
  });
});
