// `npm run bench:coldstart`: each handler bundled as serverless.yml's esbuild settings bundle it,
// its size, and its module-initialisation time in fresh Node processes (the median of several),
// with every network call refused and recorded during and shortly after the import. Exits 1 when
// a bundle is 1.5 MB or more, or an import touches the network or fails. Figures: bench/results/coldstart.json.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const GUARD = fileURLToPath(new URL('./noNetworkGuard.cjs', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/coldstart.json', import.meta.url));
// "1.5 MB" read strictly: 1,500,000 bytes (1.43 MiB).
const MAX_BYTES = 1_500_000;
const RUNS = Number(process.env.BENCH_COLDSTART_RUNS ?? 7);
// After the import, wait this long for work the module may have scheduled (a timer, a promise) before counting network attempts.
const SETTLE_MS = 300;
// A closed port on loopback: were anything to connect despite the guard, it could reach nothing.
const NOWHERE = 'http://127.0.0.1:9';

// The environment serverless.yml gives the functions, with every endpoint pointing nowhere.
const LAMBDA_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'eu-west-1',
  AWS_LAMBDA_FUNCTION_NAME: 'image-cleanup-bench',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_ENDPOINT_URL: NOWHERE,
  AWS_ENDPOINT_URL_S3: NOWHERE,
  AWS_ENDPOINT_URL_SQS: NOWHERE,
  REPORT_BUCKET: 'image-cleanup-bench-reports',
  REPORT_PREFIX: 'reports/',
  MANIFEST_BUCKET: 'image-cleanup-bench-manifests',
  MODELARTS_ENDPOINT: NOWHERE,
  MODELARTS_AUTH: 'aksk',
  MODELARTS_CREDENTIALS_SECRET_ARN: 'image-cleanup-bench-credentials',
  MODELARTS_IAM_ENDPOINT: NOWHERE,
  WORK_QUEUE_URL: `${NOWHERE}/000000000000/image-cleanup-bench-work`,
  CHUNK_SIZE: '100',
  MAX_IN_FLIGHT: '4',
  POWERTOOLS_SERVICE_NAME: 'image-cleanup',
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

// Runs in the fresh process: require the bundle, time it, let scheduled work run, report.
const MEASURE = `
const started = performance.now();
let error;
try { require(process.argv[1]); } catch (e) { error = String(e && e.stack || e); }
const initMs = performance.now() - started;
setTimeout(() => process.stdout.write(JSON.stringify({ initMs, error, networkAttempts: globalThis.__networkAttempts })), ${SETTLE_MS});
`;

interface HandlerFigures {
  handler: string;
  bytes: number;
  initMsMedian: number;
  initMsRuns: number[];
  networkAttempts: string[];
  errors: string[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function measure(entry: string, outDir: string): Promise<HandlerFigures> {
  const name = basename(entry, '.ts');
  const outfile = join(outDir, `${name}.js`);
  // As serverless.yml's custom.esbuild: bundle, minify, keepNames, node22, platform node, CommonJS (serverless-esbuild's default), AWS SDK bundled.
  await build({ entryPoints: [entry], outfile, bundle: true, minify: true, keepNames: true, platform: 'node', target: 'node22', format: 'cjs', mainFields: ['module', 'main'], sourcemap: 'linked', logLevel: 'error' });
  const bytes = (await stat(outfile)).size;
  const initMsRuns: number[] = [];
  const networkAttempts = new Set<string>();
  const errors = new Set<string>();
  for (let run = 0; run < RUNS; run += 1) {
    const child = spawnSync(process.execPath, ['--require', GUARD, '-e', MEASURE, outfile], { env: LAMBDA_ENV, encoding: 'utf8', timeout: 30_000 });
    let report: { initMs: number; error?: string; networkAttempts: string[] };
    try {
      report = JSON.parse(child.stdout) as typeof report;
    } catch {
      errors.add(`no report from the child (exit ${child.status}): ${child.stderr.slice(0, 500)}`);
      continue;
    }
    initMsRuns.push(report.initMs);
    for (const attempt of report.networkAttempts) networkAttempts.add(attempt);
    if (report.error !== undefined) errors.add(report.error.split('\n').slice(0, 3).join(' | '));
  }
  return { handler: `handlers/${name}.ts`, bytes, initMsMedian: median(initMsRuns), initMsRuns, networkAttempts: [...networkAttempts], errors: [...errors] };
}

const handlersDir = join(ROOT, 'handlers');
const entries = (await readdir(handlersDir)).filter((file) => file.endsWith('.ts')).sort().map((file) => join(handlersDir, file));
const outDir = await mkdtemp(join(tmpdir(), 'image-cleanup-coldstart-'));
const misses: string[] = [];
const figures: HandlerFigures[] = [];
try {
  for (const entry of entries) {
    const result = await measure(entry, outDir);
    figures.push(result);
    console.log(
      `${result.handler}: ${result.bytes.toLocaleString('en')} bytes bundled; module init median ${result.initMsMedian.toFixed(1)} ms over ${result.initMsRuns.length} fresh processes ` +
        `(${result.initMsRuns.map((ms) => ms.toFixed(0)).join(', ')}); network attempts at import: ${result.networkAttempts.length}`,
    );
    if (result.bytes >= MAX_BYTES) misses.push(`${result.handler} bundles to ${result.bytes} bytes (bound < ${MAX_BYTES})`);
    if (result.networkAttempts.length > 0) misses.push(`${result.handler} touches the network at import: ${result.networkAttempts.join('; ')}`);
    if (result.errors.length > 0 || result.initMsRuns.length < RUNS) misses.push(`${result.handler} failed to import: ${result.errors.join('; ')}`);
  }
  if (entries.length === 0) misses.push('no handlers found');
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(RESULTS, `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, runs: RUNS, maxBytes: MAX_BYTES, handlers: figures, misses }, null, 2)}\n`);
  console.log(`figures written to ${RESULTS}`);
} finally {
  await rm(outDir, { recursive: true, force: true });
}
for (const miss of misses) console.error(`BOUND MISSED: ${miss}`);
process.exitCode = misses.length === 0 ? 0 : 1;
