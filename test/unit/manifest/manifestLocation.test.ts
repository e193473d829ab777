import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../../lib/core/errors.js';
import { checkManifestLocation, manifestLayout } from '../../../lib/manifest/manifestLocation.js';
import { targetFromManifestKey } from '../../../lib/manifest/manifestTarget.js';

const config = { MANIFEST_BUCKET: 'image-cleanup-manifests', MANIFEST_PREFIX: undefined };

// The message of the JobValidationError thrown on path `manifest`.
function refusal(bucket: string, key: string, cfg: Parameters<typeof checkManifestLocation>[2] = config, allowPending = false): string {
  try {
    checkManifestLocation(bucket, key, cfg, { allowPending });
  } catch (error) {
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).issues.map((issue) => issue.path)).toEqual(['manifest']);
    return (error as JobValidationError).issues[0]!.message;
  }
  expect.fail('expected checkManifestLocation to throw');
}

describe('checkManifestLocation', () => {
  it('accepts a key in the manifest bucket', () => {
    // Act
    const location = checkManifestLocation('image-cleanup-manifests', 'uploads/list.txt', config);

    // Assess
    expect(location).toEqual({ bucket: 'image-cleanup-manifests', key: 'uploads/list.txt', uri: 's3://image-cleanup-manifests/uploads/list.txt' });
  });

  it.each([
    ['another bucket', 'other-bucket', 'uploads/list.txt', 'may only be read from s3://image-cleanup-manifests/'],
    ['a ".." segment', 'image-cleanup-manifests', 'uploads/../claims/x.txt', '".." segments'],
    ['a claim object', 'image-cleanup-manifests', 'claims/a.txt.claim', 'claim object'],
    ['a pending manifest, for a job pointing at it', 'image-cleanup-manifests', 'pending/a.txt', 'processed automatically'],
    ['a folder', 'image-cleanup-manifests', 'uploads/', 'folder'],
  ])('refuses %s', (_label, bucket, key, message) => {
    // Act & Assess
    expect(refusal(bucket, key)).toContain(message);
  });

  it('allows a pending manifest to the pending flow', () => {
    // Act
    const location = checkManifestLocation('image-cleanup-manifests', 'pending/a.txt', config, { allowPending: true });

    // Assess
    expect(location.key).toBe('pending/a.txt');
  });

  it('refuses keys outside MANIFEST_PREFIX, and every manifest when no bucket is configured', () => {
    // Act & Assess
    expect(refusal('image-cleanup-manifests', 'uploads/a.txt', { ...config, MANIFEST_PREFIX: 'team-a/' })).toContain('s3://image-cleanup-manifests/team-a/');
    expect(refusal('image-cleanup-manifests', 'uploads/a.txt', { MANIFEST_BUCKET: undefined, MANIFEST_PREFIX: undefined })).toContain('MANIFEST_BUCKET is not set');
  });

  it('lays out pending/, done/, failed/ and claims/ under MANIFEST_PREFIX', () => {
    // Act & Assess
    expect(manifestLayout({ MANIFEST_PREFIX: 'team-a/' })).toEqual({ root: 'team-a/', pending: 'team-a/pending/', done: 'team-a/done/', failed: 'team-a/failed/', claims: 'team-a/claims/' });
  });
});

describe('targetFromManifestKey', () => {
  it.each([
    ['pending/v1/cc0f0990a56f4a1b9e41c85e79cc511c/282/a.txt', { projectId: 'cc0f0990a56f4a1b9e41c85e79cc511c', dataAnnotationId: '282' }],
    ['pending/team/v2/p1/WxCREuCkBSAlQr9xrde/a.txt', { projectId: 'p1', datasetId: 'WxCREuCkBSAlQr9xrde' }],
    ['pending/a.txt', undefined],
    ['pending/v3/p/x/a.txt', undefined],
  ])('reads %s', (key, target) => {
    // Act & Assess
    expect(targetFromManifestKey(key)).toEqual(target);
  });
});
