import { describe, expect, it } from 'vitest';
import { parseCleanupJob } from '../../../lib/job/cleanupJob.js';
import { jobContent } from '../../../lib/job/jobRecord.js';
import { partJob } from '../../../lib/scaleout/partJob.js';
import type { ScaleOutPlan } from '../../../lib/scaleout/scaleOutPlanSchema.js';

const options: ScaleOutPlan['options'] = { chunkSize: 50, maxInFlight: 2, maxAttempts: 5, dryRun: false, failureThreshold: { minAttempted: 100, maxFailureRate: 0.2 }, notFoundThreshold: { minAttempted: 20, maxNotFoundRate: 0.5 } };

function planWith(planOptions: ScaleOutPlan['options']): ScaleOutPlan {
  return {
    formatVersion: 1,
    jobId: 'split-job',
    jobIdSource: 'idempotency_key',
    trigger: { type: 'manual' },
    target: { api: 'v1', projectId: '0123456789abcdef0123456789abcdef', dataAnnotationId: '282' },
    manifest: 's3://manifests/uploads/big.txt',
    entries: 300,
    partSize: 200,
    parts: [{ part: 1, key: 'reports/split-job/plan/part-0001.txt', entries: 200, firstLine: 1, lastLine: 200 }, { part: 2, key: 'reports/split-job/plan/part-0002.txt', entries: 100, firstLine: 201, lastLine: 300 }],
    screened: { counts: { deleted: 0, already_deleted: 0, failed: 0, invalid: 0, duplicate: 0, skipped: 0, would_delete: 0 }, normalized: 0 },
    options: planOptions,
    startedAt: '2026-12-01T10:00:00.000Z',
    plannedAt: '2026-12-01T10:00:01.000Z',
    queued: true,
  };
}

describe('partJob', () => {
  it("gives a part the job's resolved thresholds, the not-found one included, as a job its worker accepts", () => {
    // Act
    const job = parseCleanupJob(partJob(planWith(options), 2, 'reports-bucket'));

    // Assess
    expect(job.manifest).toBe('s3://reports-bucket/reports/split-job/plan/part-0002.txt');
    expect(job.options).toMatchObject({ failureThreshold: { minAttempted: 100, maxFailureRate: 0.2 }, notFoundThreshold: { minAttempted: 20, maxNotFoundRate: 0.5 }, confirmEntries: 100, scaleOut: false });
    expect(jobContent(job).notFoundThreshold).toEqual({ minAttempted: 20, maxNotFoundRate: 0.5 });
  });

  it('leaves the not-found threshold out for a plan made before it existed (the deployment then decides)', () => {
    // Prepare
    const { notFoundThreshold: _left, ...older } = options;

    // Act
    const job = parseCleanupJob(partJob(planWith(older), 1, 'reports-bucket'));

    // Assess
    expect(job.options.notFoundThreshold).toBeUndefined();
  });
});
