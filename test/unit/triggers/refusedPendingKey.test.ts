import { describe, expect, it } from 'vitest';
import { refusedPendingKey } from '../../../lib/triggers/refusedPendingKey.js';

const config = { MANIFEST_BUCKET: 'manifests', MANIFEST_PREFIX: 'drops/' };

describe('refusedPendingKey', () => {
  it('lets a key under pending/ of the manifest bucket through', () => {
    expect(refusedPendingKey('manifests', 'drops/pending/v1/p/282/list.txt', config)).toBeUndefined();
  });

  it.each([
    ['"." or ".." segments', 'manifests', 'drops/pending/x/../../reports/evil.txt', 'manifest', '".."'],
    ['a "." segment', 'manifests', 'drops/pending/./list.txt', 'manifest', '"."'],
    ['another bucket', 'someone-elses', 'drops/pending/list.txt', 'manifest', 'someone-elses'],
    ['a key outside pending/', 'manifests', 'drops/uploads/list.txt', 'body.Records.s3.object.key', 'expected a manifest under drops/pending/'],
    ['a folder', 'manifests', 'drops/pending/folder/', 'manifest', 'folder'],
  ])('refuses %s, saying why', (_label, bucket, key, path, contains) => {
    // Act
    const refusal = refusedPendingKey(bucket, key, config);

    // Assess
    expect(refusal?.issues.map((issue) => issue.path)).toEqual([path]);
    expect(refusal?.message).toContain(contains);
  });

  it('refuses every key when the deployment has no manifest bucket', () => {
    expect(refusedPendingKey('manifests', 'pending/a.txt', { MANIFEST_BUCKET: undefined, MANIFEST_PREFIX: undefined })?.message).toContain('MANIFEST_BUCKET is not set');
  });
});
