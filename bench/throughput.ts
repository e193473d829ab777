// `npm run bench:throughput`: our pipeline against the service's limit, side by side with a naive
// client, on one emulator running in a process of its own. See docs/throughput.md.
//
// The emulator: latency 150 ms ± 50 ms, a gateway rate limit of 30 requests/s (a token bucket with
// one second of burst) that the client is not told, 2% of requests answered 503 (seeded), chunks
// of 100 IDs: the limit is 3,000 IDs/s.
//   run 1: our pipeline (runCleanupJob: real client, adaptive limiter, real clock) on 100,000 IDs;
//   run 2: the naive baseline: one request at a time, a fixed 2 s sleep on 429, on 10,000 IDs;
//   run 3: our pipeline on 100,000 IDs while the limit drops to 10 requests/s for 20 s, then returns to 30.
// Every ID is checked against the emulator's store. The figures go to bench/results/throughput.json;
// the exit code is 1 when a bound is missed.
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { buildApp } from 'fauxqs';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../lib/config/config.js';
import { createCleanupDeps } from '../lib/deps/createCleanupDeps.js';
import { createModelArtsClient } from '../lib/modelarts/modelArtsClient.js';
import type { JobSummary } from '../lib/report/jobSummary.js';
import { runCleanupJob } from '../lib/job/runCleanupJob.js';
import { startEmulatorProcess, type EmulatorContainer, type EmulatorProcess } from '../local/emulator/startEmulatorProcess.js';
import { recoveryAfterChange, type Recovery } from './recoveryAfterChange.js';
import { requestFigures, type RequestFigures } from './requestFigures.js';

const LIMIT_PER_SECOND = 30;
const LOWER_LIMIT_PER_SECOND = 10;
const CHUNK_SIZE = 100;
const LIMIT_IDS_PER_SECOND = LIMIT_PER_SECOND * CHUNK_SIZE;
const PIPELINE_IDS = Number(process.env.BENCH_IDS ?? 100_000);
const BASELINE_IDS = Number(process.env.BENCH_BASELINE_IDS ?? 10_000);
const KEEP_IDS = 1_000;
// The job's ceiling on requests in flight: well above what the limit needs (30/s × 0.2 s = 6), so the limiter, not the ceiling, finds it.
const CEILING = 32;
const WARMUP_MS = 10_000;
const DROP_AFTER_MS = 10_000;
const DROP_FOR_MS = 20_000;
const BOUNDS = { run1MinRatio: 0.9, run1MaxThrottledAfterWarmup: 0.05, run1MinTimesBaseline: 4, run3RecoverWithinMs: 10_000, run3Threshold: 0.8 };
const PROJECT = 'bench0123456789abcdef0123456789ab'.slice(0, 32);
const RESULTS = fileURLToPath(new URL('./results/throughput.json', import.meta.url));

interface RunResult {
  name: string;
  ids: number;
  wallMs: number;
  idsPerSecond: number;
  ratioToLimit: number;
  retries: number;
  figures: RequestFigures;
  outcomes: { deleted: number; failed: number; other: number };
  store: { jobIdsLeft: number; keptIdsLeft: number; keptIdsExpected: number };
  limiter?: JobSummary['limiter'];
  recoveries?: Recovery[];
}

function ids(label: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => createHash('md5').update(`${label}:${i}`).digest('hex'));
}

function container(containerId: string): EmulatorContainer {
  return { api: 'v1', projectId: PROJECT, containerId };
}

async function seed(emulator: EmulatorProcess, name: string, count: number): Promise<{ job: string[]; keep: string[] }> {
  const job = ids(`${name}:delete`, count);
  const keep = ids(`${name}:keep`, KEEP_IDS);
  await emulator.seed(container(name), [...job, ...keep]);
  return { job, keep };
}

async function storeCheck(emulator: EmulatorProcess, name: string, job: string[], keep: string[]): Promise<RunResult['store']> {
  const jobLeft = await emulator.remaining(container(name), job);
  const keptLeft = await emulator.remaining(container(name), keep);
  return { jobIdsLeft: jobLeft.remaining, keptIdsLeft: keptLeft.remaining, keptIdsExpected: keep.length };
}

async function startReportStore(): Promise<{ env: Record<string, string>; s3: S3Client; stop: () => Promise<void> }> {
  // Reports go to an in-process fauxqs: one small write per job, at its end, outside the measured traffic.
  const aws = buildApp({ logger: false });
  await aws.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(aws.server.address() as AddressInfo).port}`;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const s3 = new S3Client({ endpoint: url, forcePathStyle: true, region: 'us-east-1', credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench-reports' }));
  return {
    env: { REPORT_BUCKET: 'bench-reports', AWS_ENDPOINT_URL_S3: url, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
    s3,
    async stop() {
      s3.destroy();
      await aws.close();
    },
  };
}

async function runPipeline(emulator: EmulatorProcess, reports: Awaited<ReturnType<typeof startReportStore>>, name: string, during?: (startedAt: number) => Promise<void>): Promise<RunResult> {
  const { job, keep } = await seed(emulator, name, PIPELINE_IDS);
  const config = loadConfig({ ...reports.env, MODELARTS_ENDPOINT: emulator.url, CHUNK_SIZE: String(CHUNK_SIZE), MAX_IN_FLIGHT: String(CEILING), ALLOWED_TARGETS: PROJECT, POWERTOOLS_METRICS_DISABLED: 'true' });
  // Progress logs (with the limiter's state) every 5 s; BENCH_LOG_LEVEL=WARN to silence them.
  const logger = new Logger({ serviceName: 'bench-throughput', logLevel: (process.env.BENCH_LOG_LEVEL ?? 'INFO') as 'INFO' });
  const deps = createCleanupDeps(config, { s3: reports.s3, logger });
  const startedAt = Date.now();
  const jobRun = runCleanupJob({ target: { projectId: PROJECT, dataAnnotationId: name }, imageIds: job, jobId: `bench-${name}` }, { type: 'manual', source: 'bench' }, deps);
  let endedAt = 0;
  const [{ summary }] = await Promise.all([
    jobRun.then((result) => {
      endedAt = Date.now();
      return result;
    }),
    during?.(startedAt),
  ]);
  const log = await emulator.requests(startedAt);
  const wallMs = endedAt - startedAt;
  const idsPerSecond = (job.length / wallMs) * 1_000;
  const { deleted, failed, ...rest } = summary.counts;
  return {
    name,
    ids: job.length,
    wallMs,
    idsPerSecond,
    ratioToLimit: idsPerSecond / LIMIT_IDS_PER_SECOND,
    retries: summary.retries,
    figures: requestFigures(log, startedAt, endedAt, WARMUP_MS),
    outcomes: { deleted, failed, other: rest.already_deleted + rest.invalid + rest.duplicate },
    store: await storeCheck(emulator, name, job, keep),
    ...(summary.limiter === undefined ? {} : { limiter: summary.limiter }),
  };
}

// The naive client: one request at a time, a fixed 2 s sleep on 429 (Huawei's advice), immediate retry on a 5xx.
async function runBaseline(emulator: EmulatorProcess, name: string): Promise<RunResult> {
  const { job, keep } = await seed(emulator, name, BASELINE_IDS);
  const client = createModelArtsClient({ endpoint: emulator.url, requestTimeoutMs: 30_000 });
  const target = { api: 'v1' as const, projectId: PROJECT, dataAnnotationId: name };
  let retries = 0;
  let deleted = 0;
  let failed = 0;
  const startedAt = Date.now();
  for (let at = 0; at < job.length; at += CHUNK_SIZE) {
    const chunk = job.slice(at, at + CHUNK_SIZE);
    for (let attempt = 1; ; attempt += 1) {
      const result = await client.deleteBatch(target, chunk);
      if (result.kind === 'per_item') {
        deleted += chunk.length;
        break;
      }
      if (attempt >= 20 || (result.failure.failureClass !== 'throttled' && result.failure.failureClass !== 'transient')) {
        failed += chunk.length;
        break;
      }
      retries += 1;
      if (result.failure.failureClass === 'throttled') await sleep(2_000);
    }
  }
  const endedAt = Date.now();
  const log = await emulator.requests(startedAt);
  const wallMs = endedAt - startedAt;
  const idsPerSecond = (job.length / wallMs) * 1_000;
  return {
    name,
    ids: job.length,
    wallMs,
    idsPerSecond,
    ratioToLimit: idsPerSecond / LIMIT_IDS_PER_SECOND,
    retries,
    figures: requestFigures(log, startedAt, endedAt, WARMUP_MS),
    outcomes: { deleted, failed, other: 0 },
    store: await storeCheck(emulator, name, job, keep),
  };
}

const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;

function print(run: RunResult): void {
  const f = run.figures;
  console.log(
    `${run.name}: ${run.ids.toLocaleString('en')} IDs in ${(run.wallMs / 1_000).toFixed(1)} s = ${Math.round(run.idsPerSecond).toLocaleString('en')} IDs/s, ` +
      `${pct(run.ratioToLimit)} of the limit; ${f.requests} requests, throttled ${pct(f.throttledShare)} overall and ${pct(f.throttledShareAfterWarmup)} after the first 10 s, ` +
      `${f.transientFaults} 5xx, ${run.retries} retries; outcomes: ${run.outcomes.deleted} deleted, ${run.outcomes.failed} failed; ` +
      `store: ${run.store.jobIdsLeft} job IDs left, ${run.store.keptIdsLeft}/${run.store.keptIdsExpected} others kept`,
  );
  if (run.limiter) console.log(`  limiter: ${JSON.stringify(run.limiter)}`);
  for (const recovery of run.recoveries ?? []) {
    console.log(
      `  limit → ${recovery.newLimitPerSecond}/s: above 80% of it after ${recovery.aboveThresholdAfterMs ?? 'never'} ms, ` +
        `throttling ≤ 5% after ${recovery.throttlingCalmAfterMs ?? 'never'} ms; per second [2xx, 429, 5xx]: ${JSON.stringify(recovery.perSecond.slice(0, 15))}`,
    );
  }
}

function checkOutcomes(run: RunResult, misses: string[]): void {
  if (run.outcomes.deleted !== run.ids || run.outcomes.failed !== 0 || run.outcomes.other !== 0) misses.push(`${run.name}: not every ID ended deleted (${JSON.stringify(run.outcomes)})`);
  if (run.store.jobIdsLeft !== 0) misses.push(`${run.name}: the store still holds ${run.store.jobIdsLeft} of the job's IDs`);
  if (run.store.keptIdsLeft !== run.store.keptIdsExpected) misses.push(`${run.name}: the store lost ${run.store.keptIdsExpected - run.store.keptIdsLeft} IDs the job did not name`);
}

// The EMF metric lines of each job would drown the figures.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const emulator = await startEmulatorProcess();
const reports = await startReportStore();
const misses: string[] = [];
try {
  await emulator.settings({ latencyMs: 150, latencyJitterMs: 50, rateLimitPerSecond: LIMIT_PER_SECOND, rateLimitBurstSeconds: 1, transientFaultRate: 0.02, faultSeed: 42 });
  console.log(`emulator ${emulator.url}: latency 150 ± 50 ms, limit ${LIMIT_PER_SECOND} requests/s (unknown to the client), 2% 503, chunks of ${CHUNK_SIZE}: limit ${LIMIT_IDS_PER_SECOND} IDs/s`);

  const run1 = await runPipeline(emulator, reports, 'run1-pipeline');
  print(run1);
  await sleep(1_500); // let the gateway's bucket refill between runs
  const run2 = await runBaseline(emulator, 'run2-baseline');
  print(run2);
  await sleep(1_500);

  const changes: Array<{ at: number; limit: number }> = [];
  const run3 = await runPipeline(emulator, reports, 'run3-limit-change', async (startedAt) => {
    await sleep(Math.max(0, startedAt + DROP_AFTER_MS - Date.now()));
    changes.push({ at: await emulator.settings({ rateLimitPerSecond: LOWER_LIMIT_PER_SECOND }), limit: LOWER_LIMIT_PER_SECOND });
    await sleep(DROP_FOR_MS);
    changes.push({ at: await emulator.settings({ rateLimitPerSecond: LIMIT_PER_SECOND }), limit: LIMIT_PER_SECOND });
  });
  const run3Log = await emulator.requests(changes[0]?.at ?? 0);
  const run3End = (changes[0]?.at ?? 0) + run3.wallMs;
  run3.recoveries = changes.map((change, i) =>
    recoveryAfterChange(run3Log, change.at, Math.min(changes[i + 1]?.at ?? Number.POSITIVE_INFINITY, run3End), change.limit, CHUNK_SIZE, BOUNDS.run3Threshold),
  );
  print(run3);

  // The bounds of the issue.
  if (run1.ratioToLimit < BOUNDS.run1MinRatio) misses.push(`run 1 reached ${pct(run1.ratioToLimit)} of the limit (bound ≥ ${pct(BOUNDS.run1MinRatio)})`);
  if (run1.figures.throttledShareAfterWarmup > BOUNDS.run1MaxThrottledAfterWarmup) misses.push(`run 1 had ${pct(run1.figures.throttledShareAfterWarmup)} throttled after 10 s (bound ≤ ${pct(BOUNDS.run1MaxThrottledAfterWarmup)})`);
  const timesBaseline = run1.idsPerSecond / run2.idsPerSecond;
  if (timesBaseline < BOUNDS.run1MinTimesBaseline) misses.push(`run 1 was ${timesBaseline.toFixed(2)}× the baseline (bound ≥ ${BOUNDS.run1MinTimesBaseline}×)`);
  if (changes.length !== 2) misses.push(`run 3 ended before both limit changes (${changes.length} applied): too few IDs`);
  for (const recovery of run3.recoveries) {
    if (recovery.aboveThresholdAfterMs === null || recovery.aboveThresholdAfterMs > BOUNDS.run3RecoverWithinMs) {
      misses.push(`run 3: not above 80% of ${recovery.newLimitPerSecond}/s within 10 s of the change (${recovery.aboveThresholdAfterMs ?? 'never'} ms)`);
    }
  }
  for (const run of [run1, run2, run3]) checkOutcomes(run, misses);
  console.log(`run 1 / baseline: ${timesBaseline.toFixed(2)}×`);

  await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  const results = { measuredAt: new Date().toISOString(), node: process.version, setup: { limitPerSecond: LIMIT_PER_SECOND, lowerLimitPerSecond: LOWER_LIMIT_PER_SECOND, chunkSize: CHUNK_SIZE, latencyMs: '150 ± 50', transientFaultRate: 0.02, ceiling: CEILING, reports: 'in-process fauxqs S3' }, bounds: BOUNDS, runs: [run1, run2, run3], run1TimesBaseline: timesBaseline, misses };
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`figures written to ${RESULTS}`);
} finally {
  await reports.stop();
  await emulator.stop();
}
for (const miss of misses) console.error(`BOUND MISSED: ${miss}`);
process.exitCode = misses.length === 0 ? 0 : 1;
