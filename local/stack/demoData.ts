import { createHash } from 'node:crypto';

/** The demo labelling job, as seeded into the emulator by `npm start`. */
export const DEMO_TARGET = { projectId: 'cc0f0990a56f4a1b9e41c85e79cc511c', dataAnnotationId: '282' } as const;

/** Images the demo labelling job holds before the demo runs. */
export const DEMO_IMAGE_COUNT = 1200;

/** Of those, the first this many are named in the demo event and get deleted. */
export const DEMO_DELETE_COUNT = 800;

/** The i-th demo image ID: an MD5, as real image IDs appear to be. */
export function demoImageId(i: number): string {
  return createHash('md5').update(`demo-image-${i}`).digest('hex');
}

/** IDs of images the demo job never held: the service answers "not found" for them. */
export function demoGoneImageId(i: number): string {
  return createHash('md5').update(`demo-gone-${i}`).digest('hex');
}

/** All images of the demo job before the demo. */
export function demoSeedImageIds(): string[] {
  return Array.from({ length: DEMO_IMAGE_COUNT }, (_, i) => demoImageId(i));
}

/**
 * The demo event (`events/manual-inline.json`): 800 images to delete, with what real lists
 * contain mixed in: 4 invalid entries, 10 repeats and 3 images that are already gone.
 */
export function buildDemoEvent(): { target: typeof DEMO_TARGET; imageIds: unknown[] } {
  const imageIds: unknown[] = [];
  for (let i = 0; i < DEMO_DELETE_COUNT; i += 1) {
    imageIds.push(demoImageId(i));
    if (i % 80 === 79) imageIds.push(demoImageId(i - 40)); // a repeat of an earlier entry
    if (i === 100) imageIds.push('not-an-image-id');
    if (i === 200) imageIds.push(demoImageId(9000).toUpperCase());
    if (i === 300) imageIds.push(demoImageId(9001).slice(0, 31));
    if (i === 400) imageIds.push(12345);
    if (i % 250 === 125) imageIds.push(demoGoneImageId(i));
  }
  return { target: DEMO_TARGET, imageIds };
}
