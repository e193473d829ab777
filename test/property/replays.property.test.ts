import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import type { ManifestVersion } from '../../lib/job/jobRecord.js';
import { createModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { pendingJobIdentity } from '../../lib/triggers/pendingJobIdentity.js';
import { processDeadLetters } from '../../lib/triggers/processDeadLetters.js';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import { runScheduledScan } from '../../lib/triggers/scheduledRun.js';
import { seededRandom } from '../../local/emulator/seededRandom.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import type { LocalStack } from '../../local/stack/startLocalStack.js';
import { Logger } from '@aws-lambda-powertools/logger';
import { checkReplayReports, keysUnder, REPLAY_TARGETS, type Submission, type TargetName } from '../support/checkReplayReports.js';
import { clockedModelArts } from '../support/clockedModelArts.js';
import { crashSwitch } from '../support/crashSwitch.js';
import { failingS3 } from '../support/failingS3.js';
import { failingSqs } from '../support/failingSqs.js';
import { sqsEvent, sqsRecord } from '../support/sqsEvents.js';
import { imageIds } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { virtualClock } from '../support/virtualClock.js';

// Property test of the replays (issue 12): jobs run through the real entry points — the work
// queue's handler (processQueueBatch), the manual invocation, the schedule (runScheduledScan) and
// the dead-letter handler (processDeadLetters) — against the local stack (fauxqs S3 and SQS, the
// ModelArts emulator over HTTP), while generated operations replace manifests, reuse job ids with
// other content, refuse sends, dead-letter messages, deliver pending files by notification and by
// schedule, and crash invocations. Time is virtual: each request moves the clock 10 ms, so a short
// Lambda deadline cuts a job after a known number of requests.
//
// The queue is modelled by the test: every message an invocation sends goes through the real SQS
// client into fauxqs, and after each invocation the test takes it off the work queue
// (ReceiveMessage + DeleteMessage) into a pool of its own, from which it delivers messages later in
// a generated order, with a visibility timeout (a failed message comes back only after it), a
// receive count, and the dead-letter handler after MAX_RECEIVES. Receiving from fauxqs, rather than
// recording sends in a wrapper, keeps what is delivered exactly what SQS stored (bodies of
// SendMessage and SendMessageBatch alike, SQS's own message ids), and fauxqs's own visibility timer
// (real time) out of a test whose time is virtual.
//
// Reproduce a failure with PROPERTY_SEED=<seed printed below> and PROPERTY_PATH=<path printed by fast-check>.
const SEED = Number(process.env.PROPERTY_SEED ?? 20_261_202);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const PATH = process.env.PROPERTY_PATH;
const MS_PER_REQUEST = 10;
// serverless.yml's queueVisibilityTimeout (5,400 s): a failed message comes back after it, when the
// claims (deadline + 60 s) and the assembly lock (16 min) of a crashed invocation have expired.
const VISIBILITY_MS = 5_400_000;
const MAX_RECEIVES = 3;
const SCHEDULE_PERIOD_MS = 5 * 60_000;
const MAX_STEPS = 600;
const ANNOTATION = REPLAY_TARGETS;

const stacks = { plain: useLocalStack(), versioned: useLocalStack({ manifestVersioning: true }) };
let runNumber = 0;

interface JobSpec { kind: 'inline' | 'manifest' | 'split' | 'pending'; size: number; gone: number; via: 'manual' | 'queue'; dryRun: boolean; notified: boolean }
type Op =
  | { op: 'deliver'; pick: number }
  | { op: 'deadLetter'; pick: number }
  | { op: 'replace'; job: number; size: number }
  | { op: 'reuse'; job: number; variant: 'ids' | 'dryRun' | 'target'; via: 'manual' | 'queue' }
  | { op: 'failSend'; times: number }
  | { op: 'failWrite'; nth: number }
  | { op: 'crash'; nth: number }
  | { op: 'schedule' }
  | { op: 'notify'; job: number };
interface Scenario { versioned: boolean; window: number; chunkSize: number; jobs: JobSpec[]; ops: Op[]; seed: number }

const jobArb: fc.Arbitrary<JobSpec> = fc.record({
  kind: fc.constantFrom('inline' as const, 'manifest' as const, 'split' as const, 'pending' as const),
  size: fc.integer({ min: 1, max: 24 }),
  gone: fc.constantFrom(0, 0, 0.2),
  via: fc.constantFrom('manual' as const, 'queue' as const),
  dryRun: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  notified: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('deliver' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deadLetter' as const), pick: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replace' as const), job: fc.nat(3), size: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('reuse' as const), job: fc.nat(3), variant: fc.constantFrom('ids' as const, 'dryRun' as const, 'target' as const), via: fc.constantFrom('manual' as const, 'queue' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('failSend' as const), times: fc.integer({ min: 1, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('failWrite' as const), nth: fc.nat(15) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('crash' as const), nth: fc.nat(15) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('schedule' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('notify' as const), job: fc.nat(3) }) },
);
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  versioned: fc.boolean(),
  window: fc.integer({ min: 1, max: 6 }),
  chunkSize: fc.integer({ min: 2, max: 6 }),
  jobs: fc.array(jobArb, { minLength: 1, maxLength: 3 }),
  ops: fc.array(opArb, { minLength: 2, maxLength: 14 }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

type Item =
  | { kind: 'sqs'; body: string; messageId: string; receives: number; visibleAt: number; dead: boolean }
  | { kind: 'manual'; submission: Submission; visibleAt: number };

const coverage = { runs: 0, deliveries: 0, cutAnswers: 0, refusedSends: 0, crashes: 0, failedWrites: 0, deadLetters: 0, replaced: 0, reused: 0, conflicts: 0, schedules: 0, summaries: 0, manifestChanged: 0, abandoned: 0, splits: 0, pendingDone: 0, lostInCrashes: 0 };
let trace: string[] = [];

async function checkRun(scenario: Scenario): Promise<void> {
  runNumber += 1;
  trace = [];
  const stack: LocalStack = scenario.versioned ? stacks.versioned : stacks.plain;
  const bucket = stack.env.MANIFEST_BUCKET!;
  const prefix = `p${SEED}r${runNumber}/`;
  const project = createHash('md5').update(prefix).digest('hex');
  const store = (t: TargetName) => stack.emulator.labellingJobImages(project, ANNOTATION[t]);
  const targetOf = (t: TargetName) => ({ projectId: project, dataAnnotationId: ANNOTATION[t] });
  const seeded = new Set<string>();
  // Each ID is put in a store once: seeding it again would bring back an ID a job deleted.
  const seed = (t: TargetName, ids: readonly string[]) => {
    const fresh = ids.filter((id) => !seeded.has(`${t}:${id}`));
    stack.emulator.seedLabellingJob(project, ANNOTATION[t], [...store(t), ...fresh]);
    for (const id of fresh) seeded.add(`${t}:${id}`);
  };
  // The entries of a job: distinct IDs, some never in the store (they end already_deleted).
  let labels = 0;
  const entriesOf = (size: number, gone: number, t: TargetName): string[] => {
    const ids = imageIds(`${prefix}${(labels += 1)}`, size);
    seed(t, ids.filter((_, i) => i >= Math.round(size * gone)));
    return ids;
  };

  const random = seededRandom(scenario.seed);
  // The function's log, so a failed run's steps say why a message failed.
  const logged = errorLogger();
  const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(scenario.seed ^ 0x2545f491), sleeps: 'advance' });
  // A part's ticker (the count of running parts, its progress) sleeps 2 s at a time: on this clock it would cut
  // every invocation at once, so its sleeps never end (the retries here wait 5 ms at most).
  const jobClock = { ...clock, sleep: (ms: number) => (ms >= 2_000 ? new Promise<void>(() => undefined) : clock.sleep(ms)) };
  const config = loadConfig({ ...stack.env, REPORT_PREFIX: prefix, MANIFEST_PREFIX: prefix, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', DEADLINE_MARGIN_MS: '1000', REQUEST_TIMEOUT_MS: '1000', MAX_IN_FLIGHT: '1', CHUNK_SIZE: String(scenario.chunkSize) });
  const clocked = clockedModelArts(createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, now: () => clock.now() }), clock, MS_PER_REQUEST);
  const crash = crashSwitch({ s3: stack.s3, sqs: stack.sqs, modelArts: clocked });
  const writes = failingS3(crash.s3, '');
  const sends = failingSqs(crash.sqs);
  const deps = createCleanupDeps(config, { s3: writes.s3, sqs: sends.sqs, clock: jobClock, modelArts: crash.modelArts, logger: logged.logger });
  delete deps.metrics;
  // 1,000 ms of margin and of request timeout, then `window` requests of chunk starts.
  const context = (name: string) => createLambdaContext(name, 2_000 + scenario.window * MS_PER_REQUEST, () => clock.now());
  const queueUrl = stack.env.WORK_QUEUE_URL!;

  const pool: Item[] = [];
  const submissions: Submission[] = [];
  const lost = new Set<string>();
  const snapshot = () => new Set([...(['A', 'B'] as const).flatMap((t) => [...store(t)].map((id) => `${t}:${id}`))]);

  // What an invocation sent, taken off fauxqs's work queue into the test's pool.
  const capture = async () => {
    for (;;) {
      const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (Messages.length === 0) return;
      for (const message of Messages) {
        await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
        pool.push({ kind: 'sqs', body: message.Body ?? '', messageId: message.MessageId ?? '', receives: 0, visibleAt: clock.now(), dead: false });
      }
    }
  };
  const record = (item: Extract<Item, { kind: 'sqs' }>): SQSRecord => {
    const r = sqsRecord(item.body, item.messageId);
    r.attributes.ApproximateReceiveCount = String(item.receives);
    return r;
  };

  // One invocation: what it lost from the store is explained by the crash, if one was injected into it.
  const invoke = async (what: string, run: () => Promise<boolean>): Promise<boolean> => {
    coverage.deliveries += 1;
    const before = snapshot();
    const crashes = crash.crashes;
    const failedBefore = writes.failed;
    let failed: boolean;
    try {
      failed = await run();
    } catch (error) {
      failed = true;
      what += ` threw ${(error as Error).message.slice(0, 160)}`;
    }
    const crashed = crash.crashes > crashes;
    const writeFailed = writes.failed !== undefined && writes.failed !== failedBefore;
    crash.revive();
    const after = snapshot();
    const gone = [...before].filter((key) => !after.has(key));
    if (crashed || writeFailed) for (const key of gone) lost.add(key);
    coverage.crashes += crashed ? 1 : 0;
    coverage.failedWrites += writeFailed ? 1 : 0;
    coverage.lostInCrashes += crashed || writeFailed ? gone.length : 0;
    await capture();
    const errors = logged.lines.splice(0).filter((line) => line.level === 'ERROR').map((line) => `${String(line.message).slice(0, 60)}: ${String((line.error as { message?: string } | undefined)?.message ?? '').slice(0, 140)}`);
    trace.push(`${what}: ${failed ? `FAILED [${errors.join(' | ')}]` : 'ok'}${crashed ? ' (crashed)' : ''}${writeFailed ? ` (failed write ${writes.failed})` : ''}; store -${gone.length}; pool ${pool.length}`);
    return failed;
  };

  const deliver = async (item: Item): Promise<void> => {
    if (item.kind === 'manual') {
      const failed = await invoke(`manual ${item.submission.label}`, async () => {
        const answer = await runManualInvocation(item.submission.input, deps, context('manual'));
        item.submission.answer = answer.status;
        if (answer.status === 'continuing') coverage.cutAnswers += 1;
        return answer.status === 'in_progress';
      });
      // The operator invokes it again, later.
      if (failed) pool.push({ ...item, visibleAt: clock.now() + VISIBILITY_MS });
      return;
    }
    item.receives += 1;
    const handler = item.dead ? processDeadLetters : processQueueBatch;
    const failed = await invoke(`${item.dead ? 'dead letter' : 'message'} ${item.body.slice(0, 90)} (receive ${item.receives})`, async () => (await handler(sqsEvent(record(item)), deps, context(item.dead ? 'dead-letter' : 'queue'))).batchItemFailures.length > 0);
    if (!failed) return;
    // It comes back after its visibility timeout; after MAX_RECEIVES, on the dead-letter queue.
    if (!item.dead && item.receives >= MAX_RECEIVES) {
      coverage.deadLetters += 1;
      pool.push({ ...item, dead: true, visibleAt: clock.now() + VISIBILITY_MS });
    } else pool.push({ ...item, visibleAt: clock.now() + VISIBILITY_MS });
  };
  const take = (pick: number, only?: (item: Item) => boolean): Item | undefined => {
    const candidates = pool.filter((item) => only === undefined || only(item));
    if (candidates.length === 0) return undefined;
    const soonest = Math.min(...candidates.map((item) => item.visibleAt));
    if (soonest > clock.now()) clock.advance(soonest - clock.now());
    const visible = candidates.filter((item) => item.visibleAt <= clock.now());
    const item = visible[pick % visible.length]!;
    pool.splice(pool.indexOf(item), 1);
    return item;
  };

  const notification = (key: string) => JSON.stringify({ Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 1 } } }] });
  let messages = 0;
  const send = (body: string) => pool.push({ kind: 'sqs', body, messageId: `${prefix.slice(0, -1)}-m${(messages += 1)}`, receives: 0, visibleAt: clock.now(), dead: false });
  const submit = async (submission: Submission) => {
    trace.push(`submit ${submission.label} via ${submission.via}: ${JSON.stringify(submission.input).slice(0, 120)}`);
    submissions.push(submission);
    if (submission.via === 'manual') await deliver({ kind: 'manual', submission, visibleAt: clock.now() });
    else if (submission.via === 'queue') {
      send(JSON.stringify(submission.input));
      submission.messageId = (pool.at(-1) as Extract<Item, { kind: 'sqs' }>).messageId;
    }
  };
  const upload = async (key: string, ids: readonly string[]): Promise<ManifestVersion> => {
    const put = await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${ids.join('\n')}\n` }));
    return { etag: put.ETag ?? '', ...(put.VersionId === undefined ? {} : { versionId: put.VersionId }) };
  };
  const schedule = async () => {
    coverage.schedules += 1;
    await invoke('schedule', async () => {
      const result = await runScheduledScan({ prefix: 'pending/' }, deps, context('schedule'));
      return result.status !== 'completed' || result.errors.length > 0;
    });
  };

  // The jobs, each through its entry point.
  const jobs: Array<{ spec: JobSpec; key?: string; submission: Submission }> = [];
  for (const [k, spec] of scenario.jobs.entries()) {
    const ids = entriesOf(spec.size, spec.gone, 'A');
    const jobId = `${prefix.slice(0, -1)}-j${k}`;
    const options = { chunkSize: scenario.chunkSize, ...(spec.dryRun ? { dryRun: true } : {}), ...(spec.kind === 'split' ? { scaleOut: { partSize: Math.max(1, Math.ceil(spec.size / 2)) } } : {}) };
    if (spec.kind === 'pending') {
      const key = `${prefix}pending/v1/${project}/${ANNOTATION.A}/j${k}.txt`;
      const version = await upload(key, ids);
      trace.push(`upload ${key} (${ids.length} IDs)${spec.notified ? ', notified' : ''}`);
      const submission: Submission = { label: `pending j${k}`, via: 'pending', jobId: pendingJobIdentity(bucket, key, version).jobId, target: 'A', dryRun: false, idLists: [ids], pending: { key, version, replaced: false } };
      jobs.push({ spec, key, submission });
      submissions.push(submission);
      if (spec.notified) send(notification(key));
      continue;
    }
    const key = spec.kind === 'inline' ? undefined : `${prefix}uploads/j${k}.txt`;
    if (key !== undefined) await upload(key, ids);
    const input = { jobId, target: targetOf('A'), ...(key === undefined ? { imageIds: ids } : { manifest: `s3://${bucket}/${key}` }), options };
    const submission: Submission = { label: `job j${k}`, via: spec.via, jobId, target: 'A', dryRun: spec.dryRun, idLists: [ids], input, ...(key === undefined ? {} : { manifestKey: key }) };
    jobs.push({ spec, ...(key === undefined ? {} : { key }), submission });
    if (spec.kind === 'split') coverage.splits += 1;
    await submit(submission);
  }

  // The generated operations.
  for (const op of scenario.ops) {
    trace.push(`op ${JSON.stringify(op)}`);
    switch (op.op) {
      case 'deliver': {
        const item = take(op.pick);
        if (item !== undefined) await deliver(item);
        break;
      }
      case 'deadLetter': {
        const item = take(op.pick, (candidate) => candidate.kind === 'sqs' && !candidate.dead);
        if (item !== undefined && item.kind === 'sqs') {
          coverage.deadLetters += 1;
          item.receives = MAX_RECEIVES;
          await deliver({ ...item, dead: true });
        }
        break;
      }
      case 'replace': {
        const job = jobs[op.job % jobs.length]!;
        if (job.key === undefined) break;
        coverage.replaced += 1;
        const ids = entriesOf(op.size, 0, 'A');
        const version = await upload(job.key, ids);
        for (const s of submissions) if (s.manifestKey === job.key) s.idLists.push(ids);
        if (job.spec.kind !== 'pending') break;
        for (const s of submissions) if (s.pending?.key === job.key) s.pending.replaced = true;
        const submission: Submission = { label: `pending ${job.key} v${submissions.length}`, via: 'pending', jobId: pendingJobIdentity(bucket, job.key, version).jobId, target: 'A', dryRun: false, idLists: [ids], pending: { key: job.key, version, replaced: false } };
        submissions.push(submission);
        if (job.spec.notified) send(notification(job.key));
        break;
      }
      case 'reuse': {
        const job = jobs[op.job % jobs.length]!;
        if (job.submission.input === undefined) break;
        coverage.reused += 1;
        const original = job.submission.input as { options: Record<string, unknown>; imageIds?: string[] };
        const input: Record<string, unknown> = { ...original };
        let target: TargetName = 'A';
        let idLists = [...job.submission.idLists];
        let manifestKey = job.submission.manifestKey;
        let dryRun = job.submission.dryRun;
        if (op.variant === 'ids') {
          const ids = entriesOf(job.spec.size, 0, 'A');
          delete input.manifest;
          input.imageIds = ids;
          idLists = [ids];
          manifestKey = undefined;
        } else if (op.variant === 'dryRun') {
          dryRun = !dryRun;
          input.options = { ...original.options, dryRun };
        } else {
          target = 'B';
          input.target = targetOf('B');
          seed('B', original.imageIds ?? (await manifestIds(job.key!)));
        }
        await submit({ label: `reuse of ${job.submission.label} (${op.variant})`, via: op.via, jobId: job.submission.jobId, target, dryRun, idLists, input, ...(manifestKey === undefined ? {} : { manifestKey }) });
        break;
      }
      case 'failSend':
        sends.failSends(op.times);
        break;
      case 'failWrite':
        writes.failWrite(op.nth);
        break;
      case 'crash':
        crash.crashBefore(op.nth);
        break;
      case 'schedule':
        await schedule();
        break;
      case 'notify': {
        const job = jobs[op.job % jobs.length]!;
        if (job.spec.kind === 'pending') send(notification(job.key!));
        break;
      }
    }
  }

  // Then the faults stop, and everything is delivered until nothing is left: the queue empty, pending/ empty.
  sends.failSends(0);
  writes.disarm();
  crash.disarm();
  trace.push('drain');
  for (let step = 0; ; step += 1) {
    expect(step, 'the work never settled').toBeLessThan(MAX_STEPS);
    const item = take(Math.floor(random() * 1000));
    if (item !== undefined) await deliver(item);
    else if ((await keysUnder(stack.s3, bucket, `${prefix}pending/`)).length > 0) {
      // The schedule's next run: a claim left by a crashed run has expired by then.
      clock.advance(SCHEDULE_PERIOD_MS);
      await schedule();
    }
    else break;
  }
  coverage.refusedSends += sends.refused.length;

  await checkReplayReports(stack, { prefix, store, seeded, lost, submissions }, coverage);
  coverage.runs += 1;

  async function manifestIds(key: string): Promise<string[]> {
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return ((await object.Body?.transformToString('utf8')) ?? '').split('\n').filter((line) => line !== '');
  }
}

// The function's error lines, kept (not printed): a failed run's steps say why a message failed.
function errorLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = new Logger({ serviceName: 'image-cleanup-test', logLevel: 'ERROR' });
  const print = (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>);
  Object.assign(logger as unknown as { console: unknown }, { console: { log: print, info: print, warn: print, error: print, debug: print, trace: print } });
  return { logger, lines };
}

// Defects the property found, each as the smallest scenario found (run with the seeds above), kept
// as regressions: each broke the invariant as its comment says, and each is fixed now (the
// generated runs walk into them too).
const REGRESSIONS: Record<string, Scenario> = {
  // A job message whose jobId names another job, given up from the dead-letter queue: giveUpJob
  // (lib/triggers/giveUpJob.ts) did not check it against the job record, so it was answered with the
  // other job's summary and acknowledged, and the job it carried got no refusal. Now: rejected.json,
  // JOB_ID_CONFLICT, in msg-{messageId}/.
  'a conflicting job dead-lettered after the first job completed': {
    versioned: false, window: 6, chunkSize: 6, seed: 1,
    jobs: [{ kind: 'inline', size: 2, gone: 0, via: 'queue', dryRun: false, notified: true }],
    ops: [{ op: 'deliver', pick: 0 }, { op: 'reuse', job: 0, variant: 'ids', via: 'queue' }, { op: 'deadLetter', pick: 0 }],
  },
  // The same, while the first job had only a checkpoint: the refusal of the conflicting message was
  // written into the first job's folder (rejected.json, DEAD_LETTERED citing JOB_ID_CONFLICT), which
  // later got its completed summary too — two contradicting reports in one folder (the check's
  // "two contradicting reports"). Now the refusal goes to the message's own folder.
  'a conflicting job dead-lettered while the first job has only a checkpoint': {
    versioned: false, window: 1, chunkSize: 2, seed: 1,
    jobs: [{ kind: 'inline', size: 8, gone: 0, via: 'queue', dryRun: false, notified: true }],
    ops: [{ op: 'deliver', pick: 0 }, { op: 'reuse', job: 0, variant: 'ids', via: 'queue' }, { op: 'deadLetter', pick: 1 }],
  },
  // A manifest job cut by the deadline, its manifest replaced in a bucket without versions, its
  // continuation dead-lettered: finishAbandonedJob cannot read the pinned version (412), so
  // giveUpJob answered rejected.json ("its entries can no longer be read") — and the IDs its first
  // invocation deleted, saved in its checkpoint, were in no report. Now it ends as the queue path
  // ends it: stopped_manifest_changed from the checkpoint (docs/replays.md, situation 1).
  'a cut manifest job whose manifest was replaced (no versioning), its continuation dead-lettered': {
    versioned: false, window: 1, chunkSize: 2, seed: 1,
    jobs: [{ kind: 'manifest', size: 12, gone: 0, via: 'queue', dryRun: false, notified: true }],
    ops: [{ op: 'deliver', pick: 0 }, { op: 'replace', job: 0, size: 3 }, { op: 'deadLetter', pick: 0 }],
  },
  // A pending manifest's run cut by the deadline whose continuePending could not be sent: the
  // notification's record fails, as it should, but its redelivery reads the key's *current*
  // version. Replaced meanwhile, the cut version's job was resumed by nothing: a checkpoint and no
  // summary for ever, and the IDs its first run deleted in no report. Now the run that takes up the
  // current version ends it first (lib/triggers/pendingKeyJob.ts: the key's pointer).
  'a cut pending run whose continuation was refused, its file replaced before the redelivery': {
    versioned: false, window: 1, chunkSize: 2, seed: 1,
    jobs: [{ kind: 'pending', size: 12, gone: 0, via: 'queue', dryRun: false, notified: true }],
    ops: [{ op: 'failSend', times: 1 }, { op: 'deliver', pick: 0 }, { op: 'replace', job: 0, size: 3 }],
  },
  // The same family: the run crashed after deleting, before its checkpoint or summary. Its job kept
  // a record (job.json) and part files, and never got a report. Now it ends stopped_manifest_changed,
  // its entries failed (MANIFEST_CHANGED_UNCONFIRMED: the crashed run may have deleted some).
  'a pending run that crashed, its file replaced before the redelivery': {
    versioned: false, window: 6, chunkSize: 2, seed: 1,
    jobs: [{ kind: 'pending', size: 2, gone: 0, via: 'queue', dryRun: false, notified: true }],
    // Before the 6th S3 write (0-based 5): after the deletes, before the checkpoint (the key's pointer is one write more than before it existed).
    ops: [{ op: 'crash', nth: 5 }, { op: 'deliver', pick: 0 }, { op: 'replace', job: 0, size: 1 }],
  },
};

describe('replays: manifests replaced, job ids reused, sends refused, dead letters, notification and schedule, crashes', () => {
  it('leaves every job with a report that agrees with the store, or a refusal that deleted nothing', async () => {
    // Prepare
    console.info(`replays property: seed ${SEED}, ${RUNS} runs (PROPERTY_SEED / PROPERTY_RUNS / PROPERTY_PATH to change)`);

    // Act and Assess: each run checks its own invariant.
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        for (const stack of Object.values(stacks)) stack.emulator.requests.length = 0;
        try {
          await checkRun(scenario);
        } catch (error) {
          console.error(`replays property: run ${runNumber} failed (seed ${SEED}); its steps:\n${trace.join('\n')}`);
          throw error;
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, ...(PATH === undefined ? {} : { path: PATH }) },
    );
    console.info(`replays property: what the runs exercised: ${JSON.stringify(coverage)}`);
  }, 900_000);

  for (const [name, scenario] of Object.entries(REGRESSIONS)) {
    it(`regression: ${name}`, async () => {
      try {
        await checkRun(scenario);
      } finally {
        if (process.env.PROPERTY_TRACE !== undefined) console.info(trace.join('\n'));
      }
    });
  }
});
