// `npm run bench:scale`: a split job run by 1 and by 4 queue workers, each in a process of its own
// (as Lambda instances), sharing one rate-limited service. See docs/scale-out.md.
//
// The emulator runs in its own process: latency 100 ms ± 10 ms, a gateway rate limit of 200
// requests/s (a token bucket with one second of burst) the client is not told, chunks of 100 IDs:
// the limit is 20,000 IDs/s. S3 and SQS: fauxqs in this process (conditional writes enforced).
// Each worker's limiter ceiling is MAX_IN_FLIGHT = 8: one worker reaches at most 8 / 0.1 s = 80
// requests/s (40% of the limit); four can ask for 320/s, more than the service allows, so they
// must back off together.
//   run 1: 1 worker, 200,000 IDs (bounded by its ceiling, so a smaller manifest gives its rate);
//   run 2: 4 workers, 1,000,000 IDs.
// Each run: the manifest (a text file) in the manifest bucket, the job sent to the work queue as a
// user would; a worker plans it into parts of 50,000 IDs; the workers run the parts; one assembles
// the report. IDs/s is measured over the deleting phase (the emulator's first request received to
// its last answer); the end-to-end time (planning and assembly included) is printed too. Every ID is
// checked in the emulator's store and in results.jsonl.gz (outcome and line). Figures go to
// bench/results/scale.json; the exit code is 1 when a bound is missed.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import type { JobSummary } from '../lib/report/jobSummary.js';
import { reportLocation } from '../lib/report/ReportLocation.js';
import { readS3Json } from '../lib/aws/readS3Json.js';
import { scaleOutLayout } from '../lib/scaleout/scaleOutLayout.js';
import { scaleOutPlanSchema } from '../lib/scaleout/scaleOutPlanSchema.js';
import { startEmulatorProcess, type EmulatorContainer, type EmulatorProcess } from '../local/emulator/startEmulatorProcess.js';
import { startLocalStack, type LocalStack } from '../local/stack/startLocalStack.js';
import { deletingPhase } from './deletingPhase.js';
import { partFigures, type PartFigures } from './partFigures.js';
import { requestFigures, type RequestFigures } from './requestFigures.js';
import { startBenchQueueWorkers } from './startBenchQueueWorkers.js';
import { waitForJobSummary } from './waitForJobSummary.js';

const LIMIT_PER_SECOND = 200;
const CHUNK_SIZE = 100;
const LIMIT_IDS_PER_SECOND = LIMIT_PER_SECOND * CHUNK_SIZE;
const LATENCY_MS = 100;
const CEILING = Number(process.env.BENCH_CEILING ?? 8);
const PART_SIZE = 50_000;
const ONE_WORKER_IDS = Number(process.env.BENCH_ONE_WORKER_IDS ?? 200_000);
const FOUR_WORKER_IDS = Number(process.env.BENCH_IDS ?? 1_000_000);
const KEEP_IDS = 1_000;
const WARMUP_MS = 10_000;
const RUN_AT_MOST_MS = 10 * 60_000;
const BOUNDS = { minTimesOneWorker: 2, minRatioToLimit: 0.8, maxThrottledAfterWarmup: 0.05 };
const PROJECT = 'b0a1e0c2d3e4f5a6b7c8d9e0f1a2b3c4';
const RESULTS = fileURLToPath(new URL('./results/scale.json', import.meta.url));

interface RunResult {
  name: string;
  workers: number;
  ids: number;
  parts: number;
  /** Deleting phase: first request received to last answer, at the emulator. */
  deletingMs: number;
  idsPerSecond: number;
  ratioToLimit: number;
  endToEndMs: number;
  /** The plan: from the job's start (preparing pass included) to plan.json written, before the messages. */
  planningMs: number;
  figures: RequestFigures;
  summary: Pick<JobSummary, 'status' | 'counts' | 'requests' | 'retries' | 'throttled' | 'invocations'>;
  partRates: PartFigures['partRates'];
  limiters: PartFigures['limiters'];
  /** Requests answered per second of the deleting phase, and of them 429s: [2xx, 429]. */
  perSecond: Array<[number, number]>;
  check: { storeLeft: number; keptLeft: number; keptExpected: number; resultLines: number; wrongLines: number; notDeleted: number; missing: number };
}

function ids(label: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => createHash('md5').update(`${label}:${i}`).digest('hex'));
}

function container(name: string): EmulatorContainer {
  return { api: 'v1', projectId: PROJECT, containerId: name };
}

// Every line of results.jsonl.gz against the manifest: the right ID at the right line, deleted, each once.
async function checkResults(stack: LocalStack, summary: JobSummary, jobIds: readonly string[]): Promise<Pick<RunResult['check'], 'resultLines' | 'wrongLines' | 'notDeleted' | 'missing'>> {
  const key = summary.report.results.replace(`s3://${stack.env.REPORT_BUCKET}/`, '');
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.env.REPORT_BUCKET, Key: key }));
  const seen = new Uint8Array(jobIds.length);
  let resultLines = 0;
  let wrongLines = 0;
  let notDeleted = 0;
  for await (const text of createInterface({ input: (object.Body as Readable).pipe(createGunzip()), crlfDelay: Number.POSITIVE_INFINITY })) {
    if (text === '') continue;
    resultLines += 1;
    const line = JSON.parse(text) as { image_id: string; outcome: string; line: number };
    if (jobIds[line.line - 1] !== line.image_id || seen[line.line - 1] === 1) wrongLines += 1;
    else seen[line.line - 1] = 1;
    if (line.outcome !== 'deleted') notDeleted += 1;
  }
  return { resultLines, wrongLines, notDeleted, missing: seen.reduce((sum, s) => sum + (s === 1 ? 0 : 1), 0) };
}

async function run(stack: LocalStack, emulator: EmulatorProcess, name: string, workerCount: number, count: number): Promise<RunResult> {
  const jobIds = ids(`${name}:delete`, count);
  const keep = ids(`${name}:keep`, KEEP_IDS);
  await emulator.seed(container(name), [...jobIds, ...keep]);
  const key = `uploads/bench-scale-${name}.txt`;
  // Multipart (tens of MB): as a user's `aws s3 cp` would upload it.
  await new Upload({ client: stack.s3, params: { Bucket: stack.env.MANIFEST_BUCKET, Key: key, Body: `${jobIds.join('\n')}\n` } }).done();
  const workers = await startBenchQueueWorkers(stack, { count: workerCount, modelArtsUrl: emulator.url, chunkSize: CHUNK_SIZE, maxInFlight: CEILING, partSize: PART_SIZE, maxIdsPerJob: count });
  try {
    const jobId = `bench-scale-${name}`;
    const startedAt = Date.now();
    const job = { jobId, target: { projectId: PROJECT, dataAnnotationId: name }, manifest: `s3://${stack.env.MANIFEST_BUCKET}/${key}`, options: { scaleOut: { partSize: PART_SIZE } } };
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.env.WORK_QUEUE_URL, MessageBody: JSON.stringify(job) }));
    const summary = await waitForJobSummary(stack, jobId, { startedAt, timeoutMs: RUN_AT_MOST_MS });
    const endToEndMs = Date.now() - startedAt;
    // Every request since the job was sent is one of its deletes (a 429 is answered before its body is read).
    const log = await emulator.requests(startedAt);
    const { first, last, ms: deletingMs, perSecond } = deletingPhase(log);
    const idsPerSecond = (summary.counts.deleted / deletingMs) * 1_000;
    const layout = scaleOutLayout(reportLocation(stack.env.REPORT_BUCKET as string, 'reports/', jobId));
    const plan = await readS3Json(stack.s3, layout.job.bucket, layout.planKey, scaleOutPlanSchema);
    const planningMs = plan === undefined ? 0 : Date.parse(plan.plannedAt) - Date.parse(plan.startedAt);
    const storeLeft = (await emulator.remaining(container(name), jobIds)).remaining;
    const keptLeft = (await emulator.remaining(container(name), keep)).remaining;
    return {
      name,
      workers: workerCount,
      ids: count,
      parts: summary.scaleOut?.parts ?? 0,
      deletingMs,
      idsPerSecond,
      ratioToLimit: idsPerSecond / LIMIT_IDS_PER_SECOND,
      endToEndMs,
      planningMs,
      figures: requestFigures(log, first, last + 1, WARMUP_MS),
      summary: { status: summary.status, counts: summary.counts, requests: summary.requests, retries: summary.retries, throttled: summary.throttled, invocations: summary.invocations },
      ...(await partFigures(stack, jobId, summary.scaleOut?.parts ?? 0)),
      perSecond,
      check: { storeLeft, keptLeft, keptExpected: KEEP_IDS, ...(await checkResults(stack, summary, jobIds)) },
    };
  } finally {
    await workers.stop();
  }
}

const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;
const n = (value: number): string => Math.round(value).toLocaleString('en');

function print(result: RunResult): void {
  const f = result.figures;
  console.log(
    `${result.name}: ${n(result.ids)} IDs in ${result.parts} parts, deleting phase ${(result.deletingMs / 1_000).toFixed(1)} s = ${n(result.idsPerSecond)} IDs/s, ${pct(result.ratioToLimit)} of the limit; ` +
      `end to end ${(result.endToEndMs / 1_000).toFixed(1)} s (planning ${(result.planningMs / 1_000).toFixed(1)} s); ${f.requests} requests, throttled ${pct(f.throttledShare)} overall and ${pct(f.throttledShareAfterWarmup)} after the first 10 s; ` +
      `part rates (IDs/s) min ${n(result.partRates.min)} / median ${n(result.partRates.median)} / max ${n(result.partRates.max)}; ` +
      `limiters: ${result.limiters.decreases} decreases, ${result.limiters.throttled} 429s seen, limit ${result.limiters.lowestLimit}–${result.limiters.highestLimit}, chunk latency p50 ${result.limiters.medianChunkP50Ms} ms; ` +
      `per second [2xx, 429]: ${JSON.stringify(result.perSecond.slice(0, 12))}…; ` +
      `check: ${result.check.storeLeft} job IDs left in the store, ${result.check.keptLeft}/${result.check.keptExpected} others kept, ${n(result.check.resultLines)} result lines, ${result.check.wrongLines} wrong, ${result.check.notDeleted} not deleted, ${result.check.missing} missing`,
  );
}

function checkOutcomes(result: RunResult, misses: string[]): void {
  const { check, summary } = result;
  if (summary.counts.deleted !== result.ids || summary.counts.received !== result.ids) misses.push(`${result.name}: not every ID ended deleted (${JSON.stringify(summary.counts)})`);
  if (check.storeLeft !== 0) misses.push(`${result.name}: the store still holds ${check.storeLeft} of the job's IDs`);
  if (check.keptLeft !== check.keptExpected) misses.push(`${result.name}: the store lost ${check.keptExpected - check.keptLeft} IDs the job did not name`);
  if (check.resultLines !== result.ids || check.wrongLines !== 0 || check.notDeleted !== 0 || check.missing !== 0) misses.push(`${result.name}: results.jsonl.gz does not list every ID once, deleted, at its line (${JSON.stringify(check)})`);
}

const emulator = await startEmulatorProcess();
// Visibility 15 min (a worker holds a part's message while it runs; a part here takes seconds).
const stack = await startLocalStack({ workQueue: { name: 'bench-scale-work', visibilityTimeoutSeconds: 900 } });
const misses: string[] = [];
try {
  await emulator.settings({ latencyMs: LATENCY_MS, latencyJitterMs: 10, rateLimitPerSecond: LIMIT_PER_SECOND, rateLimitBurstSeconds: 1 });
  console.log(`emulator ${emulator.url} (own process): latency ${LATENCY_MS} ± 10 ms, limit ${LIMIT_PER_SECOND} requests/s (unknown to the client), chunks of ${CHUNK_SIZE}: limit ${n(LIMIT_IDS_PER_SECOND)} IDs/s; MAX_IN_FLIGHT ${CEILING} per worker, parts of ${n(PART_SIZE)}`);

  const one = await run(stack, emulator, 'one-worker', 1, ONE_WORKER_IDS);
  print(one);
  await sleep(1_500); // let the gateway's bucket refill between runs
  const four = await run(stack, emulator, 'four-workers', 4, FOUR_WORKER_IDS);
  print(four);

  const speedUp = four.idsPerSecond / one.idsPerSecond;
  console.log(`speed-up, 4 workers / 1 worker: ${speedUp.toFixed(2)}× (IDs/s over each deleting phase)`);
  if (speedUp < BOUNDS.minTimesOneWorker) misses.push(`4 workers reached ${speedUp.toFixed(2)}× the IDs/s of 1 worker (bound ≥ ${BOUNDS.minTimesOneWorker}×)`);
  if (four.ratioToLimit < BOUNDS.minRatioToLimit) misses.push(`4 workers reached ${pct(four.ratioToLimit)} of the limit (bound ≥ ${pct(BOUNDS.minRatioToLimit)})`);
  if (four.figures.throttledShareAfterWarmup > BOUNDS.maxThrottledAfterWarmup) misses.push(`4 workers had ${pct(four.figures.throttledShareAfterWarmup)} of requests throttled after 10 s (bound ≤ ${pct(BOUNDS.maxThrottledAfterWarmup)})`);
  for (const result of [one, four]) checkOutcomes(result, misses);

  await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  const results = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    setup: { limitPerSecond: LIMIT_PER_SECOND, chunkSize: CHUNK_SIZE, latencyMs: `${LATENCY_MS} ± 10`, maxInFlightPerWorker: CEILING, partSize: PART_SIZE, s3AndSqs: 'fauxqs in the benchmark process', workers: 'one Node process each (local/stack/startQueueWorkers.ts)' },
    bounds: BOUNDS,
    runs: [one, four],
    speedUp,
    misses,
  };
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`figures written to ${RESULTS}`);
} finally {
  await stack.stop();
  await emulator.stop();
}
if (misses.length > 0) {
  for (const miss of misses) console.error(`MISSED: ${miss}`);
  process.exit(1);
}
console.log('all bounds met');
