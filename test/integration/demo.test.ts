import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDemoEvent, DEMO_DELETE_COUNT, DEMO_IMAGE_COUNT, DEMO_TARGET, demoSeedImageIds } from '../../local/stack/demoData.js';
import { runDemo, type DemoRun } from '../../local/cli/runDemo.js';

const root = new URL('../../', import.meta.url);
let run: DemoRun | undefined;

afterAll(async () => {
  await run?.stack.stop();
});

describe('the demo job (npm start)', () => {
  it('events/manual-inline.json is the demo event the seed data was made for', async () => {
    const onDisk: unknown = JSON.parse(await readFile(new URL('events/manual-inline.json', root), 'utf8'));
    expect(onDisk).toEqual(buildDemoEvent());
  });

  it('runs the manual handler: counts add up, the report is in S3, the emulator holds exactly the images not named', async () => {
    // Act
    run = await runDemo();

    // Assess
    expect(run.problems).toEqual([]);
    expect(run.result.status).toBe('completed');
    if (run.result.status !== 'completed') return;
    expect(run.result.summary.counts).toEqual({ received: 817, deleted: DEMO_DELETE_COUNT, already_deleted: 4, failed: 0, invalid: 3, duplicate: 10, skipped: 0, would_delete: 0 });
    // The upper-case entry is an ID the job never held: normalised, sent, and found already gone.
    expect(run.result.summary.normalized).toBe(1);
    const left = run.stack.emulator.labellingJobImages(DEMO_TARGET.projectId, DEMO_TARGET.dataAnnotationId);
    expect([...left].sort()).toEqual(demoSeedImageIds().slice(DEMO_DELETE_COUNT).sort());
    expect(left.size).toBe(DEMO_IMAGE_COUNT - DEMO_DELETE_COUNT);
  });

  it('`npm start` exits 0 and prints a summary whose counts add up', async () => {
    // Act
    const { stdout } = await promisify(execFile)('npm', ['start', '--silent'], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });

    // Assess (execFile rejects on a non-zero exit)
    const match = /received (\d+): deleted (\d+), already deleted (\d+), failed (\d+), invalid (\d+), duplicate (\d+)/.exec(stdout);
    expect(match, stdout).not.toBeNull();
    const [received, ...outcomes] = match!.slice(1).map(Number);
    expect(outcomes.reduce((a, b) => a + b, 0)).toBe(received);
    expect(stdout).toMatch(/report: s3:\/\/image-cleanup-reports\/reports\/.+\/summary\.json/);
    expect(stdout).toContain('checked: counts add up');
  }, 90_000);
});
