import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LeaseRecord } from '../../lib/aws/claimLease.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import type { RejectionReport } from '../../lib/report/writeRejectionReport.js';
import { runScheduledScan, type ScheduledRunResult } from '../../lib/triggers/scheduledRun.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { imageIds, readS3Text, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';

// Integration: scheduled runs against the real local servers. The local S3 enforces conditional
// writes (local/stack/s3ConditionalWrites.ts), as real S3 does, so the claims are really contended.
const PROJECT = '0123456789abcdef0123456789abcdef';
const DATASET = 'WxCREuCkBSAlQr9xrde';
const scheduledEvent = { version: '0', id: 'e', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: '2026-11-28T17:00:00Z', region: 'eu-west-1', resources: ['arn:aws:events:eu-west-1:123456789012:rule/x'], detail: {} };

const stack = useLocalStack();
let bucket: string;

beforeAll(() => {
  bucket = stack.env.MANIFEST_BUCKET!;
});
beforeEach(() => {
  stack.emulator.requests.length = 0;
  stack.emulator.settings.latencyMs = 0;
});

async function keys(prefix: string): Promise<string[]> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key!).sort();
}

async function put(key: string, body: string): Promise<void> {
  await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

function completed(result: ScheduledRunResult) {
  if (result.status !== 'completed') throw new Error(`run rejected: ${result.error.message}`);
  return result;
}

describe('scheduled runs over pending manifests', () => {
  it('two runs started at the same time never process the same manifest; every manifest ends in done/ or failed/ with a report', async () => {
    // Prepare: 10 runnable manifests (v1 text by key convention, v2 JSON job files) and 2 that are refused
    const manifests = new Map<string, string[]>();
    for (let i = 0; i < 5; i += 1) {
      const job = `job-${i}`;
      const ids = imageIds(`sched-v1-${i}`, 30);
      stack.emulator.seedLabellingJob(PROJECT, job, ids);
      manifests.set(`pending/v1/${PROJECT}/${job}/list-${i}.txt`, ids);
    }
    const v2 = imageIds('sched-v2', 150);
    stack.emulator.seedDataset(PROJECT, DATASET, v2);
    for (let i = 0; i < 5; i += 1) manifests.set(`pending/team-b/drop-${i}.json`, v2.slice(i * 30, i * 30 + 30));
    for (const [key, ids] of manifests) {
      await put(key, key.endsWith('.json') ? JSON.stringify({ target: { projectId: PROJECT, datasetId: DATASET }, imageIds: ids }) : `${ids.join('\n')}\n`);
    }
    await put('pending/no-target.txt', `${imageIds('orphan', 2).join('\n')}\n`);
    await put('pending/broken.json', '{"imageIds": [');
    stack.emulator.settings.latencyMs = 15;
    const deps = stackDeps(stack);

    // Act
    const [a, b] = await Promise.all([
      runScheduledScan(scheduledEvent, deps, createLambdaContext('schedule-a')),
      runScheduledScan(scheduledEvent, deps, createLambdaContext('schedule-b')),
    ]).then((results) => results.map(completed));

    // Assess: each manifest run by exactly one of the two
    const ran = [...a!.manifests, ...b!.manifests].filter((m) => m.status === 'done' || m.status === 'failed');
    expect(ran.map((m) => m.manifestKey).sort()).toEqual([...manifests.keys(), 'pending/no-target.txt', 'pending/broken.json'].sort());
    expect(a!.manifests.filter((m) => m.status !== 'skipped').length).toBeGreaterThan(0);
    expect(b!.manifests.filter((m) => m.status !== 'skipped').length).toBeGreaterThan(0);
    // ... and no image was asked for twice: a second run would have met "not found" (4420)
    const sent = stack.emulator.requests.flatMap((request) => request.imageIds);
    expect(new Set(sent).size).toBe(sent.length);
    expect(stack.emulator.requests.every((request) => request.status === 200)).toBe(true);
    for (const [, ids] of manifests) expect(ids.every((id) => sent.includes(id))).toBe(true);
    // ... and everything left pending/ for done/ or failed/, with a report next to it
    expect(await keys('pending/')).toEqual([]);
    expect(await keys('claims/')).toEqual([]);
    expect(await keys('done/')).toHaveLength(10);
    expect(await keys('failed/')).toHaveLength(2);
    for (const outcome of ran) {
      if (outcome.status !== 'done' && outcome.status !== 'failed') continue;
      const moved = await stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: (outcome.movedTo ?? '').replace(`s3://${bucket}/`, '') }));
      expect(moved.Metadata?.report).toBe(outcome.report);
      const report = JSON.parse(await readS3Text(stack.s3, outcome.report)) as JobSummary | RejectionReport;
      expect(report.trigger).toEqual({ type: 'schedule', source: '2026-11-28T17:00:00.000Z', manifest: `s3://${bucket}/${outcome.manifestKey}` });
      expect(outcome.movedTo).toContain(`/${outcome.status}/${outcome.jobId}/`);
      if (outcome.status === 'done') expect((report as JobSummary).counts.deleted).toBe(30);
      else expect(report.status).toBe('rejected');
    }
  });

  it('skips a manifest whose claim is live, and takes over one whose claim has expired', async () => {
    // Prepare
    const [live, stale] = [imageIds('live', 2), imageIds('stale', 2)];
    stack.emulator.seedLabellingJob(PROJECT, 'claims', [...live, ...stale]);
    await put(`pending/v1/${PROJECT}/claims/live.txt`, live.join('\n'));
    await put(`pending/v1/${PROJECT}/claims/stale.txt`, stale.join('\n'));
    const claim = (expiresAt: number) => JSON.stringify({ manifestKey: 'x', owner: 'crashed-run', claimedAt: new Date(0).toISOString(), expiresAt: new Date(expiresAt).toISOString() });
    await put(`claims/v1/${PROJECT}/claims/live.txt.claim`, claim(Date.now() + 600_000));
    await put(`claims/v1/${PROJECT}/claims/stale.txt.claim`, claim(Date.now() - 1));

    // Act
    const result = completed(await runScheduledScan({ prefix: `pending/v1/${PROJECT}/claims/` }, stackDeps(stack), createLambdaContext('schedule')));

    // Assess
    expect(result.manifests.map((m) => [m.manifestKey.split('/').pop(), m.status])).toEqual([['live.txt', 'skipped'], ['stale.txt', 'done']]);
    expect(await keys(`pending/v1/${PROJECT}/claims/`)).toEqual([`pending/v1/${PROJECT}/claims/live.txt`]);
    expect(stack.emulator.labellingJobImages(PROJECT, 'claims')).toEqual(new Set(live));
    const liveClaim = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: `claims/v1/${PROJECT}/claims/live.txt.claim` }));
    expect((JSON.parse(await liveClaim.Body!.transformToString()) as LeaseRecord).owner).toBe('crashed-run');
  });

  it('stops claiming before its deadline and leaves the rest pending', async () => {
    // Prepare
    const ids = imageIds('deadline', 1);
    await put(`pending/v1/${PROJECT}/late/one.txt`, ids.join('\n'));

    // Act: 10 s left, under the 15 s margin
    const result = completed(await runScheduledScan({ prefix: `pending/v1/${PROJECT}/late/` }, stackDeps(stack), createLambdaContext('schedule', 10_000)));

    // Assess
    expect(result).toMatchObject({ manifests: [], stoppedEarly: true });
    expect(await keys(`pending/v1/${PROJECT}/late/`)).toHaveLength(1);
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it('quarantines a manifest whose job failed PENDING_MAX_FAILURES times: moved to failed/ with a report saying so, nothing deleted', async () => {
    // Prepare: every read of this manifest fails (an S3 wrapper: fauxqs cannot fail a chosen read).
    const key = `pending/v1/${PROJECT}/quarantine/always-fails.txt`;
    const ids = imageIds('quarantine', 3);
    stack.emulator.seedLabellingJob(PROJECT, 'quarantine', ids);
    await put(key, ids.join('\n'));
    const real = stack.s3;
    const s3 = new Proxy(real, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
        return async (command: { constructor: { name: string }; input: { Key?: string } }, ...rest: unknown[]) => {
          if (command.constructor.name === 'GetObjectCommand' && command.input.Key === key) throw Object.assign(new Error('injected read failure'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
          return (real.send as (...args: unknown[]) => Promise<unknown>).call(real, command, ...rest);
        };
      },
    });
    const deps = stackDeps(stack, { PENDING_MAX_FAILURES: '2' }, { s3 });
    const run = async () => completed(await runScheduledScan({ prefix: `pending/v1/${PROJECT}/quarantine/` }, deps, createLambdaContext('schedule')));

    // Act: two runs fail and leave it pending; the third quarantines it.
    const [first, second, third] = [await run(), await run(), await run()];

    // Assess
    expect([first.errors.length, second.errors.length]).toEqual([1, 1]);
    expect(third.errors).toEqual([]);
    expect(third.manifests).toEqual([expect.objectContaining({ status: 'failed', manifestKey: key })]);
    const outcome = third.manifests[0]!;
    if (outcome.status !== 'failed') return;
    expect(outcome.movedTo).toBe(`s3://${bucket}/failed/${outcome.jobId}/v1/${PROJECT}/quarantine/always-fails.txt`);
    const report = JSON.parse(await readS3Text(stack.s3, outcome.report)) as RejectionReport;
    expect(report.error.code).toBe('QUARANTINED');
    expect(report.error.message).toContain('failed 2 times');
    expect(report.error.message).toContain('injected read failure');
    expect(await keys(`pending/v1/${PROJECT}/quarantine/`)).toEqual([]);
    expect(stack.emulator.labellingJobImages(PROJECT, 'quarantine').size).toBe(3);
  });

  it('refuses a pending key with ".." segments without a request naming it: nothing copied, claimed or deleted, and a report says why', async () => {
    // Prepare: S3 keeps such a key as it is; a request naming it could reach another object wherever a layer resolves "..".
    const key = 'pending/dots/../../reports/evil.txt';
    await put(key, `${imageIds('dotdot', 2).join('\n')}\n`);
    const before = (await keys('')).filter((k) => k !== key);

    // Act
    const result = completed(await runScheduledScan({ prefix: 'pending/dots/' }, stackDeps(stack), createLambdaContext('schedule')));

    // Assess
    expect(result.manifests).toEqual([expect.objectContaining({ status: 'refused', manifestKey: key })]);
    const outcome = result.manifests[0]!;
    if (outcome.status !== 'refused') return;
    const report = JSON.parse(await readS3Text(stack.s3, outcome.report)) as RejectionReport;
    expect(report).toMatchObject({ status: 'rejected', trigger: { type: 'schedule', manifest: `s3://${bucket}/${key}` } });
    expect(report.error.message).toContain('".."');
    // The file is where it was; nothing else was written or removed in the manifest bucket.
    expect((await keys('')).filter((k) => k !== key)).toEqual(before);
    expect(await keys('pending/dots/')).toEqual([key]);
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it.each([
    ['a foreign event', { 'detail-type': 'Object Created', source: 'aws.s3', time: '2026-11-28T17:00:00Z' }, 'detail-type'],
    ['a prefix outside pending/', { prefix: 'done/' }, 'prefix'],
    ['a prefix with ..', { prefix: 'pending/../done/' }, 'prefix'],
    ['an unknown field', { prefixes: ['pending/'] }, ''],
  ])('refuses %s, naming the field, and touches nothing', async (_label, event, path) => {
    // Act
    const result = await runScheduledScan(event, stackDeps(stack), createLambdaContext('schedule'));

    // Assess
    expect(result.status).toBe('rejected');
    if (result.status !== 'rejected') return;
    expect(result.error.issues.map((issue) => issue.path)).toContain(path);
    expect(stack.emulator.requests).toHaveLength(0);
  });
});
