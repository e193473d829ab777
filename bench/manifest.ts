// `npm run bench:manifest`: a 1,000,000-ID manifest through the whole pipeline, in bounded memory.
// See docs/throughput.md "Benchmarks" and issue 5.
//
//   1. Generates the manifest (deterministic from --seed: 1% invalid lines, 1% repeats, distinct
//      valid IDs otherwise; bench/manifestData.ts) and streams it into the local S3's manifest
//      bucket with a multipart upload (--format txt|csv|jsonl, --gzip).
//   2. Seeds the ModelArts emulator — in a process of its own (local/emulator/emulatorProcess.ts), latency
//      0, no faults, no rate limit — with the manifest's valid IDs plus --keep others.
//   3. Runs the job (runCleanupJob, chunks of 100, --max-in-flight) in a separate child process
//      (bench/manifestJobProcess.ts), so that its peak RSS is the pipeline's alone; bundled by
//      esbuild as serverless.yml bundles the handlers (--tsx runs it under tsx instead).
//   4. Reads the report back from S3 and checks it, checks the emulator's store, prints the
//      figures, writes them to bench/results/manifest.json, and exits 1 when a bound is missed.
//
// Where things run: the local S3 (fauxqs, from startLocalStack) runs in THIS process — it holds
// the manifest and the report objects, outside the measured child; the emulator in its own
// process; the job in the child. startLocalStack's in-process emulator stays idle: the job is
// pointed at the emulator process instead.
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { build } from 'esbuild';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { loadConfig } from '../lib/config/config.js';
import { startEmulatorProcess, type EmulatorContainer, type EmulatorProcess } from '../local/emulator/startEmulatorProcess.js';
import { startLocalStack, type LocalStack } from '../local/stack/startLocalStack.js';
import { keptImageId, manifestPlanCounts, manifestText, validImageId, type BenchManifestFormat, type ManifestPlanCounts } from './manifestData.js';
import type { ManifestJobReport } from './manifestJobProcess.js';
import { checkFailedCsv, checkResultsJsonl, type FailedCsvCheck, type ResultsCheck } from './manifestReportCheck.js';
import { LAMBDA_NODE_OPTIONS, LAMBDA_PROCESS_ENV } from '../local/stack/lambdaNodeOptions.js';

// Issue 14: a 1,000,000-ID unsplit job in at most 128 MiB peak RSS (it was 256: issue 5).
const BOUNDS = { maxPeakRssMiB: 128, minIdsPerSecond: 50_000 };
const ACCEPTANCE_IDS = 1_000_000;
const CHUNK_SIZE = 100;
const PROJECT = 'benchmanifest0123456789abcdef012';
const CONTAINER: EmulatorContainer = { api: 'v1', projectId: PROJECT, containerId: 'bench-manifest' };
const JOB_ID = 'bench-manifest';
// The child must finish by then, or it is killed and the run fails (at 50,000 IDs/s a million take 20 s).
const CHILD_TIMEOUT_MS = 10 * 60_000;
const RESULTS = fileURLToPath(new URL('./results/manifest.json', import.meta.url));
const CHILD = fileURLToPath(new URL('./manifestJobProcess.ts', import.meta.url));
const FORMATS: readonly BenchManifestFormat[] = ['txt', 'csv', 'jsonl'];

interface Options {
  ids: number;
  format: BenchManifestFormat;
  gzip: boolean;
  seed: number;
  keep: number;
  maxInFlight: number;
  /** The emulator's latency; 0 (the API answers at once) is the issue's setting, others are for diagnosis. */
  latencyMs: number;
  cpuProf: boolean;
  /** Run the job process under tsx instead of from an esbuild bundle (adds tsx's own memory to the figures). */
  tsx: boolean;
  /** NODE_OPTIONS for the job process instead of the deployed ones (diagnosis only: not an acceptance run). */
  nodeOptions: string | undefined;
  /** Run the job as a dry run (no ModelArts requests): diagnosis only, the checks then fail. */
  dryRun: boolean;
  /** More environment for the job process (`--env NAME=VALUE`, e.g. an allocator setting): diagnosis only, not an acceptance run. */
  extraEnv: Record<string, string>;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ids: { type: 'string', default: String(ACCEPTANCE_IDS) },
      format: { type: 'string', default: 'txt' },
      gzip: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      keep: { type: 'string', default: '10000' },
      'max-in-flight': { type: 'string', default: '16' },
      'latency-ms': { type: 'string', default: '0' },
      'cpu-prof': { type: 'boolean', default: false },
      tsx: { type: 'boolean', default: false },
      'node-options': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      env: { type: 'string', multiple: true, default: [] },
    },
  });
  const whole = (name: string, text: string, min: number, max: number): number => {
    const value = Number(text.replaceAll('_', ''));
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name}: expected a whole number from ${min} to ${max}, got "${text}"`);
    return value;
  };
  const format = values.format as BenchManifestFormat;
  if (!FORMATS.includes(format)) throw new Error(`--format: expected one of ${FORMATS.join(', ')}, got "${values.format}"`);
  return {
    ids: whole('ids', values.ids, 100, 20_000_000),
    format,
    gzip: values.gzip,
    seed: whole('seed', values.seed, 0, 2 ** 31 - 1),
    keep: whole('keep', values.keep, 1, 1_000_000),
    maxInFlight: whole('max-in-flight', values['max-in-flight'], 1, 64),
    latencyMs: whole('latency-ms', values['latency-ms'], 0, 1_000),
    cpuProf: values['cpu-prof'],
    tsx: values.tsx,
    nodeOptions: values['node-options'],
    dryRun: values['dry-run'],
    extraEnv: Object.fromEntries(values.env.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`--env: expected NAME=VALUE, got "${pair}"`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    })),
  };
}

/** The run the issue's bounds are about: a million IDs, latency 0, the job process as deployed. */
function isAcceptanceRun(options: Options): boolean {
  return options.ids >= ACCEPTANCE_IDS && options.latencyMs === 0 && options.nodeOptions === undefined && Object.keys(options.extraEnv).length === 0 && !options.dryRun && !options.tsx;
}

/** Streams the generated manifest into S3 with a multipart upload; resolves with its size in bytes. */
async function uploadManifest(s3: S3Client, bucket: string, key: string, options: Options): Promise<number> {
  const text = Readable.from(manifestText(options.format, options.seed, options.ids));
  const body = options.gzip ? text.pipe(createGzip()) : text.pipe(new PassThrough());
  text.on('error', (error) => body.destroy(error));
  const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: body }, queueSize: 2, partSize: 8 * 1024 * 1024 });
  await upload.done();
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return head.ContentLength ?? -1;
}

async function seedEmulator(emulator: EmulatorProcess, options: Options, plan: ManifestPlanCounts): Promise<string[]> {
  const kept = Array.from({ length: options.keep }, (_, k) => keptImageId(options.seed, k));
  const ids = Array.from({ length: plan.distinctValid }, (_, k) => validImageId(options.seed, k));
  ids.push(...kept);
  await emulator.seed(CONTAINER, ids);
  return kept;
}

// With metrics disabled, Powertools warns at every flush (one per 100 chunk latencies): about a
// hundred identical lines for a million IDs. They are counted, not shown.
const METRICS_WARNING = 'No application metrics to publish';
let suppressedWarnings = 0;

/** Passes the job process's output (its structured logs) through, without the metrics warnings. */
function forwardOutput(child: ChildProcess): void {
  for (const [stream, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
    if (stream === null) continue;
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      if (line.includes(METRICS_WARNING)) suppressedWarnings += 1;
      else to.write(`${line}\n`);
    });
  }
}

/**
 * Bundles the job process as serverless.yml's custom.esbuild bundles the handlers (and as
 * bench/coldstart.ts does): the memory measured is then the deployed code's, without tsx's.
 */
async function bundleJobProcess(outDir: string): Promise<string> {
  const outfile = join(outDir, 'manifestJobProcess.cjs');
  // With its source map, linked, as serverless.yml's custom.esbuild writes it: under
  // --enable-source-maps Node reads and keeps a module's map when it loads it.
  await build({ entryPoints: [CHILD], outfile, bundle: true, minify: true, keepNames: true, platform: 'node', target: 'node22', format: 'cjs', mainFields: ['module', 'main'], sourcemap: 'linked', logLevel: 'error' });
  return outfile;
}

/** Runs the job in the child process; resolves with its report, or rejects when it ends without one. */
function runJobInChild(entry: string, env: NodeJS.ProcessEnv, job: unknown, options: Options, children: Set<ChildProcess>): Promise<ManifestJobReport & { cpuProfileDir?: string }> {
  const cpuProfileDir = options.cpuProf ? join(tmpdir(), `bench-manifest-cpu-${Date.now()}`) : undefined;
  const child = spawn(
    process.execPath,
    [
      ...(cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`]),
      ...(options.tsx ? ['--disable-warning=ExperimentalWarning', '--import', 'tsx', CHILD] : [entry]),
    ],
    // The Node options and allocator setting of the deployed function: the job runs as it would on Lambda.
    { env: { ...env, ...LAMBDA_PROCESS_ENV, ...(options.nodeOptions === undefined ? {} : { NODE_OPTIONS: options.nodeOptions }), ...options.extraEnv, BENCH_MANIFEST_JOB: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  children.add(child);
  forwardOutput(child);
  return new Promise((resolve, reject) => {
    let report: ManifestJobReport | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the job process did not finish within ${CHILD_TIMEOUT_MS / 1_000} s; killed`));
    }, CHILD_TIMEOUT_MS);
    child.on('message', (message) => {
      report = message as ManifestJobReport;
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close', not 'exit': the output is passed through to its end first.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (report === undefined) reject(new Error(`the job process ended (${signal ?? `exit code ${code}`}) without a report`));
      else resolve({ ...report, ...(cpuProfileDir === undefined ? {} : { cpuProfileDir }) });
    });
  });
}

async function reportObjects(s3: S3Client, bucket: string, prefix: string): Promise<Record<string, number>> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return Object.fromEntries((listed.Contents ?? []).map((object) => [(object.Key ?? '').slice(prefix.length), object.Size ?? 0]));
}

async function objectStream(s3: S3Client, bucket: string, key: string): Promise<Readable> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!(object.Body instanceof Readable)) throw new Error(`s3://${bucket}/${key}: no body stream`);
  return object.Body;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const int = (value: number): string => Math.round(value).toLocaleString('en');

const options = parseOptions(process.argv.slice(2));
// Keep the child's output to the pipeline's own progress logs: no EMF metric lines.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const plan = manifestPlanCounts(options.ids);
const children = new Set<ChildProcess>();
const misses: string[] = [];
let stack: LocalStack | undefined;
let emulator: EmulatorProcess | undefined;
let bundleDir: string | undefined;
// A Ctrl-C must not leave the job or the emulator running.
const onSignal = (signal: NodeJS.Signals): void => {
  for (const child of children) child.kill('SIGKILL');
  void emulator?.stop();
  process.exit(signal === 'SIGINT' ? 130 : 143);
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
try {
  [stack, emulator] = await Promise.all([startLocalStack(), startEmulatorProcess()]);
  await emulator.settings({ latencyMs: options.latencyMs, latencyJitterMs: 0, rateLimitPerSecond: 0, transientFaultRate: 0, maxBatchSize: 1000, v1UnknownIds: 'fail_batch' });
  const manifestBucket = stack.env.MANIFEST_BUCKET ?? '';
  const key = `uploads/bench-manifest-${options.ids}.${options.format}${options.gzip ? '.gz' : ''}`;
  console.log(`bench:manifest: ${int(options.ids)} entries (${int(plan.invalid)} invalid, ${int(plan.duplicate)} repeats, ${int(plan.distinctValid)} distinct valid), ${options.format}${options.gzip ? '.gz' : ''}, seed ${options.seed}; chunks of ${CHUNK_SIZE}, up to ${options.maxInFlight} in flight; emulator ${emulator.url} (own process, latency ${options.latencyMs} ms)`);
  if (!isAcceptanceRun(options)) console.log(`  (a development run: the acceptance run is --ids ${ACCEPTANCE_IDS} with latency 0, the deployed NODE_OPTIONS and environment, no dry run)`);

  let at = performance.now();
  const manifestBytes = await uploadManifest(stack.s3, manifestBucket, key, options);
  const uploadMs = performance.now() - at;
  at = performance.now();
  const kept = await seedEmulator(emulator, options, plan);
  const seedMs = performance.now() - at;
  console.log(`  manifest s3://${manifestBucket}/${key}: ${int(manifestBytes)} bytes, uploaded in ${int(uploadMs)} ms; emulator seeded with ${int(plan.distinctValid + kept.length)} images in ${int(seedMs)} ms`);

  const config = loadConfig(stack.env);
  const job = { manifest: `s3://${manifestBucket}/${key}`, target: { projectId: PROJECT, dataAnnotationId: CONTAINER.containerId }, options: { chunkSize: CHUNK_SIZE, maxInFlight: options.maxInFlight, ...(options.dryRun ? { dryRun: true } : {}) }, jobId: JOB_ID };
  // The whole job in this one process, as one Lambda would run it: no work queue, so nothing is
  // continued or fanned out over SQS (the figures are one process's).
  const { WORK_QUEUE_URL: _workQueue, DEAD_LETTER_QUEUE_URL: _deadLetterQueue, ...stackEnv } = stack.env;
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...stackEnv,
    MODELARTS_ENDPOINT: emulator.url,
    // The guard rails (docs/safety.md): this one target, and a cap that lets the whole manifest through.
    ALLOWED_TARGETS: `${PROJECT}/${CONTAINER.containerId}`,
    MAX_IDS_PER_JOB: String(options.ids),
    // A job's options may not loosen the deployment's limits (issue 13): the ceiling is the deployment's.
    MAX_IN_FLIGHT: String(options.maxInFlight),
    POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'INFO',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  bundleDir = await mkdtemp(join(tmpdir(), 'bench-manifest-'));
  const entry = options.tsx ? CHILD : await bundleJobProcess(bundleDir);
  const rssAtSpawn = process.memoryUsage().rss;
  const run = await runJobInChild(entry, childEnv, job, options, children);
  const summary = run.outcome.ok ? run.outcome.summary : undefined;
  const received = summary?.counts.received ?? 0;
  const idsPerSecond = (received / run.elapsedMs) * 1_000;
  const peakRssMiB = run.peakRssKiB / 1024;

  // The report, read back from S3.
  const folder = `${config.REPORT_PREFIX}${JOB_ID}/`;
  const files = await reportObjects(stack.s3, config.REPORT_BUCKET, folder);
  const resultsCheck: ResultsCheck | undefined = files['results.jsonl.gz'] === undefined ? undefined : await checkResultsJsonl(await objectStream(stack.s3, config.REPORT_BUCKET, `${folder}results.jsonl.gz`), options.seed, plan);
  const failedCheck: FailedCsvCheck | undefined = files['failed.csv'] === undefined ? undefined : await checkFailedCsv(await objectStream(stack.s3, config.REPORT_BUCKET, `${folder}failed.csv`), options.seed, plan);
  // The store must hold exactly the images the job did not name: all of them, and nothing else.
  const store = await emulator.remaining(CONTAINER, kept);
  const stats = await emulator.stats();

  console.log(`  job: ${run.outcome.ok ? 'completed' : `FAILED: ${run.outcome.error.name}: ${run.outcome.error.message}`}`);
  console.log(`  ${int(received)} entries in ${int(run.elapsedMs)} ms = ${int(idsPerSecond)} IDs/s through the whole pipeline (bound ≥ ${int(BOUNDS.minIdsPerSecond)}); the job process used ${int(run.cpuMs)} ms of CPU (${int((received / Math.max(1, run.cpuMs)) * 1_000)} IDs per CPU-second)`);
  console.log(`  job process: peak RSS ${peakRssMiB.toFixed(1)} MiB (bound ≤ ${BOUNDS.maxPeakRssMiB}; ${(run.peakRssBeforeJobKiB / 1024).toFixed(1)} MiB before the job started), peak heap used ${mib(run.peakHeapUsedBytes)} (${run.heapSamples} samples, every 100 ms; the sampled RSS peaked at ${mib(run.peakSampledRssBytes)}, ${int(run.peakSampledRssAtMs)} ms into the job)`);
  for (const [when, m] of [['before the job', run.beforeJob], ['at the peak', run.atPeak]] as const) {
    console.log(`    ${when}: RSS ${m.rss} MiB (anonymous ${m.rssAnon}, files ${m.rssFile}); heap ${m.heapUsed} MiB used of ${m.heapTotal} (${Object.entries(m.spaces).filter(([, [, size]]) => size >= 0.5).map(([name, [used, size]]) => `${name.replace('_space', '')} ${used}/${size}`).join(', ')}), external ${m.external} MiB of which array buffers ${m.arrayBuffers}; anonymous RSS in neither: ${(m.rssAnon - m.heapTotal - m.external).toFixed(1)} MiB`);
  }
  console.log(`    (its resourceUsage().maxRSS says ${(run.maxRssKiB / 1024).toFixed(1)} MiB: on Linux that includes this process's RSS at the fork, ${mib(rssAtSpawn)}; the peak above is the child's own VmHWM)`);
  if (summary) {
    const c = summary.counts;
    console.log(`  counts: received ${int(c.received)}, deleted ${int(c.deleted)}, already deleted ${int(c.already_deleted)}, failed ${int(c.failed)}, invalid ${int(c.invalid)}, duplicate ${int(c.duplicate)}; ${int(summary.requests)} requests, ${summary.retries} retries, ${summary.throttled} throttled`);
  }
  console.log(`  report s3://${config.REPORT_BUCKET}/${folder}: ${Object.entries(files).map(([name, size]) => `${name} ${int(size)} bytes`).join(', ') || 'nothing'}`);
  if (resultsCheck) console.log(`  results.jsonl.gz: ${int(resultsCheck.lines)} lines ${JSON.stringify(resultsCheck.byOutcome)}; repeated ${resultsCheck.repeated}, unknown ${resultsCheck.unknown}, wrong outcome ${resultsCheck.wrongOutcome}, missing ${resultsCheck.missingValid} valid / ${resultsCheck.missingInvalid} invalid`);
  if (failedCheck) console.log(`  failed.csv: ${int(failedCheck.rows)} rows, ${failedCheck.unexpected} unexpected`);
  console.log(`  emulator store: ${int(store.storeSize)} images left, ${int(store.remaining)} of the ${int(kept.length)} to keep; ${int(stats.requests)} requests over ${stats.connections} connections, at most ${stats.maxInFlightSeen} in flight`);
  if (suppressedWarnings > 0) console.log(`  (${suppressedWarnings} Powertools "${METRICS_WARNING}" warnings of the job process not shown: metrics are disabled here)`);
  if (run.cpuProfileDir !== undefined) console.log(`  CPU profile of the job process in ${run.cpuProfileDir}`);

  // The bounds of the issue, and the checks that the run did what it claims.
  if (!run.outcome.ok) misses.push(`the job failed: ${run.outcome.error.message}`);
  if (peakRssMiB > BOUNDS.maxPeakRssMiB) misses.push(`peak RSS ${peakRssMiB.toFixed(1)} MiB (bound ≤ ${BOUNDS.maxPeakRssMiB} MiB)`);
  if (!(idsPerSecond >= BOUNDS.minIdsPerSecond)) misses.push(`${int(idsPerSecond)} IDs/s (bound ≥ ${int(BOUNDS.minIdsPerSecond)})`);
  for (const name of ['summary.json', 'failed.csv', 'results.jsonl.gz']) if (files[name] === undefined) misses.push(`${name} is not in s3://${config.REPORT_BUCKET}/${folder}`);
  if (summary) {
    const c = summary.counts;
    const expected = { received: plan.received, invalid: plan.invalid, duplicate: plan.duplicate, deleted: plan.distinctValid, already_deleted: 0, failed: 0 };
    const got = { received: c.received, invalid: c.invalid, duplicate: c.duplicate, deleted: c.deleted, already_deleted: c.already_deleted, failed: c.failed };
    if (JSON.stringify(got) !== JSON.stringify(expected)) misses.push(`the summary's counts ${JSON.stringify(got)} are not the manifest's ${JSON.stringify(expected)}`);
  }
  if (resultsCheck) {
    const expectedLines = plan.received - plan.duplicate;
    if (resultsCheck.lines !== expectedLines || resultsCheck.repeated + resultsCheck.unknown + resultsCheck.wrongOutcome + resultsCheck.missingValid + resultsCheck.missingInvalid > 0) {
      misses.push(`results.jsonl.gz has ${resultsCheck.lines} lines, expected one per distinct valid or invalid entry (${expectedLines}); repeated ${resultsCheck.repeated}, unknown ${resultsCheck.unknown}, wrong outcome ${resultsCheck.wrongOutcome}, missing ${resultsCheck.missingValid} valid and ${resultsCheck.missingInvalid} invalid; e.g. ${resultsCheck.examples.join(' | ')}`);
    }
  }
  if (failedCheck && (failedCheck.rows !== plan.invalid || failedCheck.unexpected > 0)) {
    misses.push(`failed.csv has ${failedCheck.rows} rows (${failedCheck.unexpected} unexpected), expected the ${plan.invalid} invalid entries; e.g. ${failedCheck.examples.join(' | ')}`);
  }
  if (store.storeSize !== kept.length || store.remaining !== kept.length) {
    misses.push(`the emulator's store holds ${store.storeSize} images, ${store.remaining} of the ${kept.length} to keep: expected exactly those`);
  }

  await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  const results = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    acceptanceRun: isAcceptanceRun(options),
    setup: {
      ids: options.ids,
      format: `${options.format}${options.gzip ? '.gz' : ''}`,
      seed: options.seed,
      plan,
      keep: options.keep,
      chunkSize: CHUNK_SIZE,
      maxInFlight: options.maxInFlight,
      manifestBytes,
      emulator: `own process, latency ${options.latencyMs} ms, no faults, no rate limit`,
      s3: 'fauxqs in the benchmark process',
      job: `child process (bench/manifestJobProcess.ts, ${options.tsx ? 'under tsx' : 'bundled by esbuild as serverless.yml does'})`,
    },
    bounds: BOUNDS,
    figures: {
      elapsedMs: Math.round(run.elapsedMs),
      cpuMs: run.cpuMs,
      received,
      idsPerSecond: Math.round(idsPerSecond),
      peakRssMiB: Number(peakRssMiB.toFixed(1)),
      rssBeforeJobMiB: Number((run.peakRssBeforeJobKiB / 1024).toFixed(1)),
      resourceUsageMaxRssMiB: Number((run.maxRssKiB / 1024).toFixed(1)),
      parentRssAtSpawnMiB: Number((rssAtSpawn / 1024 / 1024).toFixed(1)),
      peakHeapUsedMiB: Number((run.peakHeapUsedBytes / 1024 / 1024).toFixed(1)),
      peakSampledRssMiB: Number((run.peakSampledRssBytes / 1024 / 1024).toFixed(1)),
      peakSampledRssAtMs: run.peakSampledRssAtMs,
      atPeakMiB: run.atPeak,
      beforeJobMiB: run.beforeJob,
      nodeOptions: options.nodeOptions ?? LAMBDA_NODE_OPTIONS,
      processEnv: { ...LAMBDA_PROCESS_ENV, ...(options.nodeOptions === undefined ? {} : { NODE_OPTIONS: options.nodeOptions }), ...options.extraEnv },
      memoryTimeline: { columns: ['ms', 'rssMiB', 'rssAnonMiB', 'heapTotalMiB', 'heapUsedMiB', 'externalMiB', 'arrayBuffersMiB'], rows: run.timeline },
      reportFiles: files,
      uploadMs: Math.round(uploadMs),
      seedMs: Math.round(seedMs),
    },
    checks: { results: resultsCheck, failedCsv: failedCheck, store: { left: store.storeSize, keptLeft: store.remaining, keptExpected: kept.length }, emulator: stats },
    summary: summary ?? null,
    error: run.outcome.ok ? null : run.outcome.error,
    misses,
  };
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`figures written to ${RESULTS}`);
} catch (error) {
  misses.push(`the benchmark did not complete: ${(error as Error).stack ?? String(error)}`);
} finally {
  for (const child of children) child.kill('SIGKILL');
  await emulator?.stop();
  await stack?.stop();
  if (bundleDir !== undefined) await rm(bundleDir, { recursive: true, force: true });
}
for (const miss of misses) console.error(`BOUND MISSED: ${miss}`);
process.exitCode = misses.length === 0 ? 0 : 1;
