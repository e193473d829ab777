import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_TARGET, demoSeedImageIds } from './demoData.js';
import type { ModelArtsEmulator } from '../emulator/modelArtsEmulator.js';

/** The demo v2 dataset the sample manifests and events of `events/` delete from. */
export const SAMPLE_DATASET = { projectId: DEMO_TARGET.projectId, datasetId: 'WxCREuCkBSAlQr9xrde' } as const;

/** Samples the demo dataset holds before a run. */
export const SAMPLE_DATASET_SIZE = 300;

/** The i-th sample of the demo dataset. */
export function sampleId(i: number): string {
  return createHash('md5').update(`demo-sample-${i}`).digest('hex');
}

const MANIFEST_ROOT = fileURLToPath(new URL('../../examples/manifests/', import.meta.url));

/**
 * Seeds what the samples in `events/` expect: the demo labelling job (1,200 images) and the demo
 * dataset (300 samples) in the emulator, and every file under `examples/manifests/` in the
 * manifest bucket at the same key (e.g. `examples/manifests/pending/…` → `pending/…`).
 */
export async function seedSampleData(emulator: ModelArtsEmulator, s3: S3Client, manifestBucket: string): Promise<void> {
  emulator.seedLabellingJob(DEMO_TARGET.projectId, DEMO_TARGET.dataAnnotationId, demoSeedImageIds());
  emulator.seedDataset(SAMPLE_DATASET.projectId, SAMPLE_DATASET.datasetId, Array.from({ length: SAMPLE_DATASET_SIZE }, (_, i) => sampleId(i)));
  for (const path of await files(MANIFEST_ROOT)) {
    const key = relative(MANIFEST_ROOT, path).split('\\').join('/');
    await s3.send(new PutObjectCommand({ Bucket: manifestBucket, Key: key, Body: await readFile(path) }));
  }
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : Promise.resolve([join(dir, entry.name)]))));
  return nested.flat();
}
