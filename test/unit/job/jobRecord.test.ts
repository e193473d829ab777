import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { JobIdConflictError, JobValidationError } from '../../../lib/core/errors.js';
import { parseCleanupJob } from '../../../lib/job/cleanupJob.js';
import { checkSameJob, jobContent, keepJobRecord, newJobRecord, readJobRecord, sameVersion, type JobRecord } from '../../../lib/job/jobRecord.js';
import { reportLocation } from '../../../lib/report/ReportLocation.js';
import { imageIds } from '../../support/stackDeps.js';
import { useLocalStack } from '../../support/useLocalStack.js';

// The job record against the local S3 (fauxqs, with the stack's If-None-Match enforcement): the
// record is a real object, written once.
const PROJECT = 'cc0f0990a56f4a1b9e41c85e79cc511c';
const v1 = { projectId: PROJECT, dataAnnotationId: '282' };
const stack = useLocalStack();
const ids = imageIds('record', 5);

function recordOf(input: unknown, jobId: string, manifestVersion?: { etag: string; versionId?: string }): JobRecord {
  const job = parseCleanupJob(input);
  return newJobRecord({ identity: { jobId, source: 'idempotency_key' }, content: jobContent(job), manifestVersion, target: { api: 'v1', ...v1 }, entries: 5, trigger: { type: 'manual' }, now: Date.UTC(2030, 0, 1) });
}

function conflict(check: () => void): JobIdConflictError {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(JobIdConflictError);
    return error as JobIdConflictError;
  }
  expect.fail('expected a JobIdConflictError');
}

describe('jobContent', () => {
  it('holds what a job deletes and how, not how fast', () => {
    // Act
    const fast = jobContent(parseCleanupJob({ target: v1, imageIds: ids, options: { chunkSize: 10, maxInFlight: 2, scaleOut: false } }));
    const slow = jobContent(parseCleanupJob({ target: v1, imageIds: ids, options: { chunkSize: 100 } }));
    const manifest = jobContent(parseCleanupJob({ manifest: 's3://b/k.txt', options: { dryRun: true, failureThreshold: { minAttempted: 5, maxFailureRate: 0.1 } } }));

    // Assess
    expect(fast).toEqual(slow);
    expect(fast).toEqual({ target: { api: 'v1', ...v1 }, imageIds: { entries: 5, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown }, dryRun: false, failureThreshold: null });
    expect(manifest).toEqual({ target: null, manifest: 's3://b/k.txt', dryRun: true, failureThreshold: { minAttempted: 5, maxFailureRate: 0.1 } });
  });

  it('holds a not-found threshold only when the job gives one, so a record written before the option existed equals a job without it', () => {
    // Act
    const without = jobContent(parseCleanupJob({ target: v1, imageIds: ids }));
    const stricter = jobContent(parseCleanupJob({ target: v1, imageIds: ids, options: { notFoundThreshold: { maxNotFoundRate: 0.5 } } }));

    // Assess
    expect(without).not.toHaveProperty('notFoundThreshold');
    expect(stricter.notFoundThreshold).toEqual({ maxNotFoundRate: 0.5 });
    expect(conflict(() => checkSameJob(recordOf({ target: v1, imageIds: ids }, 'job-n'), 'job-n', stricter)).issues.map((issue) => issue.path)).toEqual(['options.notFoundThreshold']);
  });

  it('tells two lists of IDs apart by their content, order included', () => {
    // Act
    const one = jobContent(parseCleanupJob({ target: v1, imageIds: ids }));
    const reversed = jobContent(parseCleanupJob({ target: v1, imageIds: [...ids].reverse() }));

    // Assess
    expect(one.imageIds!.entries).toBe(reversed.imageIds!.entries);
    expect(one.imageIds!.sha256).not.toBe(reversed.imageIds!.sha256);
  });
});

describe('checkSameJob', () => {
  const record = recordOf({ target: v1, imageIds: ids }, 'job-a');

  it('passes the same job, whatever its performance options', () => {
    // Act / Assess
    expect(() => checkSameJob(record, 'job-a', jobContent(parseCleanupJob({ target: v1, imageIds: ids, options: { chunkSize: 7 } })))).not.toThrow();
  });

  it('refuses another job under the id with JOB_ID_CONFLICT, one issue per field that differs, as a JobValidationError', () => {
    // Act
    const error = conflict(() => checkSameJob(record, 'job-a', jobContent(parseCleanupJob({ target: { ...v1, dataAnnotationId: '283' }, imageIds: ids.slice(1), options: { dryRun: true } }))));

    // Assess
    expect(error).toBeInstanceOf(JobValidationError);
    expect(error.code).toBe('JOB_ID_CONFLICT');
    expect(error.jobId).toBe('job-a');
    expect(error.issues.map((issue) => issue.path)).toEqual(['target', 'imageIds', 'options.dryRun']);
    expect(error.message).toMatch(/^Job id job-a names another job; send this one under another jobId: target: a different target/);
    expect(error.issues[2]!.message).toBe('a different dryRun: the job recorded under this id has false, this one true');
  });

  it('refuses another manifest version of the same content, and compares by VersionId where both reads have one', () => {
    // Prepare
    const pinned = recordOf({ target: v1, manifest: 's3://b/k.txt' }, 'job-m', { etag: '"e1"', versionId: 'v1' });
    const content = jobContent(parseCleanupJob({ target: v1, manifest: 's3://b/k.txt' }));

    // Act
    const error = conflict(() => checkSameJob(pinned, 'job-m', content, { etag: '"e2"', versionId: 'v2' }));

    // Assess
    expect(error.issues).toEqual([{ path: 'manifest', message: 'another version of the manifest: the job under this id read ETag "e1" (VersionId v1), this one names ETag "e2" (VersionId v2); a new version is a new job' }]);
    expect(() => checkSameJob(pinned, 'job-m', content, { etag: '"e1"', versionId: 'v1' })).not.toThrow();
    expect(() => checkSameJob(pinned, 'job-m', content)).not.toThrow();
    expect(sameVersion({ etag: '"e1"', versionId: 'v1' }, { etag: '"e1"', versionId: 'v9' })).toBe(false);
    expect(sameVersion({ etag: '"e1"', versionId: 'v1' }, { etag: '"e1"' })).toBe(true);
    expect(sameVersion({ etag: '"e1"' }, { etag: '"e2"' })).toBe(false);
  });
});

describe('the record in S3', () => {
  it('is written once at the first claim, read back as it was, and checks a later job against it', async () => {
    // Prepare
    const location = reportLocation(stack.env.REPORT_BUCKET!, 'reports/', 'record-once');
    const first = recordOf({ target: v1, imageIds: ids }, 'record-once');
    const again = recordOf({ target: v1, imageIds: ids, options: { chunkSize: 3 } }, 'record-once');
    const other = recordOf({ target: v1, imageIds: ids, options: { dryRun: true } }, 'record-once');

    // Act
    const before = await readJobRecord(stack.s3, location);
    await keepJobRecord(stack.s3, location, first);
    await keepJobRecord(stack.s3, location, again);
    const refused = keepJobRecord(stack.s3, location, other);

    // Assess
    expect(before).toBeUndefined();
    await expect(refused).rejects.toMatchObject({ code: 'JOB_ID_CONFLICT' });
    expect(await readJobRecord(stack.s3, location)).toEqual(first);
    expect(first.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(other.contentHash).not.toBe(first.contentHash);
  });

  it('lets only one of two invocations write it; the other is checked against it', async () => {
    // Prepare
    const location = reportLocation(stack.env.REPORT_BUCKET!, 'reports/', 'record-race');
    const real = recordOf({ target: v1, imageIds: ids }, 'record-race');
    const dry = recordOf({ target: v1, imageIds: ids, options: { dryRun: true } }, 'record-race');

    // Act
    const outcomes = await Promise.allSettled([keepJobRecord(stack.s3, location, real), keepJobRecord(stack.s3, location, dry)]);

    // Assess: exactly one wrote it, and the other was refused against it.
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const stored = await readJobRecord(stack.s3, location);
    const winner = outcomes[0].status === 'fulfilled' ? real : dry;
    expect(stored).toEqual(winner);
  });

  it('refuses a record that is not one (a foreign object at its key) instead of treating it as absent', async () => {
    // Prepare
    const location = reportLocation(stack.env.REPORT_BUCKET!, 'reports/', 'record-foreign');
    await stack.s3.send(new PutObjectCommand({ Bucket: location.bucket, Key: `${location.prefix}job.json`, Body: '{"formatVersion": 9}' }));

    // Act / Assess
    await expect(readJobRecord(stack.s3, location)).rejects.toThrow();
  });
});
