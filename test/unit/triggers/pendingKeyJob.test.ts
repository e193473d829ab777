import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reportLocation } from '../../../lib/report/ReportLocation.js';
import { pendingJobIdentity } from '../../../lib/triggers/pendingJobIdentity.js';
import { readUnfinishedKeyJob, writePendingKeyJob } from '../../../lib/triggers/pendingKeyJob.js';
import { useLocalStack } from '../../support/useLocalStack.js';

// Against the local S3: the pointer is an object in the key's own report folder, and what it points
// at is judged by the objects in that job's folder.
const stack = useLocalStack();
const now = Date.UTC(2026, 11, 2, 9, 0, 0);

const setup = () => {
  const config = { REPORT_BUCKET: stack.env.REPORT_BUCKET!, REPORT_PREFIX: `reports/${randomUUID()}/` };
  const key = 'pending/v1/p/710/list.txt';
  const version = { etag: '"e1"' };
  const jobId = pendingJobIdentity('manifests', key, version).jobId;
  const put = (name: string) => stack.s3.send(new PutObjectCommand({ Bucket: config.REPORT_BUCKET, Key: `${reportLocation(config.REPORT_BUCKET, config.REPORT_PREFIX, jobId).prefix}${name}`, Body: '{}' }));
  return { config, key, version, jobId, put };
};

describe('pendingKeyJob', () => {
  it('names the job the key was taken up for while that job has a record and no report', async () => {
    // Prepare
    const { config, key, version, jobId, put } = setup();
    await writePendingKeyJob(stack.s3, config, 'manifests', key, { jobId, version, now });
    await put('job.json');

    // Act
    const unfinished = await readUnfinishedKeyJob(stack.s3, config, 'manifests', key);

    // Assess
    expect(unfinished).toEqual({ formatVersion: 1, manifest: `s3://manifests/${key}`, jobId, version, takenUpAt: new Date(now).toISOString() });
  });

  it('names none when no run took the key up, its job never claimed, or its job has a summary or a rejection', async () => {
    // Prepare
    const { config, key, version, jobId, put } = setup();
    const none = await readUnfinishedKeyJob(stack.s3, config, 'manifests', key);
    await writePendingKeyJob(stack.s3, config, 'manifests', key, { jobId, version, now });
    const neverClaimed = await readUnfinishedKeyJob(stack.s3, config, 'manifests', key);
    await put('job.json');
    await put('rejected.json');
    const other = setup();
    await writePendingKeyJob(stack.s3, other.config, 'manifests', other.key, { jobId: other.jobId, version: other.version, now });
    await other.put('job.json');
    await other.put('summary.json');

    // Act
    const rejected = await readUnfinishedKeyJob(stack.s3, config, 'manifests', key);
    const summarised = await readUnfinishedKeyJob(stack.s3, other.config, 'manifests', other.key);

    // Assess
    expect([none, neverClaimed, rejected, summarised]).toEqual([undefined, undefined, undefined, undefined]);
  });
});
