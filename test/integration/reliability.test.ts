import { Logger } from '@aws-lambda-powertools/logger';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { parse } from 'csv-parse/sync';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import { createModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { processQueueBatch, processQueueRecord } from '../../lib/triggers/processQueueBatch.js';
import { runCleanupJob } from '../../lib/job/runCleanupJob.js';
import { type CleanupDeps } from '../../lib/job/types.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { seededRandom } from '../../local/emulator/seededRandom.js';
import { clockedModelArts } from '../support/clockedModelArts.js';
import { failingS3 } from '../support/failingS3.js';
import { readResults, type ResultLine } from '../support/readResults.js';
import { sqsEvent, sqsRecord } from '../support/sqsEvents.js';
import { imageIds, readS3Text, stackDeps } from '../support/stackDeps.js';
import { virtualClock, type AdvancingClock } from '../support/virtualClock.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { testBudget } from '../support/testBudget.js';

// Integration: the reliability and safety acceptance lines of issue 6, each against the real local
// servers (fauxqs S3 and SQS, the ModelArts emulator over HTTP).
const PROJECT = '0123456789abcdef0123456789abcdef';

const stack = useLocalStack();

beforeEach(() => {
  stack.emulator.requests.length = 0;
  Object.assign(stack.emulator.settings, { latencyMs: 0, latencyJitterMs: 0, randomFaults: undefined, auth: 'none' });
});

const silent = () => new Logger({ serviceName: 'image-cleanup-test', logLevel: 'SILENT' });

/** Production deps on a virtual clock: every request moves it 10 ms, sleeps are instant (see test/support/virtualClock.ts). */
function virtualDeps(env: Record<string, string> = {}): { deps: CleanupDeps; clock: AdvancingClock } {
  const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(7), sleeps: 'advance' });
  const config = loadConfig({ ...stack.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', DEADLINE_MARGIN_MS: '1000', REQUEST_TIMEOUT_MS: '1000', ...env });
  const modelArts = clockedModelArts(createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, now: () => clock.now() }), clock, 10);
  const deps = createCleanupDeps(config, { s3: stack.s3, sqs: stack.sqs, clock, modelArts, logger: silent() });
  delete deps.metrics;
  return { deps, clock };
}

/** A job's entries: present images, images already gone, invalid entries and repeats, interleaved. */
function mixedEntries(label: string): { present: string[]; entries: unknown[] } {
  const present = imageIds(`${label}-present`, 400);
  const gone = imageIds(`${label}-gone`, 20);
  const entries: unknown[] = [];
  for (const [i, id] of present.entries()) {
    entries.push(id);
    if (i % 20 === 5) entries.push(gone[Math.floor(i / 20)]);
    if (i % 40 === 7) entries.push(`bad-${i}`);
    if (i % 27 === 3) entries.push(present[i - 1] ?? id);
  }
  return { present, entries };
}

function outcomesByLine(lines: ResultLine[]): Map<number, string> {
  return new Map(lines.map((line) => [line.line, `${line.image_id} ${line.outcome} ${line.error_code ?? ''}`]));
}

async function summaryKeys(jobId: string): Promise<string[]> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.env.REPORT_BUCKET, Prefix: `reports/${jobId}/` }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '').filter((key) => key.endsWith('summary.json'));
}

describe('a job cut by the deadline', () => {
  it('into at least three invocations, continued from the work queue, ends with one report whose counts and outcomes match a run without cuts', async () => {
    // Prepare: the same images in two labelling jobs, so the cut run and the uncut run start from identical states.
    const { present, entries } = mixedEntries('cut');
    stack.emulator.seedLabellingJob(PROJECT, '300', present);
    stack.emulator.seedLabellingJob(PROJECT, '301', present);
    const options = { chunkSize: 10, maxInFlight: 1 };
    const uncut = await runCleanupJob({ target: { projectId: PROJECT, dataAnnotationId: '301' }, imageIds: entries, options, jobId: 'uncut-reference' }, { type: 'manual' }, virtualDeps().deps);
    const { deps, clock } = virtualDeps();
    // 1,000 ms of deadline margin and 1,000 ms of request timeout leave 100 ms of chunk starts, ~10 requests, per invocation.
    const context = () => createLambdaContext('queue', 2_100, () => clock.now());
    const first = sqsRecord(JSON.stringify({ target: { projectId: PROJECT, dataAnnotationId: '300' }, imageIds: entries, options }), 'cut-message-1');

    // Act: the first delivery, then each continuation the pipeline queued, as the event source mapping would deliver it.
    let response = await processQueueBatch(sqsEvent(first), deps, context());
    const continuations: string[] = [];
    for (let round = 0; round < 50; round += 1) {
      expect(response.batchItemFailures).toEqual([]);
      const received = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.env.WORK_QUEUE_URL, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
      const message = received.Messages?.[0];
      if (message === undefined) break;
      continuations.push(message.Body ?? '');
      await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.env.WORK_QUEUE_URL, ReceiptHandle: message.ReceiptHandle }));
      response = await processQueueBatch(sqsEvent(sqsRecord(message.Body ?? '', message.MessageId)), deps, context());
    }

    // Assess
    const jobId = 'msg-cut-message-1';
    expect(continuations.length).toBeGreaterThanOrEqual(2);
    expect(new Set(continuations)).toEqual(new Set([JSON.stringify({ continueJob: jobId })]));
    const summary = JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/${jobId}/summary.json`)) as JobSummary;
    expect(summary.invocations).toBeGreaterThanOrEqual(3);
    expect(summary.invocations).toBe(continuations.length + 1);
    expect(summary.status).toBe(uncut.summary.status);
    expect(summary.counts).toEqual(uncut.summary.counts);
    expect(summary.counts).toMatchObject({ received: entries.length, deleted: 400, already_deleted: 20 });
    expect(await summaryKeys(jobId)).toHaveLength(1);
    // Each entry counted once: one results line per entry, and the same outcome as without cuts.
    const cutLines = await readResults(stack.s3, summary.report.results);
    const uncutLines = await readResults(stack.s3, uncut.summary.report.results);
    // One line per distinct entry (repeats are only counted), each line number once.
    expect(cutLines).toHaveLength(entries.length - summary.counts.duplicate);
    expect(new Set(cutLines.map((line) => line.line)).size).toBe(cutLines.length);
    expect(outcomesByLine(cutLines)).toEqual(outcomesByLine(uncutLines));
    const rows = (uri: string) => parse<Record<string, string>>(uri, { columns: true }).map((row) => `${row.image_id} ${row.outcome} ${row.error_code} ${row.line}`).sort();
    expect(rows(await readS3Text(stack.s3, summary.report.failed))).toEqual(rows(await readS3Text(stack.s3, uncut.summary.report.failed)));
    // Every image was sent exactly once across the invocations: nothing re-sent after a cut.
    const sentOk = stack.emulator.requests.filter((r) => r.status === 200 && r.path.includes('/300/')).flatMap((r) => r.imageIds);
    expect(sentOk).toHaveLength(400);
    expect(new Set(sentOk).size).toBe(400);
    expect(stack.emulator.labellingJobImages(PROJECT, '300').size).toBe(0);
  });
});

describe('the same SQS message delivered twice', () => {
  const target = { projectId: PROJECT, dataAnnotationId: '310' };

  it('one after the other: one run and one report; the second delivery gets the existing summary and sends nothing', async () => {
    // Prepare
    const ids = imageIds('twice-sequential', 120);
    stack.emulator.seedLabellingJob(PROJECT, '310', ids);
    const record = sqsRecord(JSON.stringify({ target, imageIds: ids, options: { chunkSize: 25 } }), 'dup-sequential');
    const deps = stackDeps(stack, {}, { logger: silent() });

    // Act
    const first = await processQueueBatch(sqsEvent(record), deps, createLambdaContext('queue'));
    const sentAfterFirst = stack.emulator.requests.length;
    const second = await processQueueRecord(record, deps, createLambdaContext('queue'));

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(stack.emulator.requests).toHaveLength(sentAfterFirst);
    const sent = stack.emulator.requests.flatMap((r) => r.imageIds);
    expect(sent).toHaveLength(120);
    expect(new Set(sent).size).toBe(120);
    expect(second.kind).toBe('job');
    const stored = JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/msg-dup-sequential/summary.json`)) as JobSummary;
    expect(second.kind === 'job' ? second.summary : undefined).toEqual(stored);
    expect(stored.counts.deleted).toBe(120);
    expect(await summaryKeys('msg-dup-sequential')).toHaveLength(1);
  });

  it('concurrently: one run; the other fails with JOB_IN_PROGRESS (redelivered), and on redelivery gets the existing summary without a request', async () => {
    // Prepare: slow answers, so the first run is still going when the duplicate arrives.
    const ids = imageIds('twice-concurrent', 100);
    stack.emulator.seedLabellingJob(PROJECT, '310', ids);
    stack.emulator.settings.latencyMs = 20;
    const record = sqsRecord(JSON.stringify({ target, imageIds: ids, options: { chunkSize: 10, maxInFlight: 1 } }), 'dup-concurrent');
    const deps = stackDeps(stack, {}, { logger: silent() });

    // Act
    const [a, b] = await Promise.all([processQueueBatch(sqsEvent(record), deps, createLambdaContext('queue')), processQueueBatch(sqsEvent(record), deps, createLambdaContext('queue'))]);
    const sentByRun = stack.emulator.requests.length;
    const redelivered = await processQueueRecord(record, deps, createLambdaContext('queue'));

    // Assess: exactly one of the two deliveries failed (and so comes back); the other ran the job.
    const failures = [...a.batchItemFailures, ...b.batchItemFailures];
    expect(failures).toEqual([{ itemIdentifier: 'dup-concurrent' }]);
    const sent = stack.emulator.requests.flatMap((r) => r.imageIds);
    expect(sent).toHaveLength(100);
    expect(new Set(sent).size).toBe(100);
    expect(stack.emulator.requests).toHaveLength(sentByRun);
    const stored = JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/msg-dup-concurrent/summary.json`)) as JobSummary;
    expect(redelivered.kind === 'job' ? redelivered.summary : undefined).toEqual(stored);
    expect(stored.counts.deleted).toBe(100);
    expect(await summaryKeys('msg-dup-concurrent')).toHaveLength(1);
  });

  it('the one that loses the claim fails with JOB_IN_PROGRESS naming the job', async () => {
    // Prepare
    const ids = imageIds('twice-claim', 60);
    stack.emulator.seedLabellingJob(PROJECT, '310', ids);
    stack.emulator.settings.latencyMs = 20;
    const record = sqsRecord(JSON.stringify({ target, imageIds: ids, options: { chunkSize: 10, maxInFlight: 1 } }), 'dup-claim');
    const deps = stackDeps(stack, {}, { logger: silent() });

    // Act
    const settled = await Promise.allSettled([processQueueRecord(record, deps, createLambdaContext('queue')), processQueueRecord(record, deps, createLambdaContext('queue'))]);

    // Assess
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatchObject({ code: 'JOB_IN_PROGRESS', jobId: 'msg-dup-claim' });
  });
});

describe('guard rails for an irreversible delete', () => {
  const target = { projectId: PROJECT, dataAnnotationId: '320' };

  it('a dry run sends no delete request and lists what would be deleted', async () => {
    // Prepare
    const ids = imageIds('dry', 30);
    stack.emulator.seedLabellingJob(PROJECT, '320', ids);

    // Act
    const result = await runManualInvocation({ target, imageIds: [...ids, 'nope', ids[0]], options: { dryRun: true, chunkSize: 7 } }, stackDeps(stack, {}, { logger: silent() }));

    // Assess
    expect(result.status).toBe('completed');
    if (result.status !== 'completed') return;
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.labellingJobImages(PROJECT, '320').size).toBe(30);
    expect(result.summary.status).toBe('dry_run');
    expect(result.summary.counts).toMatchObject({ would_delete: 30, invalid: 1, duplicate: 1, deleted: 0 });
    const lines = await readResults(stack.s3, result.report.results);
    expect(lines.filter((line) => line.outcome === 'would_delete').map((line) => line.image_id)).toEqual(ids);
  });

  it('a job above the cap without confirmation fails before any delete; with the wrong count too; with the right one it runs', async () => {
    // Prepare
    const ids = imageIds('cap', 60);
    stack.emulator.seedLabellingJob(PROJECT, '320', ids);
    const deps = stackDeps(stack, { MAX_IDS_PER_JOB: '50' }, { logger: silent() });

    // Act
    const unconfirmed = await runManualInvocation({ target, imageIds: ids }, deps);
    const miscounted = await runManualInvocation({ target, imageIds: ids, options: { confirmEntries: 59 } }, deps);
    const sentBeforeConfirmed = stack.emulator.requests.length;
    const confirmed = await runManualInvocation({ target, imageIds: ids, options: { confirmEntries: 60 } }, deps);

    // Assess
    for (const refused of [unconfirmed, miscounted]) {
      expect(refused.status).toBe('rejected');
      if (refused.status !== 'rejected') continue;
      expect(refused.error.issues.map((issue) => issue.path)).toEqual(['options.confirmEntries']);
      expect(refused.error.message).toContain('MAX_IDS_PER_JOB (50)');
    }
    expect(sentBeforeConfirmed).toBe(0);
    expect(confirmed.status).toBe('completed');
    expect(confirmed.status === 'completed' ? confirmed.summary.counts.deleted : 0).toBe(60);
  });

  it('a target outside the allow-list is refused before any request; one inside it runs', async () => {
    // Prepare
    const ids = imageIds('allow', 5);
    stack.emulator.seedLabellingJob(PROJECT, '320', ids);
    stack.emulator.seedLabellingJob(PROJECT, '321', ids);
    const deps = stackDeps(stack, { ALLOWED_TARGETS: `${PROJECT}/321,fedcba9876543210fedcba9876543210` }, { logger: silent() });

    // Act
    const refused = await runManualInvocation({ target, imageIds: ids }, deps);
    const otherProject = await runManualInvocation({ target: { projectId: 'aaaa0000aaaa0000aaaa0000aaaa0000', dataAnnotationId: '320' }, imageIds: ids }, deps);
    const sentBeforeAllowed = stack.emulator.requests.length;
    const allowed = await runManualInvocation({ target: { projectId: PROJECT, dataAnnotationId: '321' }, imageIds: ids }, deps);

    // Assess
    for (const result of [refused, otherProject]) {
      expect(result.status).toBe('rejected');
      if (result.status !== 'rejected') continue;
      expect(result.error.issues[0]?.path).toBe('target');
      expect(result.error.message).toContain('ALLOWED_TARGETS');
    }
    expect(sentBeforeAllowed).toBe(0);
    expect(stack.emulator.labellingJobImages(PROJECT, '320').size).toBe(5);
    expect(allowed.status).toBe('completed');
  });

  it('a manifest in another bucket, or with "..", is refused even though the object exists', async () => {
    // Prepare
    const ids = imageIds('elsewhere', 3);
    stack.emulator.seedLabellingJob(PROJECT, '320', ids);
    await stack.s3.send(new CreateBucketCommand({ Bucket: 'someone-elses-bucket' }));
    await stack.s3.send(new PutObjectCommand({ Bucket: 'someone-elses-bucket', Key: 'list.txt', Body: ids.join('\n') }));
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.MANIFEST_BUCKET, Key: 'uploads/list.txt', Body: ids.join('\n') }));
    const deps = stackDeps(stack, { MANIFEST_PREFIX: 'uploads/' }, { logger: silent() });

    // Act
    const otherBucket = await runManualInvocation({ target, manifest: 's3://someone-elses-bucket/list.txt' }, deps);
    const dotDot = await runManualInvocation({ target, manifest: `s3://${stack.env.MANIFEST_BUCKET}/uploads/../uploads/list.txt` }, deps);
    const outsidePrefix = await runManualInvocation({ target, manifest: `s3://${stack.env.MANIFEST_BUCKET}/elsewhere/list.txt` }, deps);

    // Assess
    expect(otherBucket.status === 'rejected' ? otherBucket.error.message : '').toContain('bucket "someone-elses-bucket"');
    expect(dotDot.status === 'rejected' ? dotDot.error.message : '').toContain('".."');
    expect(outsidePrefix.status === 'rejected' ? outsidePrefix.error.message : '').toContain('elsewhere/list.txt');
    for (const result of [otherBucket, dotDot, outsidePrefix]) expect(result.status === 'rejected' ? result.error.issues[0]?.path : result.status).toBe('manifest');
    expect(stack.emulator.requests).toHaveLength(0);
  });
});

describe('the failure threshold', () => {
  const entries = imageIds('threshold', 2000);
  const env = { FAILURE_THRESHOLD_MIN_ATTEMPTED: '50', FAILURE_THRESHOLD_RATE: '0.5' };
  const options = { chunkSize: 10, maxInFlight: 2 };

  async function assessStopped(summary: Awaited<ReturnType<typeof runCleanupJob>>['summary'], failureCode: string) {
    expect(summary.status).toBe('stopped_failure_threshold');
    expect(summary.stopReason).toContain('failure threshold');
    expect(summary.counts.failed).toBeGreaterThanOrEqual(50);
    expect(summary.counts.failed + summary.counts.skipped).toBe(2000);
    // Attempted: the first 50, plus at most the chunks already in progress (2 × maxInFlight chunks of 10).
    expect(summary.counts.failed).toBeLessThanOrEqual(50 + 2 * 2 * 10);
    const lines = await readResults(stack.s3, summary.report.results);
    expect(lines).toHaveLength(2000);
    expect(new Set(lines.filter((line) => line.outcome === 'failed').map((line) => line.error_code))).toEqual(new Set([failureCode]));
    const skipped = lines.filter((line) => line.outcome === 'skipped');
    expect(skipped).toHaveLength(summary.counts.skipped);
    expect(new Set(skipped.map((line) => line.error_code))).toEqual(new Set(['FAILURE_THRESHOLD']));
    expect(skipped[0]?.error_message).toContain('failure threshold');
    // The number of requests stays bounded: no bisection of a target failure, no retries of a refusal.
    expect(stack.emulator.requests.length).toBeLessThanOrEqual(Math.ceil(50 / 10) + 2 * 2);
  }

  it('a wrong target (every request fails permanently) stops after N attempted; the rest are skipped with the reason', async () => {
    // Prepare: the labelling job does not exist (400 ModelArts.4352 for every request).
    const deps = stackDeps(stack, env, { logger: silent() });

    // Act
    const { summary } = await runCleanupJob({ target: { projectId: PROJECT, dataAnnotationId: 'no-such-job' }, imageIds: entries, options }, { type: 'manual' }, deps);

    // Assess
    await assessStopped(summary, 'ModelArts.4352');
  });

  it('a wrong credential (every signature refused) stops after N attempted; the rest are skipped with the reason', async () => {
    // Prepare: the gateway checks AK/SK signatures; the function signs with a secret key the gateway does not know.
    stack.emulator.settings.auth = 'aksk';
    stack.emulator.auth.accessKeys.push({ accessKey: 'THRESHOLDTESTKEY0001', secretKey: 'the-right-secret-of-forty-characters-xxx' });
    stack.emulator.seedLabellingJob(PROJECT, '330', entries);
    const config = loadConfig({ ...stack.env, ...env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', MODELARTS_AUTH: 'aksk' });
    const deps = createCleanupDeps(config, { s3: stack.s3, logger: silent() }, { env: { MODELARTS_ACCESS_KEY: 'THRESHOLDTESTKEY0001', MODELARTS_SECRET_KEY: 'a-wrong-secret-of-forty-characters-xxxxx' } });

    // Act
    const { summary } = await runCleanupJob({ target: { projectId: PROJECT, dataAnnotationId: '330' }, imageIds: entries, options }, { type: 'manual' }, deps);

    // Assess
    await assessStopped(summary, 'APIG.0301');
    expect(stack.emulator.labellingJobImages(PROJECT, '330').size).toBe(2000);
  });
});

describe('the failure threshold across deadline cuts', () => {
  it('a job cut by the deadline after every chunk still stops at its threshold (the restored counts are judged)', async () => {
    // lib/pipeline/FailureThreshold.ts: the constructor restores { attempted, failed } from the checkpoint but
    // does not judge them, so `crossed` stays undefined until the next observe(); and in
    // lib/job/runCleanupJob.ts a pass whose shouldStop said 'deadline' saves a checkpoint even when the
    // threshold was crossed by the chunks that settled after that. An invocation that fits one chunk
    // thus always starts one more: a wrong target burns through the whole list, one chunk per invocation.
    // Expected: stopped_failure_threshold after the first chunk (minAttempted 1, rate 0), the rest skipped.
    // Prepare: a labelling job that does not exist (every request fails with ModelArts.4352).
    const { deps, clock } = virtualDeps();
    const job = { target: { projectId: PROJECT, dataAnnotationId: 'missing-job' }, imageIds: imageIds('threshold-cut', 50), options: { chunkSize: 10, maxInFlight: 1, failureThreshold: { minAttempted: 1, maxFailureRate: 0 } }, jobId: 'threshold-cut' };

    // Act: each invocation may start chunks for 10 virtual ms (one request).
    let summary = (await runCleanupJob(job, { type: 'manual' }, deps, testBudget({ stopStartingAt: clock.now() + 10 }, clock.now()), { continuation: false })).summary;
    for (let i = 0; i < 10 && summary.status === 'continuing'; i += 1) {
      summary = (await runCleanupJob(job, { type: 'manual' }, deps, testBudget({ stopStartingAt: clock.now() + 10 }, clock.now()), { continuation: false })).summary;
    }

    // Assess
    expect(summary.status).toBe('stopped_failure_threshold');
    expect(summary.counts.failed).toBeLessThanOrEqual(20);
    expect(summary.counts.skipped).toBeGreaterThanOrEqual(30);
  });
});

describe('a report write that fails', () => {
  it('after the summary write of a job cut into two invocations fails, re-running the job completes its report (the part files are kept until then)', async () => {
    // lib/job/runCleanupJob.ts runClaimedJob: assembleReport() deletes the part files before
    // writeSummary(); when writeSummary then fails, checkpoint.json still says one invocation was
    // done, so the re-run (invocation 2 again) asks assembleReport for part 1, which is gone:
    // NoSuchKey on every retry, the job is stuck and the outcomes of invocation 1 are lost.
    // Expected: the re-run completes with a report of the whole job (or the parts survive until summary.json is written).
    // Prepare
    const ids = imageIds('summary-fails', 40);
    stack.emulator.seedLabellingJob(PROJECT, '340', ids);
    const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(3), sleeps: 'advance' });
    const config = loadConfig({ ...stack.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5' });
    const modelArts = clockedModelArts(createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: 5_000, now: () => clock.now() }), clock, 10);
    const s3 = failingS3(stack.s3, 'reports/summary-fails/summary.json');
    const deps = createCleanupDeps(config, { s3: s3.s3, clock, modelArts, logger: silent() });
    delete deps.metrics;
    const job = { target: { projectId: PROJECT, dataAnnotationId: '340' }, imageIds: ids, options: { chunkSize: 10, maxInFlight: 1 }, jobId: 'summary-fails' };
    const cut = await runCleanupJob(job, { type: 'manual' }, deps, testBudget({ stopStartingAt: clock.now() + 20 }, clock.now()), { continuation: false });
    expect(cut.summary.status).toBe('continuing');
    s3.failWrite(0);
    await expect(runCleanupJob(job, { type: 'manual' }, deps, testBudget({}, clock.now()), { continuation: false })).rejects.toMatchObject({ code: 'REPORT_WRITE_FAILED' });

    // Act: re-run the same job, as a redelivery would.
    const rerun = await runCleanupJob(job, { type: 'manual' }, deps, testBudget({}, clock.now()), { continuation: false });

    // Assess
    expect(rerun.summary.counts).toMatchObject({ received: 40 });
    expect(rerun.summary.counts.deleted + rerun.summary.counts.already_deleted).toBe(40);
  });

  it('KNOWN LIMITATION: IDs deleted by an invocation whose report write failed are reported already_deleted by the re-run, not deleted', async () => {
    // An invocation that throws saves no outcome (no checkpoint, parts overwritten), so the re-run
    // finds its IDs gone (ModelArts.4420). The report is complete and consistent, but says
    // already_deleted for images this job deleted. The property test allows exactly this, and no more.
    // Prepare
    const ids = imageIds('parts-fail', 30);
    stack.emulator.seedLabellingJob(PROJECT, '341', ids);
    const s3 = failingS3(stack.s3, 'reports/parts-fail/parts/');
    const deps = stackDeps(stack, {}, { s3: s3.s3, logger: silent() });
    delete deps.metrics;
    const job = { target: { projectId: PROJECT, dataAnnotationId: '341' }, imageIds: ids, options: { chunkSize: 10 }, jobId: 'parts-fail' };
    s3.failWrite(0);

    // Act
    await expect(runCleanupJob(job, { type: 'manual' }, deps)).rejects.toMatchObject({ code: 'REPORT_WRITE_FAILED' });
    const deletedByFailedRun = 30 - stack.emulator.labellingJobImages(PROJECT, '341').size;
    const rerun = await runCleanupJob(job, { type: 'manual' }, deps);

    // Assess
    expect(deletedByFailedRun).toBe(30);
    expect(rerun.summary.counts).toMatchObject({ received: 30, deleted: 0, already_deleted: 30 });
  });
});
