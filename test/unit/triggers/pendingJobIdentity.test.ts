import { describe, expect, it } from 'vitest';
import { jobIdSchema } from '../../../lib/job/jobIdentity.js';
import { pendingJobIdentity } from '../../../lib/triggers/pendingJobIdentity.js';

describe('pendingJobIdentity', () => {
  it('is one id per bucket, key and version, whatever delivers it, and a valid job id', () => {
    // Act
    const fromNotification = pendingJobIdentity('manifests', 'pending/a.txt', { etag: '"e1"' });
    const fromSchedule = pendingJobIdentity('manifests', 'pending/a.txt', { etag: '"e1"' });

    // Assess
    expect(fromNotification).toEqual(fromSchedule);
    expect(fromNotification.jobId).toMatch(/^pending-[0-9a-f]{32}$/);
    expect(jobIdSchema.safeParse(fromNotification.jobId).success).toBe(true);
    expect(fromNotification.source).toBe('content_hash');
  });

  it('is another id for another version, key or bucket', () => {
    // Act
    const ids = [
      pendingJobIdentity('manifests', 'pending/a.txt', { etag: '"e1"' }),
      pendingJobIdentity('manifests', 'pending/a.txt', { etag: '"e2"' }),
      pendingJobIdentity('manifests', 'pending/b.txt', { etag: '"e1"' }),
      pendingJobIdentity('other', 'pending/a.txt', { etag: '"e1"' }),
      pendingJobIdentity('manifests', 'pending/a.txt'),
    ].map((identity) => identity.jobId);

    // Assess
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names a version by its VersionId where the bucket keeps versions (the same ETag can come back), else by its ETag, quoted or not', () => {
    // Act
    const [v1, v2] = [pendingJobIdentity('m', 'pending/a.txt', { etag: '"e1"', versionId: 'v1' }), pendingJobIdentity('m', 'pending/a.txt', { etag: '"e1"', versionId: 'v2' })];

    // Assess
    expect(v1.jobId).not.toBe(v2.jobId);
    expect(pendingJobIdentity('m', 'pending/a.txt', { etag: '"e1"' })).toEqual(pendingJobIdentity('m', 'pending/a.txt', { etag: 'e1' }));
  });
});
