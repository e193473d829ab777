import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reportLocation } from '../../../lib/report/ReportLocation.js';
import { PendingFailures } from '../../../lib/triggers/PendingFailures.js';
import { useLocalStack } from '../../support/useLocalStack.js';
import { virtualClock } from '../../support/virtualClock.js';

// Against the local S3: the record is an object in the job's report folder.
const stack = useLocalStack();
const clock = virtualClock({ start: Date.UTC(2026, 11, 2, 9, 0, 0), sleeps: 'advance' });

const folder = () => reportLocation(stack.env.REPORT_BUCKET!, 'reports/', `pending-${randomUUID().replaceAll('-', '')}`);
const exists = (key: string) => stack.s3.send(new HeadObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: key })).then(() => true, () => false);

describe('PendingFailures', () => {
  it('counts an attempt that never ended (a crash, a timeout) as a failure, at the next attempt', async () => {
    // Prepare
    const location = folder();
    await (await PendingFailures.read(stack.s3, location, clock)).begin('crashed-run');

    // Act
    const next = await PendingFailures.read(stack.s3, location, clock);

    // Assess
    expect(next.count).toBe(1);
    expect(next.lastError).toContain('crashed-run');
    expect(next.lastError).toContain('never ended');
  });

  it('counts an attempt that failed with an error, with its message; one that ended counts nothing', async () => {
    // Prepare
    const location = folder();
    const first = await PendingFailures.read(stack.s3, location, clock);
    await first.begin('run-1');
    await first.fail(new Error('S3 is down'));
    const second = await PendingFailures.read(stack.s3, location, clock);
    await second.begin('run-2');
    await second.end(true);

    // Act
    const third = await PendingFailures.read(stack.s3, location, clock);

    // Assess
    expect(third.count).toBe(1);
    expect(third.lastError).toBe('Error: S3 is down');
  });

  it('leaves no record once the file left pending/, nor when nothing failed', async () => {
    // Prepare
    const [moved, clean] = [folder(), folder()];
    const failing = await PendingFailures.read(stack.s3, moved, clock);
    await failing.begin('run-1');
    await failing.fail(new Error('x'));
    const ok = await PendingFailures.read(stack.s3, clean, clock);
    await ok.begin('run-1');

    // Act
    await (await PendingFailures.read(stack.s3, moved, clock)).end(false);
    await ok.end(true);

    // Assess
    expect(await exists(`${moved.prefix}failures.json`)).toBe(false);
    expect(await exists(`${clean.prefix}failures.json`)).toBe(false);
  });
});
