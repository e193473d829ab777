import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import { continueCleanupJob, runCleanupJob } from '../../lib/job/runCleanupJob.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import { createModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { runScaleOutPart } from '../../lib/scaleout/runScaleOutPart.js';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import { seededRandom } from '../../local/emulator/seededRandom.js';
import { clockedModelArts } from '../support/clockedModelArts.js';
import { crashSwitch } from '../support/crashSwitch.js';
import { failingS3 } from '../support/failingS3.js';
import { readResults } from '../support/readResults.js';
import { imageIds, readS3Text, stackDeps } from '../support/stackDeps.js';
import { testBudget } from '../support/testBudget.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { virtualClock, type AdvancingClock } from '../support/virtualClock.js';

// Integration: the replay situations of issue 12 that the job record answers (docs/replays.md
// sections 1, 2 and 8), each against the real local servers (fauxqs S3, the ModelArts emulator over
// HTTP). Each ends with a report that agrees with the emulator's store for every ID it names, or a
// refusal that deleted nothing.
const PROJECT = '0123456789abcdef0123456789abcdef';
const stack = useLocalStack();

beforeEach(() => {
  stack.emulator.requests.length = 0;
  Object.assign(stack.emulator.settings, { latencyMs: 0, latencyJitterMs: 0, randomFaults: undefined, auth: 'none', maxBatchSize: 1000 });
});

/** Production deps on a virtual clock: every request moves it 10 ms, so a budget cuts a job after a known number of requests. */
function virtualDeps(): { deps: CleanupDeps; clock: AdvancingClock } {
  const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(5), sleeps: 'advance' });
  const config = loadConfig({ ...stack.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5' });
  const modelArts = clockedModelArts(createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: 5_000, now: () => clock.now() }), clock, 10);
  const deps = createCleanupDeps(config, { s3: stack.s3, sqs: stack.sqs, clock, modelArts, logger: new Logger({ serviceName: 'image-cleanup-test', logLevel: 'SILENT' }) });
  delete deps.metrics;
  return { deps, clock };
}

/** A budget that lets an invocation start chunks for `requests` requests of 10 virtual ms. */
function cutAfter(clock: AdvancingClock, requests: number) {
  return testBudget({ stopStartingAt: clock.now() + requests * 10 }, clock.now());
}

async function putManifest(key: string, ids: readonly string[]): Promise<string> {
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: ids.join('\n') }));
  return `s3://${stack.env.MANIFEST_BUCKET}/${key}`;
}

/**
 * The report agrees with the store: every ID it says is deleted or already gone is gone, every ID it
 * says was not sent (skipped, would_delete) is still there, and its counts add up to the entries.
 */
async function assessAgreesWithStore(summary: JobSummary, left: ReadonlySet<string>): Promise<void> {
  const lines = await readResults(stack.s3, summary.report.results);
  for (const line of lines) {
    if (line.outcome === 'deleted' || line.outcome === 'already_deleted') expect(left.has(line.image_id), `${line.image_id} reported ${line.outcome}`).toBe(false);
    if (line.outcome === 'skipped' || line.outcome === 'would_delete') expect(left.has(line.image_id), `${line.image_id} reported ${line.outcome}`).toBe(true);
  }
  const { received, ...outcomes } = summary.counts;
  expect(Object.values(outcomes).reduce((sum, n) => sum + n, 0)).toBe(received);
  const stored = JSON.parse(await readS3Text(stack.s3, summary.report.summary)) as JobSummary;
  expect(stored).toEqual(summary);
}

describe('1. the manifest is replaced between invocations', () => {
  it('ends the job with what it did: the old lines not reached are skipped (MANIFEST_CHANGED), nothing of the new file is deleted', async () => {
    // Prepare: 300 IDs in uploads/r1.txt; the job is cut after about 100 lines, then the file is replaced.
    const old = imageIds('replaced-old', 300);
    const replacement = imageIds('replaced-new', 300);
    stack.emulator.seedLabellingJob(PROJECT, '401', [...old, ...replacement]);
    const manifest = await putManifest('uploads/r1.txt', old);
    const { deps, clock } = virtualDeps();
    const job = { jobId: 'replaced-manifest', target: { projectId: PROJECT, dataAnnotationId: '401' }, manifest, options: { chunkSize: 10, maxInFlight: 1 } };
    const cut = await runCleanupJob(job, { type: 'queue', source: 'replaced-1' }, deps, cutAfter(clock, 10), { continuation: false });
    expect(cut.summary.status).toBe('continuing');
    const resumeAfter = cut.summary.continuation!.resumeAfter;
    await putManifest('uploads/r1.txt', replacement);

    // Act: the continuation, as the queue would deliver it.
    const { summary } = await continueCleanupJob('replaced-manifest', deps, cutAfter(clock, 1000), { continuation: false });

    // Assess
    const left = stack.emulator.labellingJobImages(PROJECT, '401');
    expect(summary.status).toBe('stopped_manifest_changed');
    expect(summary.stop).toMatchObject({ kind: 'manifest_changed', resumeAfter });
    expect(summary.counts).toMatchObject({ received: 300, deleted: resumeAfter, skipped: 300 - resumeAfter });
    expect(summary.invocations).toBe(2);
    expect(replacement.every((id) => left.has(id))).toBe(true);
    expect(old.slice(0, resumeAfter).some((id) => left.has(id))).toBe(false);
    expect(old.slice(resumeAfter).every((id) => left.has(id))).toBe(true);
    expect(stack.emulator.requests.flatMap((r) => r.imageIds).filter((id) => replacement.includes(id))).toEqual([]);
    await assessAgreesWithStore(summary, left);
  });

  it('after a crash past the checkpoint, the lines not reached are failed (unconfirmed), never skipped: the crashed invocation may have deleted some', async () => {
    // Prepare: cut after about 100 lines (a checkpoint); the next invocation deletes more, then dies
    // before it writes anything (its claim never released); the file is replaced meanwhile.
    const old = imageIds('crash-replaced-old', 300);
    stack.emulator.seedLabellingJob(PROJECT, '402', old);
    const manifest = await putManifest('uploads/r2.txt', old);
    const { deps, clock } = virtualDeps();
    const job = { jobId: 'crash-replaced-manifest', target: { projectId: PROJECT, dataAnnotationId: '402' }, manifest, options: { chunkSize: 10, maxInFlight: 1 } };
    const cut = await runCleanupJob(job, { type: 'queue', source: 'crash-replaced-1' }, deps, cutAfter(clock, 10), { continuation: false });
    const resumeAfter = cut.summary.continuation!.resumeAfter;
    const dying = crashSwitch({ s3: stack.s3, sqs: stack.sqs, modelArts: deps.modelArts });
    dying.crashBefore(2);
    await expect(continueCleanupJob('crash-replaced-manifest', { ...deps, s3: dying.s3, modelArts: dying.modelArts }, cutAfter(clock, 5), { continuation: false })).rejects.toThrow(/injected crash/);
    const deletedByCrashed = old.slice(resumeAfter).filter((id) => !stack.emulator.labellingJobImages(PROJECT, '402').has(id));
    expect(deletedByCrashed.length).toBeGreaterThan(0);
    await putManifest('uploads/r2.txt', imageIds('crash-replaced-new', 300));
    clock.advance(20 * 60_000);

    // Act: the redelivery, once the dead invocation's claim expired.
    const { summary } = await continueCleanupJob('crash-replaced-manifest', deps, cutAfter(clock, 1000), { continuation: false });

    // Assess: the crashed invocation's deletes are among the failed (unconfirmed), none is called skipped.
    expect(summary.status).toBe('stopped_manifest_changed');
    expect(summary.counts).toMatchObject({ received: 300, deleted: resumeAfter, failed: 300 - resumeAfter, skipped: 0 });
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, '402'));
  });

  it('after an invocation that threw past the checkpoint (its claim released), the lines not reached are failed (unconfirmed), never skipped', async () => {
    // Prepare: cut after about 100 lines; the next invocation deletes more, then cannot write its
    // part files (an S3 outage, injected by a wrapper: fauxqs cannot fail one write), so it throws
    // and its claim is released by `finally`: no takeover tells the next one.
    const old = imageIds('thrown-replaced-old', 300);
    stack.emulator.seedLabellingJob(PROJECT, '403', old);
    const manifest = await putManifest('uploads/r3.txt', old);
    const { deps, clock } = virtualDeps();
    const job = { jobId: 'thrown-replaced-manifest', target: { projectId: PROJECT, dataAnnotationId: '403' }, manifest, options: { chunkSize: 10, maxInFlight: 1 } };
    const cut = await runCleanupJob(job, { type: 'queue', source: 'thrown-replaced-1' }, deps, cutAfter(clock, 10), { continuation: false });
    const resumeAfter = cut.summary.continuation!.resumeAfter;
    const broken = failingS3(stack.s3, 'reports/thrown-replaced-manifest/parts/');
    broken.failWrite(0);
    await expect(continueCleanupJob('thrown-replaced-manifest', { ...deps, s3: broken.s3 }, cutAfter(clock, 5), { continuation: false })).rejects.toThrow();
    expect(old.slice(resumeAfter).some((id) => !stack.emulator.labellingJobImages(PROJECT, '403').has(id))).toBe(true);
    await putManifest('uploads/r3.txt', imageIds('thrown-replaced-new', 300));

    // Act: the redelivery.
    const { summary } = await continueCleanupJob('thrown-replaced-manifest', deps, cutAfter(clock, 1000), { continuation: false });

    // Assess
    expect(summary.status).toBe('stopped_manifest_changed');
    expect(summary.counts).toMatchObject({ received: 300, deleted: resumeAfter, failed: 300 - resumeAfter, skipped: 0 });
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, '403'));
  });

  it('a manifest deleted between invocations ends the job the same way', async () => {
    // Prepare
    const ids = imageIds('vanished', 100);
    stack.emulator.seedLabellingJob(PROJECT, '402', ids);
    const manifest = await putManifest('uploads/vanished.txt', ids);
    const { deps, clock } = virtualDeps();
    const job = { jobId: 'vanished-manifest', target: { projectId: PROJECT, dataAnnotationId: '402' }, manifest, options: { chunkSize: 10, maxInFlight: 1 } };
    const cut = await runCleanupJob(job, { type: 'manual' }, deps, cutAfter(clock, 3), { continuation: false });
    const resumeAfter = cut.summary.continuation!.resumeAfter;
    await stack.s3.send(new DeleteObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: 'uploads/vanished.txt' }));

    // Act: the same job sent again (as re-invoking it resumes it).
    const { summary } = await runCleanupJob(job, { type: 'manual' }, deps, cutAfter(clock, 1000), { continuation: false });

    // Assess
    expect(summary.status).toBe('stopped_manifest_changed');
    expect(summary.counts).toMatchObject({ received: 100, deleted: resumeAfter, skipped: 100 - resumeAfter });
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, '402'));
  });
});

describe('2. the same jobId is sent for a different job', () => {
  it('refuses the real job sent under the id of a dry run cut by the deadline, naming what differs, and deletes nothing', async () => {
    // Prepare: a dry run cut after about 100 entries.
    const ids = imageIds('dry-then-real', 300);
    stack.emulator.seedLabellingJob(PROJECT, '403', ids);
    const { deps, clock } = virtualDeps();
    const dry = { jobId: 'dry-then-real', target: { projectId: PROJECT, dataAnnotationId: '403' }, imageIds: ids, options: { chunkSize: 10, maxInFlight: 1, dryRun: true } };
    // A dry run sends no request: its "time" is cut at once, before the first chunk.
    const cut = await runCleanupJob(dry, { type: 'manual' }, deps, testBudget({ stopStartingAt: clock.now() - 1 }, clock.now()), { continuation: false });
    expect(cut.summary.status).toBe('continuing');

    // Act: the real job, under the same jobId.
    const real = { ...dry, options: { chunkSize: 10, maxInFlight: 1 } };
    const refused = runCleanupJob(real, { type: 'manual' }, deps, cutAfter(clock, 1000), { continuation: false });

    // Assess
    await expect(refused).rejects.toMatchObject({ code: 'JOB_ID_CONFLICT', issues: [expect.objectContaining({ path: 'options.dryRun' })] });
    await expect(refused).rejects.toThrow(/dryRun/);
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, '403').size).toBe(300);
  });

  it('refuses a different job under the id of a completed one instead of answering its report, and answers the same job', async () => {
    // Prepare: a dry run that completed.
    const ids = imageIds('finished-dry', 20);
    stack.emulator.seedLabellingJob(PROJECT, '404', ids);
    const { deps, clock } = virtualDeps();
    const dry = { jobId: 'finished-dry', target: { projectId: PROJECT, dataAnnotationId: '404' }, imageIds: ids, options: { dryRun: true } };
    const finished = await runCleanupJob(dry, { type: 'manual' }, deps, cutAfter(clock, 1000));
    expect(finished.summary.status).toBe('dry_run');

    // Act
    const again = await runCleanupJob(dry, { type: 'manual' }, deps, cutAfter(clock, 1000));
    const refusals = await Promise.allSettled([
      runCleanupJob({ ...dry, options: {} }, { type: 'manual' }, deps, cutAfter(clock, 1000)),
      runCleanupJob({ ...dry, imageIds: ids.slice(1) }, { type: 'manual' }, deps, cutAfter(clock, 1000)),
      runCleanupJob({ ...dry, target: { projectId: PROJECT, dataAnnotationId: '405' } }, { type: 'manual' }, deps, cutAfter(clock, 1000)),
      runCleanupJob({ ...dry, options: { dryRun: true, notFoundThreshold: { minAttempted: 10 } } }, { type: 'manual' }, deps, cutAfter(clock, 1000)),
    ]);

    const manual = await runManualInvocation({ ...dry, options: {} }, deps);

    // Assess
    expect(again).toEqual({ summary: finished.summary, reused: true });
    expect(manual).toMatchObject({ status: 'rejected', error: { code: 'JOB_ID_CONFLICT', issues: [{ path: 'options.dryRun' }] } });
    expect(refusals.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ran'))).toEqual(['JOB_ID_CONFLICT', 'JOB_ID_CONFLICT', 'JOB_ID_CONFLICT', 'JOB_ID_CONFLICT']);
    expect(refusals.map((r) => (r.status === 'rejected' ? (r.reason as { issues: Array<{ path: string }> }).issues.map((i) => i.path) : []))).toEqual([['options.dryRun'], ['imageIds'], ['target'], ['options.notFoundThreshold']]);
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, '404').size).toBe(20);
  });

  it('resumes the same job sent again under its id, and its report agrees with the store', async () => {
    // Prepare
    const ids = imageIds('same-again', 60);
    stack.emulator.seedLabellingJob(PROJECT, '406', ids);
    const { deps, clock } = virtualDeps();
    const job = { jobId: 'same-again', target: { projectId: PROJECT, dataAnnotationId: '406' }, imageIds: ids, options: { chunkSize: 10, maxInFlight: 1 } };
    const cut = await runCleanupJob(job, { type: 'manual' }, deps, cutAfter(clock, 2), { continuation: false });
    expect(cut.summary.status).toBe('continuing');

    // Act: the same content; a performance option may change.
    const { summary } = await runCleanupJob({ ...job, options: { chunkSize: 20, maxInFlight: 2 } }, { type: 'manual' }, deps, cutAfter(clock, 1000), { continuation: false });

    // Assess
    expect(summary.status).toBe('completed');
    expect(summary.counts).toMatchObject({ received: 60, deleted: 60 });
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, '406'));
  });
});

describe('8. a job resumed by continuations', () => {
  it('counts each normalized entry once, whatever the number of invocations', async () => {
    // Prepare: 300 IDs written in upper case, each normalised.
    const ids = imageIds('normalized-once', 300);
    stack.emulator.seedLabellingJob(PROJECT, '408', ids);
    const { deps, clock } = virtualDeps();
    const job = { jobId: 'normalized-once', target: { projectId: PROJECT, dataAnnotationId: '408' }, imageIds: ids.map((id) => id.toUpperCase()), options: { chunkSize: 10, maxInFlight: 1 } };

    // Act: cut after about 5 chunks, then continued until done.
    let { summary } = await runCleanupJob(job, { type: 'manual' }, deps, cutAfter(clock, 5), { continuation: false });
    for (let round = 0; round < 20 && summary.status === 'continuing'; round += 1) {
      ({ summary } = await continueCleanupJob('normalized-once', deps, cutAfter(clock, 5), { continuation: false }));
    }

    // Assess
    expect(summary.status).toBe('completed');
    expect(summary.invocations).toBeGreaterThanOrEqual(5);
    expect(summary.normalized).toBe(300);
    expect(summary.counts).toMatchObject({ received: 300, deleted: 300 });
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, '408'));
  });
});

describe('the manifest version pinned for the job’s life', () => {
  it('a manifest replaced between the preparing pass and the deleting pass: nothing of either version is deleted, the job ends with every entry skipped', async () => {
    // Prepare: an S3 client that replaces the manifest right after the preparing pass read it. A
    // wrapper, because nothing else can put a write between two reads of one invocation.
    const old = imageIds('between-old', 50);
    const replacement = imageIds('between-new', 50);
    stack.emulator.seedLabellingJob(PROJECT, '410', [...old, ...replacement]);
    const manifest = await putManifest('uploads/between.txt', old);
    const { deps, clock } = virtualDeps();
    let reads = 0;
    const s3 = new Proxy(stack.s3, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
        return async (command: { constructor: { name: string }; input: { Key?: string } }) => {
          const answer = (await target.send(command as never)) as unknown;
          if (command.constructor.name === 'GetObjectCommand' && command.input.Key === 'uploads/between.txt' && (reads += 1) === 1) await putManifest('uploads/between.txt', replacement);
          return answer;
        };
      },
    });

    // Act
    const { summary } = await runCleanupJob({ jobId: 'replaced-between', target: { projectId: PROJECT, dataAnnotationId: '410' }, manifest }, { type: 'manual' }, { ...deps, s3 }, cutAfter(clock, 1000));

    // Assess
    expect(summary.status).toBe('stopped_manifest_changed');
    expect(summary.counts).toMatchObject({ received: 50, deleted: 0, skipped: 50 });
    expect(summary.stop).toMatchObject({ kind: 'manifest_changed', resumeAfter: 0, notReached: 50 });
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, '410').size).toBe(100);
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, '410'));
  });

  it('refuses a completed manifest job asked for again once its manifest holds another version, and answers it while the version is the same or gone', async () => {
    // Prepare
    const ids = imageIds('finished-replaced', 20);
    const next = imageIds('finished-replaced-next', 20);
    stack.emulator.seedLabellingJob(PROJECT, '411', [...ids, ...next]);
    const manifest = await putManifest('uploads/finished.txt', ids);
    const { deps, clock } = virtualDeps();
    const job = { jobId: 'finished-replaced', target: { projectId: PROJECT, dataAnnotationId: '411' }, manifest };
    const finished = await runCleanupJob(job, { type: 'manual' }, deps, cutAfter(clock, 1000));

    // Act
    const same = await runCleanupJob(job, { type: 'manual' }, deps, cutAfter(clock, 1000));
    await putManifest('uploads/finished.txt', next);
    const replaced = runCleanupJob(job, { type: 'manual' }, deps, cutAfter(clock, 1000));
    await expect(replaced).rejects.toMatchObject({ code: 'JOB_ID_CONFLICT', issues: [{ path: 'manifest', message: expect.stringContaining('a new version is a new job') as unknown }] });
    await stack.s3.send(new DeleteObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: 'uploads/finished.txt' }));
    const gone = await runCleanupJob(job, { type: 'manual' }, deps, cutAfter(clock, 1000));

    // Assess
    expect(finished.summary.counts.deleted).toBe(20);
    expect(same).toEqual({ summary: finished.summary, reused: true });
    expect(gone).toEqual({ summary: finished.summary, reused: true });
    const left = stack.emulator.labellingJobImages(PROJECT, '411');
    expect(next.every((id) => left.has(id))).toBe(true);
    await assessAgreesWithStore(finished.summary, left);
  });

  it('runCleanupJob with how.manifestVersion and how.identity: a stale version is refused (MANIFEST_CHANGED) before anything is written; the right one runs under that identity and is recorded', async () => {
    // Prepare
    const ids = imageIds('pinned-how', 10);
    stack.emulator.seedLabellingJob(PROJECT, '412', ids);
    const key = 'uploads/pinned-how.txt';
    const stale = await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: 'old' }));
    const current = await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: ids.join('\n') }));
    const { deps, clock } = virtualDeps();
    const job = { target: { projectId: PROJECT, dataAnnotationId: '412' }, manifest: `s3://${stack.env.MANIFEST_BUCKET}/${key}` };
    const identity = { jobId: 'pinned-how-v2', source: 'content_hash' as const };

    // Act
    const refused = runCleanupJob(job, { type: 'queue', source: 'm-1' }, deps, cutAfter(clock, 1000), { identity, manifestVersion: { etag: stale.ETag! } });
    await expect(refused).rejects.toMatchObject({ code: 'MANIFEST_CHANGED', issues: [{ path: 'manifest', message: expect.stringContaining(`ETag ${stale.ETag!}, the version this job reads, is no longer there`) as unknown }] });
    const recordBefore = await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/pinned-how-v2/job.json`).catch(() => undefined);
    const { summary } = await runCleanupJob(job, { type: 'queue', source: 'm-2' }, deps, cutAfter(clock, 1000), { identity, manifestVersion: { etag: current.ETag! } });

    // Assess
    expect(recordBefore).toBeUndefined();
    expect(summary).toMatchObject({ jobId: 'pinned-how-v2', jobIdSource: 'content_hash', status: 'completed', counts: { deleted: 10 } });
    const record = JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/pinned-how-v2/job.json`)) as Record<string, unknown>;
    expect(record).toMatchObject({ formatVersion: 1, jobId: 'pinned-how-v2', manifestVersion: { etag: current.ETag }, entries: 10, trigger: { type: 'queue', source: 'm-2' }, content: { manifest: job.manifest, dryRun: false } });
    await assessAgreesWithStore(summary, stack.emulator.labellingJobImages(PROJECT, '412'));
  });
});

describe('a part of a split job', () => {
  it('is refused when the plan it would run is not the one of the job recorded under the id', async () => {
    // Prepare: a split job planned and queued; then its record says another job (as a plan left by a
    // job from before records would look to the job that reused its id).
    const ids = imageIds('part-plan', 12);
    stack.emulator.seedLabellingJob(PROJECT, '413', ids);
    const manifest = await putManifest('uploads/part-plan.txt', ids);
    const { deps, clock } = virtualDeps();
    const split = await runCleanupJob({ jobId: 'part-plan', target: { projectId: PROJECT, dataAnnotationId: '413' }, manifest, options: { chunkSize: 2, scaleOut: { partSize: 6 } } }, { type: 'manual' }, deps, cutAfter(clock, 1000));
    expect(split.summary.stop?.kind).toBe('split');
    const recordKey = 'reports/part-plan/job.json';
    const record = JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/${recordKey}`)) as { content: { dryRun: boolean } };
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: recordKey, Body: JSON.stringify({ ...record, content: { ...record.content, dryRun: true } }) }));

    // Act
    const refused = runScaleOutPart('part-plan', 1, { type: 'queue', source: 'w1' }, deps, cutAfter(clock, 1000));

    // Assess
    await expect(refused).rejects.toMatchObject({ code: 'JOB_ID_CONFLICT', issues: [{ path: 'options.dryRun' }] });
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, '413').size).toBe(12);
  });

  it('writes its own record at its first claim, and a redelivery is checked against it and answered', async () => {
    // Prepare
    const ids = imageIds('part-record', 12);
    stack.emulator.seedLabellingJob(PROJECT, '414', ids);
    const manifest = await putManifest('uploads/part-record.txt', ids);
    // The real clock: a part's progress ticker sleeps 10 s, which a virtual clock would spend at once.
    const deps = stackDeps(stack);
    await runCleanupJob({ jobId: 'part-record', target: { projectId: PROJECT, dataAnnotationId: '414' }, manifest, options: { chunkSize: 2, scaleOut: { partSize: 6 } } }, { type: 'manual' }, deps, testBudget());

    // Act
    const first = await runScaleOutPart('part-record', 1, { type: 'queue', source: 'w1' }, deps, testBudget());
    const again = await runScaleOutPart('part-record', 1, { type: 'queue', source: 'w1-again' }, deps, testBudget());

    // Assess
    const record = JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/part-record/parts/part-0001/job.json`)) as Record<string, unknown>;
    expect(record).toMatchObject({ jobId: 'part-record.part-0001', entries: 6, content: { manifest: `s3://${stack.env.REPORT_BUCKET}/reports/part-record/plan/part-0001.jsonl` } });
    expect(first.summary.counts.deleted).toBe(6);
    expect(again).toMatchObject({ reused: true, summary: { counts: { deleted: 6 } } });
    expect(stack.emulator.requests.flatMap((r) => r.imageIds)).toHaveLength(6);
  });
});
