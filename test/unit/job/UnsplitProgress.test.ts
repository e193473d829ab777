import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { readS3Json } from '../../../lib/aws/readS3Json.js';
import { UnsplitProgress } from '../../../lib/job/UnsplitProgress.js';
import { DELETE_OUTCOMES, type OutcomeCounts } from '../../../lib/pipeline/outcome.js';
import { jobProgressSchema } from '../../../lib/report/jobProgressSchema.js';
import { reportLocation } from '../../../lib/report/ReportLocation.js';
import { scaleOutLayout } from '../../../lib/scaleout/scaleOutLayout.js';
import { failingS3 } from '../../support/failingS3.js';
import { useLocalStack } from '../../support/useLocalStack.js';
import { virtualClock } from '../../support/virtualClock.js';

// UnsplitProgress against fauxqs S3; time is a virtual clock moved by hand.
const stack = useLocalStack();
const limiter = { limit: 4, inFlight: 2, waiting: 0, rate: null, rateCeiling: null, throttled: 0, decreases: 0, sharers: 1 };

function progressOf(jobId: string, location = reportLocation(stack.env.REPORT_BUCKET!, 'reports/', jobId), s3 = stack.s3) {
  const clock = virtualClock({ start: 1_900_000_000_000, sleeps: 'advance' });
  const counts = Object.fromEntries(DELETE_OUTCOMES.map((outcome) => [outcome, 0])) as OutcomeCounts;
  const warned: string[] = [];
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  logger.warn = (...args: unknown[]) => void warned.push(String(args[0]));
  const progress = new UnsplitProgress({ s3, clock, logger }, { jobId, location, entries: 1_000, startedAt: clock.now() }, { counts: () => counts, limiter: () => limiter });
  return { progress, clock, counts, warned, location };
}

describe('UnsplitProgress', () => {
  it('writes progress.json only once 10 s passed since the last write, with the rate over the job\'s life', async () => {
    // Prepare
    const { progress, clock, counts, location } = progressOf('unit-progress');
    const read = () => readS3Json(stack.s3, location.bucket, `${location.prefix}progress.json`, jobProgressSchema);

    // Act + Assess: 9 s in, nothing; 10 s in, written
    counts.deleted = 90;
    clock.advance(9_000);
    await progress.tick();
    expect(await read()).toBeUndefined();
    counts.deleted = 200;
    clock.advance(1_000);
    await progress.tick();
    expect(await read()).toMatchObject({ state: 'running', settled: 200, idsPerSecond: 20, etaSeconds: 40, parts: { total: 0 }, limiter });
  });

  it('writes nothing for a part of a split job: its folder is under the job\'s parts/', async () => {
    // Prepare
    const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET!, 'reports/', 'unit-split'));
    const { progress, clock, location } = progressOf('unit-split.part-0001', layout.partLocation(1));

    // Act
    clock.advance(20_000);
    await progress.tick();
    await progress.write();

    // Assess
    expect(await readS3Json(stack.s3, location.bucket, layout.partProgressKey(1), jobProgressSchema.passthrough())).toBeUndefined();
    expect(await readS3Json(stack.s3, location.bucket, layout.progressKey, jobProgressSchema)).toBeUndefined();
  });

  it('logs a write that fails and does not throw', async () => {
    // Prepare: S3 fails the write (fauxqs cannot be told to)
    const failing = failingS3(stack.s3, 'reports/unit-failing/progress.json');
    failing.failWrite(0);
    const { progress, warned } = progressOf('unit-failing', undefined, failing.s3);

    // Act + Assess
    await expect(progress.write()).resolves.toBeUndefined();
    expect(failing.failed).toBeDefined();
    expect(warned).toEqual(['job progress not written']);
  });
});
