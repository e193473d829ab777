// The job of `npm run bench:manifest`, in a process of its own so that its peak RSS is the
// pipeline's alone: the emulator's store and the local S3's objects live in other processes.
// Started by bench/manifest.ts with the stack's environment and the job in BENCH_MANIFEST_JOB; builds
// the production dependencies from the environment, runs the job once, and sends one
// {@link ManifestJobReport} to its parent over IPC.
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../lib/config.js';
import { createCleanupDeps } from '../lib/createCleanupDeps.js';
import type { JobSummary } from '../lib/jobSummary.js';
import { runCleanupJob } from '../lib/runCleanupJob.js';

/** What the job process reports to the benchmark. */
export interface ManifestJobReport {
  /** The job's summary, or why it failed. */
  outcome: { ok: true; summary: JobSummary } | { ok: false; error: { name: string; message: string; issues?: unknown } };
  /** Wall time of `runCleanupJob`, both passes and the report included. */
  elapsedMs: number;
  /** `process.resourceUsage().maxRSS` at the end: the process's peak resident set, in KiB. */
  maxRssKiB: number;
  /** The same just before the job started: what the process costs with its modules loaded. */
  maxRssBeforeJobKiB: number;
  /** Largest `heapUsed` seen, sampled every 100 ms (and once at the end). */
  peakHeapUsedBytes: number;
  /** Largest `rss` seen by the same sampling. */
  peakSampledRssBytes: number;
  heapSamples: number;
}

const SAMPLE_EVERY_MS = 100;

const send = process.send?.bind(process);
if (send === undefined) throw new Error('bench/manifestJobProcess.ts runs as a child of bench/manifest.ts (it reports over IPC)');
const jobJson = process.env.BENCH_MANIFEST_JOB;
if (jobJson === undefined) throw new Error('BENCH_MANIFEST_JOB is not set: the job to run, as JSON');

const deps = createCleanupDeps(loadConfig(process.env));
let peakHeapUsedBytes = 0;
let peakSampledRssBytes = 0;
let heapSamples = 0;
const sample = (): void => {
  const { heapUsed, rss } = process.memoryUsage();
  peakHeapUsedBytes = Math.max(peakHeapUsedBytes, heapUsed);
  peakSampledRssBytes = Math.max(peakSampledRssBytes, rss);
  heapSamples += 1;
};

const maxRssBeforeJobKiB = process.resourceUsage().maxRSS;
const sampler = setInterval(sample, SAMPLE_EVERY_MS);
sample();
const startedAt = performance.now();
let outcome: ManifestJobReport['outcome'];
try {
  const { summary } = await runCleanupJob(JSON.parse(jobJson), { type: 'manual', source: 'bench:manifest' }, deps);
  outcome = { ok: true, summary };
} catch (error) {
  const { name, message, issues } = error as { name?: string; message?: string; issues?: unknown };
  outcome = { ok: false, error: { name: name ?? 'Error', message: message ?? String(error), ...(issues === undefined ? {} : { issues }) } };
}
const elapsedMs = performance.now() - startedAt;
clearInterval(sampler);
sample();
const report: ManifestJobReport = {
  outcome,
  elapsedMs,
  maxRssKiB: process.resourceUsage().maxRSS,
  maxRssBeforeJobKiB,
  peakHeapUsedBytes,
  peakSampledRssBytes,
  heapSamples,
};
deps.s3.destroy();
// Exit once the report is on its way; keep-alive sockets must not keep the process up. (A CPU
// profile asked for with --cpu-prof is still written on process.exit.)
send(report, () => process.exit(0));
