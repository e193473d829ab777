import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/config.js';
import { DEFAULT_MANIFEST_READ_LIMITS, manifestReadLimits } from '../../../lib/manifest/ManifestReadLimits.js';

const ENV = { REPORT_BUCKET: 'reports', MODELARTS_ENDPOINT: 'https://modelarts.example.com' };

describe('manifestReadLimits', () => {
  it('derives the byte and line bounds from MAX_IDS_PER_JOB', () => {
    // Prepare
    const config = loadConfig({ ...ENV, MAX_IDS_PER_JOB: '1000', MANIFEST_MAX_LINE_BYTES: '4096', MANIFEST_BYTES_PER_ENTRY: '200', MANIFEST_MAX_COLUMNS: '10', MANIFEST_MAX_DEPTH: '4' });

    // Act
    const limits = manifestReadLimits(config, {});

    // Assess
    expect(limits).toEqual({ permittedEntries: 1_000, maxBytes: 1_000 * 200 + 4096, maxLines: 2_001, maxLineBytes: 4096, maxColumns: 10, maxDepth: 4 });
  });

  it('derives them from options.confirmEntries when the job may hold more, never fewer', () => {
    // Prepare
    const config = loadConfig({ ...ENV, MAX_IDS_PER_JOB: '100' });

    // Act
    const more = manifestReadLimits(config, { confirmEntries: 5_000 });
    const fewer = manifestReadLimits(config, { confirmEntries: 10 });

    // Assess
    expect(more).toMatchObject({ permittedEntries: 5_000, maxBytes: 5_000 * 1024 + 8192, maxLines: 10_001 });
    expect(fewer).toEqual(manifestReadLimits(config, {}));
  });

  it('applies, when a reader is given none, the bounds of a deployment with every default', () => {
    // Act and Assess
    expect(DEFAULT_MANIFEST_READ_LIMITS).toEqual(manifestReadLimits(loadConfig(ENV), {}));
    expect(DEFAULT_MANIFEST_READ_LIMITS).toEqual({ permittedEntries: 100_000, maxBytes: 100_000 * 1024 + 8192, maxLines: 200_001, maxLineBytes: 8192, maxColumns: 256, maxDepth: 16 });
  });
});
