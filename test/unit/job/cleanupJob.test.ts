import { describe, expect, it } from 'vitest';
import { MAX_INLINE_IDS, parseCleanupJob } from '../../../lib/job/cleanupJob.js';
import { JobValidationError, type ValidationIssue } from '../../../lib/core/errors.js';

const ID = '0123456789abcdef0123456789abcdef';
const V1_TARGET = { projectId: 'cc0f0990a56f4a1b9e41c85e79cc511c', dataAnnotationId: '282' };
const V2_TARGET = { projectId: 'cc0f0990a56f4a1b9e41c85e79cc511c', datasetId: 'WxCREuCkBSAlQr9xrde' };

// Parses and returns the issues of the JobValidationError thrown; fails the test if nothing or something else is thrown.
function issuesOf(input: unknown): readonly ValidationIssue[] {
  try {
    parseCleanupJob(input);
  } catch (error) {
    expect(error).toBeInstanceOf(JobValidationError);
    return (error as JobValidationError).issues;
  }
  expect.fail('expected parseCleanupJob to throw');
}

describe('parseCleanupJob', () => {
  it('parses a v1 labelling-job target', () => {
    // Prepare
    const input = { jobId: 'job-1', target: V1_TARGET, imageIds: [ID] };

    // Act
    const job = parseCleanupJob(input);

    // Assess
    expect(job).toEqual({
      jobId: 'job-1',
      target: { api: 'v1', projectId: V1_TARGET.projectId, dataAnnotationId: '282' },
      imageIds: [ID],
      options: {},
    });
  });

  it('parses a v2 dataset target with deleteSource defaulting to false', () => {
    // Prepare
    const input = { target: V2_TARGET, imageIds: [ID], options: { chunkSize: 1000, maxInFlight: 8 } };

    // Act
    const job = parseCleanupJob(input);

    // Assess
    expect(job.target).toEqual({ api: 'v2', projectId: V2_TARGET.projectId, datasetId: V2_TARGET.datasetId, deleteSource: false });
    expect(job.options).toEqual({ chunkSize: 1000, maxInFlight: 8 });
    expect(job.jobId).toBeUndefined();
  });

  it('keeps deleteSource true on a v2 target', () => {
    // Act
    const job = parseCleanupJob({ target: { ...V2_TARGET, deleteSource: true }, imageIds: [ID] });

    // Assess
    expect(job.target).toMatchObject({ api: 'v2', deleteSource: true });
  });

  it('leaves the IDs themselves unchecked (each is screened later)', () => {
    // Act
    const job = parseCleanupJob({ target: V1_TARGET, imageIds: [ID, 5, 'nope'] });

    // Assess
    expect(job.imageIds).toEqual([ID, 5, 'nope']);
  });

  it('names target when it is missing', () => {
    // Act
    const issues = issuesOf({ imageIds: [ID] });

    // Assess
    expect(issues.map((issue) => issue.path)).toEqual(['target']);
  });

  it('names target when it has both dataAnnotationId and datasetId', () => {
    // Act
    const issues = issuesOf({ target: { ...V1_TARGET, datasetId: 'd1' }, imageIds: [ID] });

    // Assess
    expect(issues).toEqual([{ path: 'target', message: expect.stringContaining('exactly one of dataAnnotationId') as unknown }]);
  });

  it('names target when it has neither dataAnnotationId nor datasetId', () => {
    // Act
    const issues = issuesOf({ target: { projectId: 'p1' }, imageIds: [ID] });

    // Assess
    expect(issues).toEqual([{ path: 'target', message: expect.stringContaining('exactly one of dataAnnotationId') as unknown }]);
  });

  it('names target.deleteSource when given on a v1 target', () => {
    // Act
    const issues = issuesOf({ target: { ...V1_TARGET, deleteSource: true }, imageIds: [ID] });

    // Assess
    expect(issues.map((issue) => issue.path)).toEqual(['target.deleteSource']);
  });

  it('names imageIds when it is not an array', () => {
    // Act
    const issues = issuesOf({ target: V1_TARGET, imageIds: ID });

    // Assess
    expect(issues).toEqual([{ path: 'imageIds', message: 'expected an array of image IDs' }]);
  });

  it('names imageIds when it is empty', () => {
    // Act
    const issues = issuesOf({ target: V1_TARGET, imageIds: [] });

    // Assess
    expect(issues).toEqual([{ path: 'imageIds', message: 'expected at least one image ID' }]);
  });

  it('names imageIds when there are more than the inline maximum', () => {
    // Act
    const issues = issuesOf({ target: V1_TARGET, imageIds: Array.from({ length: MAX_INLINE_IDS + 1 }, () => ID) });

    // Assess
    expect(issues.map((issue) => issue.path)).toEqual(['imageIds']);
  });

  it('names options.chunkSize above the hard bound of 1000', () => {
    // Act
    const issues = issuesOf({ target: V1_TARGET, imageIds: [ID], options: { chunkSize: 1001 } });

    // Assess
    expect(issues).toEqual([{ path: 'options.chunkSize', message: 'expected at most 1000 IDs per request (hard upper bound)' }]);
  });

  it('names options.maxInFlight when it is zero', () => {
    // Act
    const issues = issuesOf({ target: V1_TARGET, imageIds: [ID], options: { maxInFlight: 0 } });

    // Assess
    expect(issues.map((issue) => issue.path)).toEqual(['options.maxInFlight']);
  });

  it('takes options.notFoundThreshold with either setting, and names a setting out of range or unknown', () => {
    // Act
    const parsed = parseCleanupJob({ target: V1_TARGET, imageIds: [ID], options: { notFoundThreshold: { minAttempted: 20 } } });
    const issues = issuesOf({ target: V1_TARGET, imageIds: [ID], options: { notFoundThreshold: { minAttempted: 0, maxNotFoundRate: 1.5 } } });
    const unknown = issuesOf({ target: V1_TARGET, imageIds: [ID], options: { notFoundThreshold: { maxFailureRate: 0.1 } } });

    // Assess
    expect(parsed.options.notFoundThreshold).toEqual({ minAttempted: 20 });
    expect(issues.map((issue) => issue.path).sort()).toEqual(['options.notFoundThreshold.maxNotFoundRate', 'options.notFoundThreshold.minAttempted']);
    expect(unknown).toEqual([{ path: 'options.notFoundThreshold', message: expect.stringContaining('maxFailureRate') as unknown }]);
  });

  it('refuses an unknown option key and names it', () => {
    // Act
    const issues = issuesOf({ target: V1_TARGET, imageIds: [ID], options: { chunksize: 5 } });

    // Assess
    expect(issues).toEqual([{ path: 'options', message: expect.stringContaining('chunksize') as unknown }]);
  });

  it('refuses an unknown top-level field (strict)', () => {
    // Act
    const issues = issuesOf({ target: V1_TARGET, imageIds: [ID], dryRun: true });

    // Assess
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('');
  });

  // A custom "not an object" message must not hide zod's unrecognized-key message, which names the key.
  it('names the unknown top-level field in the issue', () => {
    // Act
    const issues = issuesOf({ target: V1_TARGET, imageIds: [ID], dryRun: true });

    // Assess
    expect(issues.some((issue) => issue.path === 'dryRun' || issue.message.includes('dryRun'))).toBe(true);
  });

  it('names an unknown target field in the issue', () => {
    // Act
    const issues = issuesOf({ target: { ...V1_TARGET, labelJobId: 'x' }, imageIds: [ID] });

    // Assess
    expect(issues.some((issue) => issue.path === 'target.labelJobId' || issue.message.includes('labelJobId'))).toBe(true);
  });

  it.each(['a/b', '..', '../x', 'p%2F', '', 'x'.repeat(65)])('refuses projectId %j that could change the request path', (projectId) => {
    // Act
    const issues = issuesOf({ target: { ...V1_TARGET, projectId }, imageIds: [ID] });

    // Assess
    expect(issues.map((issue) => issue.path)).toEqual(['target.projectId']);
  });

  it('refuses a dataAnnotationId with a slash and names it', () => {
    // Act
    const issues = issuesOf({ target: { ...V1_TARGET, dataAnnotationId: '282/../1' }, imageIds: [ID] });

    // Assess
    expect(issues.map((issue) => issue.path)).toContain('target.dataAnnotationId');
  });

  it('reports every wrong field at once', () => {
    // Act
    const issues = issuesOf({ target: { projectId: 'a/b', dataAnnotationId: '1' }, imageIds: [], options: { chunkSize: 0 } });

    // Assess
    expect(issues.map((issue) => issue.path).sort()).toEqual(['imageIds', 'options.chunkSize', 'target.projectId']);
  });

  it('refuses a job that is not an object at the root', () => {
    // Act
    const issues = issuesOf(null);

    // Assess
    expect(issues).toEqual([{ path: '', message: 'expected a cleanup job object with target and imageIds' }]);
  });

  it('gives the error the INVALID_JOB code and a message listing the paths', () => {
    // Act
    let thrown: unknown;
    try {
      parseCleanupJob({ target: V1_TARGET, imageIds: [] });
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toBeInstanceOf(JobValidationError);
    expect((thrown as JobValidationError).code).toBe('INVALID_JOB');
    expect((thrown as JobValidationError).message).toBe('Invalid cleanup job: imageIds: expected at least one image ID');
  });
});
