import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { completeScaleOutJob } from '../../lib/scaleout/completeScaleOutJob.js';
import { jobProgressSchema } from '../../lib/scaleout/jobProgressSchema.js';
import { jobSummarySchema, type JobSummary } from '../../lib/report/jobSummary.js';
import { reportLocation } from '../../lib/report/ReportLocation.js';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { runCleanupJob } from '../../lib/job/runCleanupJob.js';
import { type CleanupDeps } from '../../lib/job/types.js';
import { runScaleOutPart } from '../../lib/scaleout/runScaleOutPart.js';
import { scaleOutLayout } from '../../lib/scaleout/scaleOutLayout.js';
import { planSlot, planSlots } from '../../lib/scaleout/planPartition.js';
import { scaleOutPlanSchema, type ScaleOutPlan } from '../../lib/scaleout/scaleOutPlanSchema.js';
import { writeJobProgress } from '../../lib/scaleout/writeJobProgress.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { formatJobProgress } from '../../local/cli/formatJobProgress.js';
import { startQueueWorkers } from '../../local/stack/startQueueWorkers.js';
import { startSqsPoller } from '../../local/stack/sqsPoller.js';
import { sqsEvent, sqsRecord } from '../support/sqsEvents.js';
import { imageIds, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { testBudget } from '../support/testBudget.js';
import { capturingLogger } from '../support/capturingLogger.js';

// Integration: split jobs against the local stack (fauxqs S3 with conditional writes enforced,
// SQS) and the ModelArts emulator; parts are run by the real queue handler.
const PROJECT = '5ca1e0u70123456789abcdef01234567'.replace(/[^0-9a-f]/g, '0');
const stack = useLocalStack();
let bucket: string;

beforeAll(() => {
  bucket = stack.env.MANIFEST_BUCKET!;
});
beforeEach(() => {
  stack.emulator.requests.length = 0;
});

/** Deps on the stack with a work queue of the test's own, so its messages are its alone. */
async function depsWithQueue(env: Record<string, string> = {}): Promise<{ deps: CleanupDeps; queueUrl: string }> {
  const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `scale-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 1 });
  return { deps: stackDeps(stack, { WORK_QUEUE_URL: workQueueUrl, ...env }), queueUrl: workQueueUrl };
}

async function putManifest(name: string, lines: readonly string[]): Promise<string> {
  const key = `uploads/${name}-${randomUUID().slice(0, 8)}.txt`;
  await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: lines.join('\n') }));
  return `s3://${bucket}/${key}`;
}

/** Takes every message off a queue (they are the test's to process by hand). */
async function takeMessages(queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) return bodies;
    for (const message of Messages) {
      bodies.push(message.Body ?? '');
      await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

async function readText(key: string, gzip = false): Promise<string> {
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: key }));
  const bytes = Buffer.from(await object.Body!.transformToByteArray());
  return (gzip ? gunzipSync(bytes) : bytes).toString('utf8');
}

/** A job's results.jsonl.gz, one line per entry, in line order. */
async function results(summary: JobSummary): Promise<Array<{ image_id: string; outcome: string; line: number }>> {
  const key = summary.report.results.replace(`s3://${stack.env.REPORT_BUCKET}/`, '');
  const lines = (await readText(key, true)).trimEnd().split('\n').map((line) => JSON.parse(line) as { image_id: string; outcome: string; line: number });
  return lines.sort((a, b) => a.line - b.line);
}

/** A split job's plan.json (its parts are hash slots: their sizes vary around partSize). */
async function readPlan(jobId: string): Promise<ScaleOutPlan> {
  const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET!, 'reports/', jobId));
  const plan = await readS3Json(stack.s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema);
  if (plan === undefined) return expect.fail(`job ${jobId} has no plan.json`);
  return plan;
}

/** The IDs of a part: those whose hash slot is the part's (every occurrence of an ID is in one part). */
function partIds(plan: ScaleOutPlan, part: number, ids: readonly string[]): string[] {
  const slots = planSlots(plan.entries, plan.partSize);
  return ids.filter((id) => planSlot(id, slots) + 1 === plan.parts[part - 1]!.slot);
}

async function finalSummary(jobId: string): Promise<JobSummary | undefined> {
  const location = reportLocation(stack.env.REPORT_BUCKET!, 'reports/', jobId);
  return readS3Json(stack.s3, location.bucket, location.summaryKey, jobSummarySchema);
}

function context(): Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'> {
  return createLambdaContext('image-cleanup-queue', 900_000);
}

/** A manifest with what real lists hold: repeats (also across part boundaries), invalid lines, upper case, IDs already gone. */
function messyManifest(label: string): { lines: string[]; present: string[] } {
  const ids = imageIds(label, 30);
  const gone = imageIds(`${label}-gone`, 3);
  const lines = [...ids.slice(0, 10), ids[2]!, 'not-an-id', ids[12]!.toUpperCase(), ...ids.slice(10, 20), ...gone, ids[5]!, '', ...ids.slice(20), 'xyz', ids[29]!];
  return { lines, present: ids };
}

describe('scale-out of a big manifest job', () => {
  it('ends a job split into parts with one final report whose counts, lines and outcomes equal the unsplit run', async () => {
    // Prepare
    const { lines, present } = messyManifest('split');
    stack.emulator.seedLabellingJob(PROJECT, 'unsplit', present);
    stack.emulator.seedLabellingJob(PROJECT, 'split', present);
    const manifest = await putManifest('messy', lines);
    const { deps, queueUrl } = await depsWithQueue();
    const unsplit = await runCleanupJob({ jobId: 'unsplit-run', target: { projectId: PROJECT, dataAnnotationId: 'unsplit' }, manifest, options: { chunkSize: 4, scaleOut: false } }, { type: 'manual' }, deps);
    // Two workers, as two Lambda instances, polling the job's queue.
    const handler = (event: Parameters<typeof processQueueBatch>[0], ctx: Context) => processQueueBatch(event, deps, ctx);
    const pollers = [startSqsPoller({ sqs: stack.sqs, queueUrl, handler, waitTimeSeconds: 1 }), startSqsPoller({ sqs: stack.sqs, queueUrl, handler, waitTimeSeconds: 1 })];

    // Act
    const planned = await runCleanupJob({ jobId: 'split-run', target: { projectId: PROJECT, dataAnnotationId: 'split' }, manifest, options: { chunkSize: 4, scaleOut: { partSize: 7 } } }, { type: 'manual' }, deps);
    let split: JobSummary | undefined;
    for (let waited = 0; split === undefined && waited < 30_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      split = await finalSummary('split-run');
    }
    await Promise.all(pollers.map((poller) => poller.stop()));

    // Assess: 39 entries in parts of 7 are 6 hash slots; each valid occurrence (37: 33 IDs, 4 repeats) is in its ID's part.
    const plan = await readPlan('split-run');
    expect(plan.parts).toHaveLength(6);
    expect(plan.parts.reduce((sum, part) => sum + part.entries, 0)).toBe(37);
    expect(planned.summary).toMatchObject({ status: 'continuing', scaleOut: { parts: 6, partSize: 7 } });
    expect(split).toBeDefined();
    expect(split!.status).toBe(unsplit.summary.status);
    expect(split!.counts).toEqual(unsplit.summary.counts);
    expect(split!.counts).toEqual({ received: lines.filter((line) => line !== '').length, deleted: 30, already_deleted: 3, failed: 0, invalid: 2, duplicate: 4, skipped: 0, would_delete: 0 });
    expect(split!.normalized).toBe(unsplit.summary.normalized);
    expect(split!.scaleOut).toMatchObject({ parts: 6, partSize: 7 });
    expect(await results(split!)).toEqual(await results(unsplit.summary));
    // The same rows but for the target's column (the two runs delete from two labelling jobs).
    const failedRows = async (s: JobSummary) => (await readText(s.report.failed.replace(`s3://${stack.env.REPORT_BUCKET}/`, ''))).trimEnd().split('\n').map((row) => row.replace(/,(un)?split,$/, ',')).sort();
    expect(await failedRows(split!)).toEqual(await failedRows(unsplit.summary));
    expect(stack.emulator.labellingJobImages(PROJECT, 'split').size).toBe(0);
    const progress = await readS3Json(stack.s3, stack.env.REPORT_BUCKET!, 'reports/split-run/progress.json', jobProgressSchema);
    expect(progress).toMatchObject({ state: 'done', status: split!.status, settled: split!.counts.received, parts: { total: 6, done: 6, running: 0, waiting: 0 } });
  });

  it('processes a part delivered twice once: the second delivery sends nothing', async () => {
    // Prepare
    const ids = imageIds('twice', 12);
    stack.emulator.seedLabellingJob(PROJECT, 'twice', ids);
    const { deps, queueUrl } = await depsWithQueue();
    await runCleanupJob({ jobId: 'twice-run', target: { projectId: PROJECT, dataAnnotationId: 'twice' }, manifest: await putManifest('twice', ids), options: { chunkSize: 2, scaleOut: { partSize: 6 } } }, { type: 'manual' }, deps);
    const [first] = await takeMessages(queueUrl);
    stack.emulator.requests.length = 0;
    const partOne = partIds(await readPlan('twice-run'), 1, ids);

    // Act: the same message twice at once (as SQS may deliver it), then once more after.
    const [a, b] = await Promise.all([processQueueBatch(sqsEvent(sqsRecord(first!)), deps, context()), processQueueBatch(sqsEvent(sqsRecord(first!)), deps, context())]);
    const again = await runScaleOutPart('twice-run', 1, { type: 'queue', source: 'redelivery' }, deps, testBudget());

    // Assess
    expect(JSON.parse(first!)).toEqual({ runPart: { jobId: 'twice-run', part: 1 } });
    const sent = stack.emulator.requests.flatMap((request) => request.imageIds);
    expect(partOne.length).toBeGreaterThan(0);
    expect(sent.sort()).toEqual(partOne.sort()); // each ID of part 1 sent exactly once
    // Either the second delivery found the part claimed (and comes back later) or found it done.
    expect(a.batchItemFailures.length + b.batchItemFailures.length).toBeLessThanOrEqual(1);
    expect(again).toMatchObject({ reused: true, summary: { jobId: 'twice-run.part-0001', counts: { deleted: partOne.length } } });
    expect(stack.emulator.requests.flatMap((request) => request.imageIds)).toHaveLength(partOne.length);
    expect(stack.emulator.labellingJobImages(PROJECT, 'twice').size).toBe(12 - partOne.length); // part 2 has not run
  });

  it('has exactly one of two workers completing at once assemble the final summary', async () => {
    // Prepare
    const ids = imageIds('race', 20);
    stack.emulator.seedLabellingJob(PROJECT, 'race', ids);
    const { deps, queueUrl } = await depsWithQueue();
    await runCleanupJob({ jobId: 'race-run', target: { projectId: PROJECT, dataAnnotationId: 'race' }, manifest: await putManifest('race', ids), options: { chunkSize: 5, scaleOut: { partSize: 10 } } }, { type: 'manual' }, deps);
    await takeMessages(queueUrl);
    const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET!, 'reports/', 'race-run'));
    const plan = (await readS3Json(stack.s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema))!;

    // Act: both parts end together; then, with the summary removed, four completion checks at once.
    const parts = await Promise.all([1, 2].map((part) => runScaleOutPart('race-run', part, { type: 'queue', source: `worker-${part}` }, deps, testBudget())));
    const first = await finalSummary('race-run');
    await stack.s3.send(new DeleteObjectCommand({ Bucket: layout.job.bucket, Key: layout.job.summaryKey }));
    const checks = await Promise.all([1, 2, 3, 4].map((n) => completeScaleOutJob(plan, layout, deps, `checker-${n}`)));

    // Assess
    expect(parts.filter((part) => part.completion?.kind === 'assembled')).toHaveLength(1);
    expect(first?.counts).toMatchObject({ received: 20, deleted: 20 });
    expect(checks.filter((check) => check.kind === 'assembled')).toHaveLength(1);
    expect(checks.filter((check) => check.kind !== 'assembled').every((check) => check.kind === 'assembling_elsewhere' || check.kind === 'already_complete')).toBe(true);
    const again = await finalSummary('race-run');
    expect(again?.counts).toEqual(first?.counts);
    expect((await results(again!)).map((r) => r.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('keeps progress.json done when a worker\'s running progress lands after the final summary', async () => {
    // Prepare: a split job of 2 parts, run to its end.
    const ids = imageIds('late-progress', 10);
    stack.emulator.seedLabellingJob(PROJECT, 'late-progress', ids);
    const { deps, queueUrl } = await depsWithQueue();
    await runCleanupJob({ jobId: 'late-progress-run', target: { projectId: PROJECT, dataAnnotationId: 'late-progress' }, manifest: await putManifest('late-progress', ids), options: { chunkSize: 5, scaleOut: { partSize: 5 } } }, { type: 'manual' }, deps);
    await takeMessages(queueUrl);
    for (const part of [1, 2]) await runScaleOutPart('late-progress-run', part, { type: 'queue', source: `w${part}` }, deps, testBudget());
    const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET!, 'reports/', 'late-progress-run'));
    const plan = (await readS3Json(stack.s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema))!;

    // Act: a worker's periodic write, begun before the assembly, lands after it.
    await writeJobProgress(stack.s3, layout, plan, deps.clock);

    // Assess
    expect(await readS3Json(stack.s3, layout.job.bucket, layout.progressKey, jobProgressSchema)).toMatchObject({ state: 'done', status: 'completed', settled: 10 });
  });

  it('counts a part running in progress.json from its start, before its first delete: the parts\' limiters share the limit by that count', async () => {
    // Prepare: a split job of 2 parts; every delete answered after 300 ms.
    const ids = imageIds('counted', 10);
    stack.emulator.seedLabellingJob(PROJECT, 'counted', ids);
    const { deps, queueUrl } = await depsWithQueue();
    await runCleanupJob({ jobId: 'counted-run', target: { projectId: PROJECT, dataAnnotationId: 'counted' }, manifest: await putManifest('counted', ids), options: { chunkSize: 5, scaleOut: { partSize: 5 } } }, { type: 'manual' }, deps);
    await takeMessages(queueUrl);
    const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET!, 'reports/', 'counted-run'));
    stack.emulator.settings.latencyMs = 300;

    try {
      // Act: part 1 starts; progress.json is read while its first delete is in flight (long before the 10 s tick).
      const running = runScaleOutPart('counted-run', 1, { type: 'queue', source: 'w1' }, deps, testBudget());
      while (stack.emulator.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const during = await readS3Json(stack.s3, layout.job.bucket, layout.progressKey, jobProgressSchema);
      await running;

      // Assess
      expect(during).toMatchObject({ state: 'running', parts: { total: 2, running: 1, done: 0, waiting: 1 } });
    } finally {
      stack.emulator.settings.latencyMs = 0;
    }
  });

  it('tells a running part\'s limiter within seconds that another part ended (not at its 10 s progress tick): it takes the share that part left', async () => {
    // Prepare: a split job of 2 parts; part 2 is counted running (its progress file says so), and
    // part 1 sends one ID per request, one at a time, each answered after 300 ms: it runs for seconds.
    const ids = imageIds('follows', 40);
    stack.emulator.seedLabellingJob(PROJECT, 'follows', ids);
    const { deps, queueUrl } = await depsWithQueue();
    await runCleanupJob({ jobId: 'follows-run', target: { projectId: PROJECT, dataAnnotationId: 'follows' }, manifest: await putManifest('follows', ids), options: { chunkSize: 1, maxInFlight: 1, scaleOut: { partSize: 20 } } }, { type: 'manual' }, deps);
    await takeMessages(queueUrl);
    const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET!, 'reports/', 'follows-run'));
    const plan = await readPlan('follows-run');
    const zero = { deleted: 0, already_deleted: 0, failed: 0, invalid: 0, duplicate: 0, skipped: 0, would_delete: 0 };
    const part2 = (state: 'running' | 'done') => ({ part: 2, state, entries: plan.parts[1]!.entries, counts: zero, updatedAt: new Date().toISOString() });
    await stack.s3.send(new PutObjectCommand({ Bucket: layout.job.bucket, Key: layout.partProgressKey(2), Body: JSON.stringify(part2('running')) }));
    const { logger, lines } = capturingLogger();
    stack.emulator.settings.latencyMs = 300;

    try {
      // Act: part 1 runs; after its first delete, part 2 ends (as a finishing part does: its progress, then the job's).
      const running = runScaleOutPart('follows-run', 1, { type: 'queue', source: 'w1' }, { ...deps, logger }, testBudget());
      while (stack.emulator.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await stack.s3.send(new PutObjectCommand({ Bucket: layout.job.bucket, Key: layout.partProgressKey(2), Body: JSON.stringify(part2('done')) }));
      await writeJobProgress(stack.s3, layout, plan, deps.clock);
      await running;

      // Assess: the first progress log (5 s in) already counts part 1 alone.
      const progress = lines.filter((line) => line.message === 'job progress') as Array<{ limiter: { sharers: number } }>;
      expect(plan.parts[0]!.entries).toBeGreaterThanOrEqual(17);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[0]!.limiter.sharers).toBe(1);
    } finally {
      stack.emulator.settings.latencyMs = 0;
    }
  });

  it('skips the remaining parts, without a request, once a part crosses the failure threshold, and says so', async () => {
    // Prepare: the first two deletes are refused (403: not retried, not bisected): part 1 crosses the threshold.
    const ids = imageIds('threshold', 30);
    stack.emulator.seedLabellingJob(PROJECT, 'threshold', ids);
    const { deps, queueUrl } = await depsWithQueue();
    await runCleanupJob(
      { jobId: 'threshold-run', target: { projectId: PROJECT, dataAnnotationId: 'threshold' }, manifest: await putManifest('threshold', ids), options: { chunkSize: 2, maxInFlight: 1, scaleOut: { partSize: 10 }, failureThreshold: { minAttempted: 2, maxFailureRate: 0.5 } } },
      { type: 'manual' },
      deps,
    );
    await takeMessages(queueUrl);
    const sizes = (await readPlan('threshold-run')).parts.map((part) => part.entries);
    stack.emulator.requests.length = 0;
    stack.emulator.injectFaults({ status: 403, errorCode: 'APIG.0203', errorMessage: 'Forbidden (injected).', times: 2 });

    // Act
    const one = await runScaleOutPart('threshold-run', 1, { type: 'queue', source: 'w1' }, deps, testBudget());
    const requestsAfterPartOne = stack.emulator.requests.length;
    const two = await runScaleOutPart('threshold-run', 2, { type: 'queue', source: 'w2' }, deps, testBudget());
    const three = await runScaleOutPart('threshold-run', 3, { type: 'queue', source: 'w3' }, deps, testBudget());
    const summary = await finalSummary('threshold-run');

    // Assess
    expect(one.summary.status).toBe('stopped_failure_threshold');
    expect(stack.emulator.requests).toHaveLength(requestsAfterPartOne); // parts 2 and 3 sent nothing
    expect(sizes).toHaveLength(3);
    for (const [part, entries] of [[two, sizes[1]], [three, sizes[2]]] as const) {
      expect(part.summary).toMatchObject({ status: 'stopped_failure_threshold', counts: { skipped: entries, deleted: 0 } });
      expect(part.summary.stopReason).toContain('part 1 of this job crossed it');
    }
    expect(three.completion?.kind).toBe('assembled');
    expect(summary?.status).toBe('stopped_failure_threshold');
    expect(summary?.stopReason).toMatch(/part 1 of 3 crossed it \(.*failed.*\); 3 parts stopped, \d+ IDs not attempted are skipped/);
    expect(summary!.counts.received).toBe(30);
    expect(summary!.counts.failed + summary!.counts.skipped + summary!.counts.deleted).toBe(30);
    expect(summary!.counts.skipped).toBeGreaterThanOrEqual(30 - sizes[0]!);
    expect(stack.emulator.labellingJobImages(PROJECT, 'threshold').size).toBeGreaterThanOrEqual(30 - sizes[0]!);
  });

  it('stops every part once one met a refusal of the whole job (ModelArts.4204), even with nothing left to skip in it', async () => {
    // Prepare: 3 parts of about 10 IDs (hash slots) in one chunk each; every delete is refused 4204 (API not subscribed).
    const ids = imageIds('not-subscribed-split', 30);
    stack.emulator.seedLabellingJob(PROJECT, 'not-subscribed', ids);
    const { deps, queueUrl } = await depsWithQueue();
    await runCleanupJob({ jobId: 'not-subscribed-run', target: { projectId: PROJECT, dataAnnotationId: 'not-subscribed' }, manifest: await putManifest('not-subscribed', ids), options: { chunkSize: 30, maxInFlight: 1, scaleOut: { partSize: 10 } } }, { type: 'manual' }, deps);
    await takeMessages(queueUrl);
    const sizes = (await readPlan('not-subscribed-run')).parts.map((part) => part.entries);
    stack.emulator.requests.length = 0;
    stack.emulator.injectFaults({ status: 403, errorCode: 'ModelArts.4204', errorMessage: 'API not subscribed (injected).', times: 100 });

    // Act
    const one = await runScaleOutPart('not-subscribed-run', 1, { type: 'queue', source: 'w1' }, deps, testBudget());
    const requestsAfterPartOne = stack.emulator.requests.length;
    const two = await runScaleOutPart('not-subscribed-run', 2, { type: 'queue', source: 'w2' }, deps, testBudget());
    const three = await runScaleOutPart('not-subscribed-run', 3, { type: 'queue', source: 'w3' }, deps, testBudget());
    stack.emulator.clearFaults();
    const summary = await finalSummary('not-subscribed-run');

    // Assess: part 1's one chunk failed whole (its own status says so, with nothing to skip); the others sent nothing.
    expect(sizes).toHaveLength(3);
    expect(requestsAfterPartOne).toBe(1);
    expect(one.summary.counts).toMatchObject({ failed: sizes[0], skipped: 0 });
    expect(stack.emulator.requests).toHaveLength(requestsAfterPartOne);
    for (const [part, entries] of [[two, sizes[1]], [three, sizes[2]]] as const) {
      expect(part.summary).toMatchObject({ status: 'stopped_service_refused', counts: { skipped: entries, deleted: 0 }, stop: { kind: 'service_refused', part: 1, code: 'ModelArts.4204' } });
      expect(part.summary.stopReason).toContain('part 1 of this job met it');
    }
    expect(three.completion?.kind).toBe('assembled');
    expect(summary?.status).toBe('stopped_service_refused');
    expect(summary?.stop).toMatchObject({ kind: 'service_refused', part: 1, code: 'ModelArts.4204' });
    expect(summary?.counts).toMatchObject({ received: 30, failed: sizes[0], skipped: 30 - sizes[0]!, deleted: 0 });
    expect(summary?.stopReason).toMatch(new RegExp(`part 1 of 3 met it \\(ModelArts\\.4204: .*\\); 2 parts stopped, ${30 - sizes[0]!} IDs not attempted are skipped`));
    expect(stack.emulator.labellingJobImages(PROJECT, 'not-subscribed').size).toBe(30);
  });

  it('runs a split job sent to the queue on worker processes of their own, and its progress prints as done', async () => {
    // Prepare
    const ids = imageIds('processes', 40);
    stack.emulator.seedLabellingJob(PROJECT, 'processes', ids);
    const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `scale-proc-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 30 });
    const workers = await startQueueWorkers({ count: 2, env: { ...stack.env, WORK_QUEUE_URL: workQueueUrl, POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' }, sqs: stack.sqs, queueUrl: workQueueUrl, batchSize: 1, waitTimeSeconds: 1 });
    const job = { jobId: 'processes-run', target: { projectId: PROJECT, dataAnnotationId: 'processes' }, manifest: await putManifest('processes', ids), options: { chunkSize: 5, scaleOut: { partSize: 10 } } };

    // Act
    let summary: JobSummary | undefined;
    try {
      await stack.sqs.send(new SendMessageCommand({ QueueUrl: workQueueUrl, MessageBody: JSON.stringify(job) }));
      for (let waited = 0; summary === undefined && waited < 60_000; waited += 200) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        summary = await finalSummary('processes-run');
      }
    } finally {
      await workers.stop();
    }
    const progress = await readS3Json(stack.s3, stack.env.REPORT_BUCKET!, 'reports/processes-run/progress.json', jobProgressSchema);

    // Assess
    expect(new Set(workers.pids).size).toBe(2);
    expect(workers.pids).not.toContain(process.pid);
    expect(summary).toMatchObject({ status: 'completed', counts: { received: 40, deleted: 40 }, scaleOut: { parts: 4 } });
    expect(stack.emulator.labellingJobImages(PROJECT, 'processes').size).toBe(0);
    const printed = formatJobProgress(progress!);
    expect(printed).toContain(`[${'#'.repeat(40)}] 100.0%  40 / 40 entries`);
    expect(printed).toContain('parts: 4 of 4 done, 0 running, 0 waiting');
    expect(printed).toContain('outcomes: deleted 40');
  }, 90_000);
});
