// `npm run bench:huge`: a huge split job through the job path as a user drives it, and the planner
// alone on a bigger one (issue 14). See docs/benchmarks.md.
//
//   run 1 (delete): a 10,000,000-entry manifest (--entries; 0 skips it) — 1% invalid, 1% repeats, each repeat
//     ~0.4 N lines (4,000,001 at 10M) from its first occurrence, so the two are in different read
//     windows, parts and planning invocations (bench/hugeManifest.ts) — uploaded to the manifest
//     bucket, the job sent to the work queue, run by 8 queue workers (--workers), each a Node process
//     of its own with the functions' NODE_OPTIONS and AWS_LAMBDA_FUNCTION_MEMORY_SIZE
//     (serverless.yml's memorySize), against the ModelArts emulator in its own process, latency
//     100 ± 10 ms, with a gateway limit of 40 requests/s (--limit) the client is not told
//     (rateLimitStated: false, one second of burst) and chunks of 1,000 IDs (--chunk-size): the limit
//     is 40,000 IDs/s. Each worker's limiter ceiling is 4 (--max-in-flight): 8 × 4 / 0.1 s = 320
//     requests/s could be asked for, 8× the limit, so the workers must find it and share it.
//   run 2 (planner alone): a 50,000,000-entry manifest (--planner-entries; 0 skips it), the same
//     kinds of lines, sent the same way; the run ends once plan.json is written (its workers are
//     then stopped: no part runs).
// Each run has a fresh local stack (fauxqs S3 and SQS in this process, which holds every object:
// a few GiB at these sizes) and a fresh emulator.
//
// Printed and checked (figures to bench/results/huge.json; exit 1 when a bound is missed):
//   - planner peak RSS: the highest VmHWM (/proc/<pid>/status) of the workers when plan.json
//     appears (nothing but planning ran in them before); bound ≤ 384 MiB in run 2. The peaks are
//     then reset (/proc/<pid>/clear_refs), so the worker peak RSS below is the parts' work.
//   - worker peak RSS (the parts' work, run 1): bound ≤ the functions' memorySize.
//   - planning time: plan.json's plannedAt − startedAt (the preparing pass included), and from the
//     job's message sent to plan.json seen.
//   - the deleting phase (the emulator's first request received to its last answer): IDs/s as a
//     share of the limit, bound ≥ 95%; the share of requests throttled after its first 10 s, ≤ 3%.
//   - every entry ended exactly once at its line: the summary's counts; every line of
//     results.jsonl.gz matched to the manifest line it names (one byte per line held, no set of
//     IDs); failed.csv holds the invalid entries; the emulator's store holds exactly the 10,000
//     images the job did not name.
// Workers run under tsx (as bench:scale's): their RSS includes tsx's (printed: "at rest").
//
// Cost on this 2-core machine, measured: see docs/benchmarks.md (about 10 minutes for both runs at
// the full sizes; `--entries 200000 --planner-entries 1000000` takes about a minute).
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import type { JobSummary } from '../lib/report/jobSummary.js';
import { reportLocation } from '../lib/report/ReportLocation.js';
import { readS3Json } from '../lib/aws/readS3Json.js';
import { jobProgressSchema } from '../lib/scaleout/jobProgressSchema.js';
import { scaleOutLayout } from '../lib/scaleout/scaleOutLayout.js';
import { scaleOutPlanSchema, type ScaleOutPlan } from '../lib/scaleout/scaleOutPlanSchema.js';
import { formatJobProgress } from '../local/cli/formatJobProgress.js';
import { startEmulatorProcess, type EmulatorContainer, type EmulatorProcess } from '../local/emulator/startEmulatorProcess.js';
import { LAMBDA_NODE_OPTIONS } from '../local/stack/lambdaNodeOptions.js';
import { startLocalStack, type LocalStack } from '../local/stack/startLocalStack.js';
import type { QueueWorkers } from '../local/stack/startQueueWorkers.js';
import { deletingPhase } from './deletingPhase.js';
import { checkHugeResults, hugeManifestBytes, hugeManifestCounts, hugeManifestIds, type HugeManifestCounts, type HugeResultsCheck } from './hugeManifest.js';
import { keptImageId } from './manifestData.js';
import { checkFailedCsv, type FailedCsvCheck } from './manifestReportCheck.js';
import { partFigures, type PartFigures } from './partFigures.js';
import { processMemory, resetPeakMemory } from './processMemory.js';
import { requestFigures, type RequestFigures } from './requestFigures.js';
import { startBenchQueueWorkers } from './startBenchQueueWorkers.js';
import { waitForJobSummary } from './waitForJobSummary.js';

const ACCEPTANCE = { entries: 10_000_000, plannerEntries: 50_000_000, workers: 8 };
const BOUNDS = { maxPlannerPeakRssMiB: 384, minRatioToLimit: 0.95, maxThrottledAfterWarmup: 0.03 };
const WARMUP_MS = 10_000;
const RUN_AT_MOST_MS = 40 * 60_000;
const PROJECT = 'b1a2e0c2d3e4f5a6b7c8d9e0f1a2b3c4';
const RESULTS = fileURLToPath(new URL('./results/huge.json', import.meta.url));
const SERVERLESS_YML = fileURLToPath(new URL('../serverless.yml', import.meta.url));
const PLANNER = fileURLToPath(new URL('../lib/scaleout/planScaleOut.ts', import.meta.url));

interface Options {
  entries: number;
  plannerEntries: number;
  workers: number;
  limit: number;
  chunkSize: number;
  partSize: number;
  maxInFlight: number;
  latencyMs: number;
  seed: number;
  keep: number;
  gzip: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      entries: { type: 'string', default: String(ACCEPTANCE.entries) },
      'planner-entries': { type: 'string', default: String(ACCEPTANCE.plannerEntries) },
      workers: { type: 'string', default: String(ACCEPTANCE.workers) },
      limit: { type: 'string', default: '40' },
      'chunk-size': { type: 'string', default: '1000' },
      'part-size': { type: 'string', default: '250000' },
      'max-in-flight': { type: 'string', default: '4' },
      'latency-ms': { type: 'string', default: '100' },
      seed: { type: 'string', default: '1' },
      keep: { type: 'string', default: '10000' },
      gzip: { type: 'boolean', default: false },
    },
  });
  const whole = (name: keyof typeof values, min: number, max: number): number => {
    const text = String(values[name]);
    const value = Number(text.replaceAll('_', ''));
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name}: expected a whole number from ${min} to ${max}, got "${text}"`);
    return value;
  };
  const options = {
    entries: whole('entries', 0, 100_000_000),
    plannerEntries: whole('planner-entries', 0, 200_000_000),
    workers: whole('workers', 1, 32),
    limit: whole('limit', 1, 10_000),
    chunkSize: whole('chunk-size', 1, 1_000),
    partSize: whole('part-size', 1_000, 10_000_000),
    maxInFlight: whole('max-in-flight', 1, 64),
    latencyMs: whole('latency-ms', 0, 5_000),
    seed: whole('seed', 0, 2 ** 31 - 1),
    keep: whole('keep', 1, 1_000_000),
    gzip: values.gzip,
  };
  for (const [name, value] of [['entries', options.entries], ['planner-entries', options.plannerEntries]] as const) {
    if (value % 100 !== 0) throw new Error(`--${name}: a multiple of 100, got ${value}`);
  }
  if (options.entries === 0 && options.plannerEntries === 0) throw new Error('--entries 0 and --planner-entries 0: nothing to run');
  return options;
}

// The memory Lambda gives the functions (serverless.yml's provider memorySize): the workers are told it as Lambda tells them.
function functionMemoryMb(): number {
  const found = /^provider:\n(?:[ \t].*\n)*?[ \t]+memorySize: (\d+)$/m.exec(readFileSync(SERVERLESS_YML, 'utf8'))?.[1];
  if (found === undefined) throw new Error(`no provider memorySize in ${SERVERLESS_YML}`);
  return Number(found);
}

const mib = (kib: number): number => Number((kib / 1024).toFixed(1));
const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;
const int = (value: number): string => Math.round(value).toLocaleString('en');
const seconds = (ms: number): string => `${(ms / 1_000).toFixed(1)} s`;
// An error's message with its causes (fetch's "fetch failed" says why only in its cause).
const why = (error: unknown): string => (error instanceof Error ? `${error.message}${error.cause === undefined ? '' : ` (${why(error.cause)})`}` : String(error));

/** Streams a generated manifest into the manifest bucket with a multipart upload (parts of 8 MiB: fauxqs refuses 16); its size in bytes and the time it took. */
async function uploadManifest(s3: S3Client, bucket: string, key: string, seed: number, counts: HugeManifestCounts, gzip: boolean): Promise<{ bytes: number; ms: number }> {
  const startedAt = Date.now();
  const text = Readable.from(hugeManifestBytes(seed, counts), { objectMode: false });
  const body = gzip ? text.pipe(createGzip({ level: 1 })) : text;
  if (gzip) text.on('error', (error) => body.destroy(error));
  await new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: body }, queueSize: 2, partSize: 8 * 1024 * 1024 }).done();
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return { bytes: head.ContentLength ?? -1, ms: Date.now() - startedAt };
}

/** The workers' memory, sampled: their peaks, and a check that none has ended. */
class WorkerMemory {
  public readonly atRestKiB: number[];
  private readonly peaks: number[];

  public constructor(private readonly pids: readonly number[]) {
    this.atRestKiB = pids.map((pid) => processMemory(pid)?.peakKiB ?? 0);
    this.peaks = [...this.atRestKiB];
  }

  /** Reads every worker's peak; throws when one has ended (an out-of-memory crash, say). */
  public sample(): number[] {
    this.pids.forEach((pid, index) => {
      const memory = processMemory(pid);
      if (memory === undefined) throw new Error(`queue worker ${index + 1} (pid ${pid}) ended during the run; its peak RSS was ${mib(this.peaks[index] ?? 0)} MiB at the last sample (its stderr above says why)`);
      this.peaks[index] = memory.peakKiB;
    });
    return [...this.peaks];
  }

  /** Starts every worker's peak afresh from its resident set now. */
  public reset(): boolean {
    return this.pids.map((pid) => resetPeakMemory(pid)).every(Boolean);
  }
}

interface PlanFigures {
  /** plan.json's plannedAt − startedAt: the preparing pass and the planning. */
  planningMs: number;
  /** From the job's message sent to plan.json seen. */
  sentToPlanSeenMs: number;
  plannerPeakRssMiB: number;
  /** Each worker's peak when plan.json appeared, MiB. */
  workerPeaksAtPlanMiB: number[];
  parts: number;
  screened: ScaleOutPlan['screened'];
}

/** Watches for plan.json while the job runs: when it appears, takes the planner's figures and resets the workers' peaks. */
function planWatch(stack: LocalStack, jobId: string, memory: WorkerMemory, sentAt: number): { poll: () => Promise<void>; figures: () => PlanFigures | undefined } {
  const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET as string, 'reports/', jobId));
  let figures: PlanFigures | undefined;
  return {
    async poll() {
      const peaks = memory.sample();
      if (figures !== undefined) return;
      const plan = await readS3Json(stack.s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema);
      if (plan === undefined) return;
      const seenAt = Date.now();
      figures = {
        planningMs: Date.parse(plan.plannedAt) - Date.parse(plan.startedAt),
        sentToPlanSeenMs: seenAt - sentAt,
        plannerPeakRssMiB: mib(Math.max(...peaks)),
        workerPeaksAtPlanMiB: peaks.map(mib),
        parts: plan.parts.length,
        screened: plan.screened,
      };
      if (!memory.reset()) console.warn('  (could not reset the workers\' peak RSS: the worker peak below includes the planner\'s)');
      console.log(`  plan.json after ${seconds(figures.sentToPlanSeenMs)} (planning ${seconds(figures.planningMs)} by plan.json): ${figures.parts} parts; planner peak RSS ${figures.plannerPeakRssMiB} MiB (workers: ${figures.workerPeaksAtPlanMiB.join(', ')})`);
    },
    figures: () => figures,
  };
}

async function startRun(name: string, options: Options): Promise<{ stack: LocalStack; emulator: EmulatorProcess; stop: () => Promise<void> }> {
  const emulator = await startEmulatorProcess();
  // Visibility 15 min: a worker holds a message while its part (or planning invocation) runs.
  const stack = await startLocalStack({ workQueue: { name: `bench-huge-${name}`, visibilityTimeoutSeconds: 900 } });
  await emulator.settings({ latencyMs: options.latencyMs, latencyJitterMs: options.latencyMs === 0 ? 0 : 10, rateLimitPerSecond: options.limit, rateLimitBurstSeconds: 1, rateLimitStated: false, maxBatchSize: 1_000, transientFaultRate: 0 });
  return {
    stack,
    emulator,
    async stop() {
      await stack.stop();
      await emulator.stop();
    },
  };
}

function startWorkers(stack: LocalStack, emulator: EmulatorProcess, options: Options, entries: number): Promise<QueueWorkers> {
  return startBenchQueueWorkers(stack, {
    count: options.workers,
    modelArtsUrl: emulator.url,
    chunkSize: options.chunkSize,
    maxInFlight: options.maxInFlight,
    partSize: options.partSize,
    maxIdsPerJob: entries,
    // As Lambda runs the queue function: its Node options and the memory size it is told.
    env: { NODE_OPTIONS: LAMBDA_NODE_OPTIONS, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(functionMemoryMb()) },
  });
}

async function sendJob(stack: LocalStack, jobId: string, key: string, options: Options): Promise<number> {
  const job = { jobId, target: { projectId: PROJECT, dataAnnotationId: jobId }, manifest: `s3://${stack.env.MANIFEST_BUCKET}/${key}`, options: { scaleOut: { partSize: options.partSize } } };
  const sentAt = Date.now();
  await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.env.WORK_QUEUE_URL, MessageBody: JSON.stringify(job) }));
  return sentAt;
}

async function objectBody(s3: S3Client, uri: string): Promise<Readable> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) ?? [];
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!(object.Body instanceof Readable)) throw new Error(`${uri}: no body stream`);
  return object.Body;
}

interface DeleteRun {
  entries: number;
  counts: HugeManifestCounts;
  manifest: { key: string; bytes: number; uploadMs: number; seedMs: number };
  workersAtRestMiB: number[];
  plan: PlanFigures | undefined;
  /** Peak RSS of each worker over the parts' work (after the reset at plan.json), MiB. */
  workerPeaksMiB: number[];
  workerPeakRssMiB: number;
  deletingMs: number;
  idsPerSecond: number;
  limitIdsPerSecond: number;
  ratioToLimit: number;
  endToEndMs: number;
  figures: RequestFigures;
  summary: Pick<JobSummary, 'status' | 'counts' | 'requests' | 'retries' | 'throttled' | 'invocations'>;
  partFigures: PartFigures;
  perSecond: Array<[number, number]>;
  check: { results: HugeResultsCheck; failedCsv: FailedCsvCheck; storeSize: number; keptLeft: number; keptExpected: number; checkMs: number };
}

async function deleteRun(options: Options): Promise<DeleteRun> {
  const counts = hugeManifestCounts(options.entries);
  const jobId = 'bench-huge-delete';
  const run = await startRun('delete', options);
  try {
    const { stack, emulator } = run;
    const key = `uploads/${jobId}.txt${options.gzip ? '.gz' : ''}`;
    console.log(`run 1 (delete): ${int(counts.entries)} entries (${int(counts.invalid)} invalid, ${int(counts.duplicate)} repeats ${int(counts.repeatDistance)} lines from their first, ${int(counts.distinctValid)} distinct valid)`);
    const uploaded = await uploadManifest(stack.s3, stack.env.MANIFEST_BUCKET as string, key, options.seed, counts, options.gzip);
    let seedAt = Date.now();
    const container: EmulatorContainer = { api: 'v1', projectId: PROJECT, containerId: jobId };
    const kept = Array.from({ length: options.keep }, (_, k) => keptImageId(options.seed, k));
    // One seed call (it replaces the store): the ids of the job and those to keep.
    const storeIds = [...hugeManifestIds(options.seed, counts, 1_000_000)].flat();
    storeIds.push(...kept);
    // The emulator's admin API has once dropped this 350 MB request (EPIPE) where the same call
    // passed before and after: tried up to three times.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await emulator.seed(container, storeIds);
        break;
      } catch (error) {
        if (attempt === 3) throw error;
        console.warn(`  seeding the emulator failed (${why(error)}); again`);
      }
    }
    storeIds.length = 0;
    const seedMs = Date.now() - seedAt;
    console.log(`  manifest ${int(uploaded.bytes)} bytes uploaded in ${seconds(uploaded.ms)}; emulator seeded with ${int(counts.distinctValid + kept.length)} images in ${seconds(seedMs)}`);

    const workers = await startWorkers(stack, emulator, options, counts.entries);
    try {
      const memory = new WorkerMemory(workers.pids);
      const sentAt = await sendJob(stack, jobId, key, options);
      const watch = planWatch(stack, jobId, memory, sentAt);
      const summary = await waitForJobSummary(stack, jobId, { startedAt: sentAt, timeoutMs: RUN_AT_MOST_MS, everyPoll: watch.poll });
      const endToEndMs = Date.now() - sentAt;
      const workerPeaks = memory.sample();
      // Every request since the job was sent is one of its deletes (a 429 is answered before its body is read).
      const log = await emulator.requests(sentAt);
      const phase = deletingPhase(log);
      const idsPerSecond = (summary.counts.deleted / phase.ms) * 1_000;
      const limitIdsPerSecond = options.limit * options.chunkSize;
      seedAt = Date.now();
      const store = await emulator.remaining(container, kept);
      const results = await checkHugeResults(await objectBody(stack.s3, summary.report.results), options.seed, counts);
      const failedCsv = await checkFailedCsv(await objectBody(stack.s3, summary.report.failed), options.seed, { received: counts.entries, invalid: counts.invalid, duplicate: counts.duplicate, distinctValid: counts.distinctValid });
      const plan = watch.figures();
      return {
        entries: counts.entries,
        counts,
        manifest: { key, bytes: uploaded.bytes, uploadMs: uploaded.ms, seedMs },
        workersAtRestMiB: memory.atRestKiB.map(mib),
        plan,
        workerPeaksMiB: workerPeaks.map(mib),
        workerPeakRssMiB: mib(Math.max(...workerPeaks)),
        deletingMs: phase.ms,
        idsPerSecond,
        limitIdsPerSecond,
        ratioToLimit: idsPerSecond / limitIdsPerSecond,
        endToEndMs,
        figures: requestFigures(log, phase.first, phase.last + 1, WARMUP_MS),
        summary: { status: summary.status, counts: summary.counts, requests: summary.requests, retries: summary.retries, throttled: summary.throttled, invocations: summary.invocations },
        partFigures: await partFigures(stack, jobId, summary.scaleOut?.parts ?? 0),
        perSecond: phase.perSecond,
        check: { results, failedCsv, storeSize: store.storeSize, keptLeft: store.remaining, keptExpected: kept.length, checkMs: Date.now() - seedAt },
      };
    } finally {
      await workers.stop();
    }
  } finally {
    await run.stop();
  }
}

interface PlannerRun {
  entries: number;
  counts: HugeManifestCounts;
  manifest: { key: string; bytes: number; uploadMs: number };
  workersAtRestMiB: number[];
  plan: PlanFigures | undefined;
  /** Why the run did not get a plan, when it did not. */
  error: string | undefined;
}

// Waits for plan.json, printing progress.json every 10 s; throws when a worker ends or time runs out.
async function waitForPlan(stack: LocalStack, jobId: string, watch: ReturnType<typeof planWatch>, sentAt: number): Promise<PlanFigures> {
  const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET as string, 'reports/', jobId));
  let lastPrinted = Date.now();
  while (Date.now() - sentAt < RUN_AT_MOST_MS) {
    await watch.poll();
    const figures = watch.figures();
    if (figures !== undefined) return figures;
    if (Date.now() - lastPrinted >= 10_000) {
      lastPrinted = Date.now();
      const progress = await readS3Json(stack.s3, layout.job.bucket, layout.progressKey, jobProgressSchema).catch(() => undefined);
      console.log(progress === undefined ? `  ${seconds(Date.now() - sentAt)}: no plan yet` : formatJobProgress(progress).split('\n').slice(0, 2).map((line) => `  ${line}`).join('\n'));
    }
    await sleep(250);
  }
  throw new Error(`no plan.json within ${RUN_AT_MOST_MS / 60_000} min`);
}

async function plannerRun(options: Options): Promise<PlannerRun> {
  const counts = hugeManifestCounts(options.plannerEntries);
  const jobId = 'bench-huge-planner';
  const run = await startRun('planner', options);
  try {
    const { stack, emulator } = run;
    const key = `uploads/${jobId}.txt${options.gzip ? '.gz' : ''}`;
    console.log(`run 2 (planner alone): ${int(counts.entries)} entries (${int(counts.invalid)} invalid, ${int(counts.duplicate)} repeats ${int(counts.repeatDistance)} lines from their first)`);
    const uploaded = await uploadManifest(stack.s3, stack.env.MANIFEST_BUCKET as string, key, options.seed, counts, options.gzip);
    console.log(`  manifest ${int(uploaded.bytes)} bytes uploaded in ${seconds(uploaded.ms)}`);
    const workers = await startWorkers(stack, emulator, options, counts.entries);
    const memory = new WorkerMemory(workers.pids);
    let plan: PlanFigures | undefined;
    let error: string | undefined;
    try {
      const sentAt = await sendJob(stack, jobId, key, options);
      plan = await waitForPlan(stack, jobId, planWatch(stack, jobId, memory, sentAt), sentAt);
    } catch (caught) {
      error = why(caught);
      console.error(`  the planner run failed: ${error}`);
    } finally {
      // No part is to run: the workers are ended at once (a part they may have begun is dropped with the stack).
      const stopping = workers.stop();
      for (const pid of workers.pids) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // Already ended.
        }
      }
      await stopping;
    }
    return { entries: counts.entries, counts, manifest: { key, bytes: uploaded.bytes, uploadMs: uploaded.ms }, workersAtRestMiB: memory.atRestKiB.map(mib), plan, error };
  } finally {
    await run.stop();
  }
}

function printDeleteRun(result: DeleteRun): void {
  const f = result.figures;
  const c = result.summary.counts;
  const r = result.check.results;
  console.log(`  ${result.summary.status}: received ${int(c.received)}, deleted ${int(c.deleted)}, invalid ${int(c.invalid)}, duplicate ${int(c.duplicate)}, failed ${int(c.failed)}, already deleted ${int(c.already_deleted)}, skipped ${int(c.skipped)}; ${int(result.summary.requests)} requests, ${result.summary.retries} retries, ${result.summary.throttled} throttled, ${result.summary.invocations} invocations`);
  console.log(`  deleting phase ${seconds(result.deletingMs)} = ${int(result.idsPerSecond)} IDs/s, ${pct(result.ratioToLimit)} of the limit (${int(result.limitIdsPerSecond)} IDs/s); end to end ${seconds(result.endToEndMs)}; ${int(f.requests)} requests, throttled ${pct(f.throttledShare)} overall and ${pct(f.throttledShareAfterWarmup)} after the first 10 s`);
  console.log(`  parts: IDs/s min ${int(result.partFigures.partRates.min)} / median ${int(result.partFigures.partRates.median)} / max ${int(result.partFigures.partRates.max)}; limiters ${result.partFigures.limiters.decreases} decreases, ${result.partFigures.limiters.throttled} 429s, limit ${result.partFigures.limiters.lowestLimit}–${result.partFigures.limiters.highestLimit}, chunk latency p50 ${result.partFigures.limiters.medianChunkP50Ms} ms`);
  console.log(`  worker peak RSS over the parts ${result.workerPeakRssMiB} MiB (each: ${result.workerPeaksMiB.join(', ')}; at rest: ${result.workersAtRestMiB.join(', ')})`);
  console.log(`  per second [2xx, 429], first 15: ${JSON.stringify(result.perSecond.slice(0, 15))}`);
  console.log(`  results.jsonl.gz: ${int(r.lines)} lines ${JSON.stringify(r.byOutcome)}; wrong line ${r.wrongLine}, repeated ${r.repeated}, wrong outcome ${r.wrongOutcome}, missing ${r.missing}, repeats listed ${r.duplicatesListed}; failed.csv ${int(result.check.failedCsv.rows)} rows, ${result.check.failedCsv.unexpected} unexpected; store: ${int(result.check.storeSize)} images left, ${int(result.check.keptLeft)} of the ${int(result.check.keptExpected)} to keep (checked in ${seconds(result.check.checkMs)})`);
}

function checkDeleteRun(result: DeleteRun, misses: string[]): void {
  const { counts, check, summary } = result;
  const expected = { received: counts.entries, deleted: counts.distinctValid, invalid: counts.invalid, duplicate: counts.duplicate, failed: 0, already_deleted: 0, skipped: 0 };
  const got = { received: summary.counts.received, deleted: summary.counts.deleted, invalid: summary.counts.invalid, duplicate: summary.counts.duplicate, failed: summary.counts.failed, already_deleted: summary.counts.already_deleted, skipped: summary.counts.skipped };
  if (JSON.stringify(got) !== JSON.stringify(expected)) misses.push(`delete run: the summary's counts ${JSON.stringify(got)} are not the manifest's ${JSON.stringify(expected)}`);
  const r = check.results;
  const listed = r.duplicatesListed === 0 || r.duplicatesListed === counts.duplicate;
  if (r.wrongLine + r.repeated + r.wrongOutcome + r.missing > 0 || !listed || r.lines !== counts.entries - counts.duplicate + r.duplicatesListed) {
    misses.push(`delete run: results.jsonl.gz does not have every entry once at its line (${int(r.lines)} lines; wrong line ${r.wrongLine}, repeated ${r.repeated}, wrong outcome ${r.wrongOutcome}, missing ${r.missing}, repeats listed ${r.duplicatesListed} of ${counts.duplicate}; e.g. ${r.examples.join(' | ')})`);
  }
  if (check.failedCsv.rows !== counts.invalid || check.failedCsv.unexpected > 0) misses.push(`delete run: failed.csv has ${check.failedCsv.rows} rows (${check.failedCsv.unexpected} unexpected), expected the ${counts.invalid} invalid entries`);
  if (check.storeSize !== check.keptExpected || check.keptLeft !== check.keptExpected) misses.push(`delete run: the store holds ${check.storeSize} images, ${check.keptLeft} of the ${check.keptExpected} to keep: expected exactly those`);
  if (result.ratioToLimit < BOUNDS.minRatioToLimit) misses.push(`delete run: ${pct(result.ratioToLimit)} of the limit (bound ≥ ${pct(BOUNDS.minRatioToLimit)})`);
  if (result.figures.throttledShareAfterWarmup > BOUNDS.maxThrottledAfterWarmup) misses.push(`delete run: ${pct(result.figures.throttledShareAfterWarmup)} of requests throttled after the first 10 s (bound ≤ ${pct(BOUNDS.maxThrottledAfterWarmup)})`);
  if (result.workerPeakRssMiB > functionMemoryMb()) misses.push(`delete run: a worker peaked at ${result.workerPeakRssMiB} MiB RSS, above the functions' memorySize ${functionMemoryMb()} MB`);
  if (result.plan === undefined) misses.push('delete run: plan.json was never seen');
}

const options = parseOptions(process.argv.slice(2));
const plannerLanded = !readFileSync(PLANNER, 'utf8').includes('EntryScreen');
const acceptanceRun = options.entries >= ACCEPTANCE.entries && options.plannerEntries >= ACCEPTANCE.plannerEntries && options.workers === ACCEPTANCE.workers;
console.log(
  `bench:huge: ${options.workers} workers (NODE_OPTIONS "${LAMBDA_NODE_OPTIONS}", ${functionMemoryMb()} MB), limit ${options.limit} requests/s not stated to the client, chunks of ${int(options.chunkSize)} (${int(options.limit * options.chunkSize)} IDs/s), ` +
    `latency ${options.latencyMs} ms, MAX_IN_FLIGHT ${options.maxInFlight} per worker, parts of ${int(options.partSize)}; planner ${plannerLanded ? 'hash-partitioned (EntryScreen gone)' : 'of today (EntryScreen over the whole manifest)'}` +
    (acceptanceRun ? '' : `\n  (a development run: the acceptance run is --entries ${ACCEPTANCE.entries} --planner-entries ${ACCEPTANCE.plannerEntries} --workers ${ACCEPTANCE.workers})`),
);
const misses: string[] = [];
const startedAt = Date.now();
let deleted: DeleteRun | undefined;
let planned: PlannerRun | undefined;
if (options.entries > 0) {
  try {
    deleted = await deleteRun(options);
    printDeleteRun(deleted);
    checkDeleteRun(deleted, misses);
  } catch (error) {
    misses.push(`delete run did not complete: ${why(error)}`);
  }
}
if (options.plannerEntries > 0) {
  try {
    planned = await plannerRun(options);
  } catch (error) {
    misses.push(`planner run did not complete: ${why(error)}`);
  }
  if (planned === undefined) {
    // Counted above.
  } else if (planned.plan === undefined) misses.push(`planner run (${int(planned.entries)} entries): no plan: ${planned.error ?? 'unknown'}`);
  else if (planned.plan.plannerPeakRssMiB > BOUNDS.maxPlannerPeakRssMiB) misses.push(`planner run (${int(planned.entries)} entries): planner peak RSS ${planned.plan.plannerPeakRssMiB} MiB (bound ≤ ${BOUNDS.maxPlannerPeakRssMiB} MiB)`);
}
const totalMs = Date.now() - startedAt;
console.log(`bench:huge took ${seconds(totalMs)}`);
await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
await writeFile(
  RESULTS,
  `${JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      node: process.version,
      acceptanceRun,
      plannerLanded,
      setup: { ...options, limitIdsPerSecond: options.limit * options.chunkSize, rateLimitStated: false, latencyJitterMs: 10, nodeOptions: LAMBDA_NODE_OPTIONS, functionMemoryMb: functionMemoryMb(), workersUnder: 'tsx', s3AndSqs: 'fauxqs in the benchmark process', emulator: 'own process' },
      bounds: { ...BOUNDS, maxWorkerPeakRssMiB: functionMemoryMb() },
      totalMs,
      deleteRun: deleted ?? null,
      plannerRun: planned ?? null,
      misses,
    },
    null,
    2,
  )}\n`,
);
console.log(`figures written to ${RESULTS}`);
if (misses.length > 0) {
  for (const miss of misses) console.error(`MISSED: ${miss}`);
  process.exit(1);
}
console.log('all bounds met');
