// The job of `npm run bench:manifest`, in a process of its own so that its peak RSS is the
// pipeline's alone: the emulator's store and the local S3's objects live in other processes.
// Started by bench/manifest.ts — bundled by esbuild as the deployment bundles the handlers, or under
// tsx — with the stack's environment and the job in BENCH_MANIFEST_JOB; builds the production
// dependencies from the environment, runs the job once, and sends one ManifestJobReport to its
// parent over IPC.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { loadConfig } from '../lib/config/config.js';
import { createCleanupDeps } from '../lib/deps/createCleanupDeps.js';
import { optimizeHeapForSize } from '../lib/deps/optimizeHeapForSize.js';
import type { JobSummary } from '../lib/report/jobSummary.js';
import { runCleanupJob } from '../lib/job/runCleanupJob.js';

/** What the job process reports to the benchmark. */
export interface ManifestJobReport {
  /** The job's summary, or why it failed. */
  outcome: { ok: true; summary: JobSummary } | { ok: false; error: { name: string; message: string; issues?: unknown } };
  /** Wall time of `runCleanupJob`, both passes and the report included. */
  elapsedMs: number;
  /** CPU time the process spent in it (user and system, all threads), ms: less at the mercy of a shared machine than the wall time. */
  cpuMs: number;
  /**
   * The process's own peak resident set in KiB: `VmHWM` of /proc/self/status (Linux), else
   * `process.resourceUsage().maxRSS`.
   */
  peakRssKiB: number;
  /** The same just before the job started: what the process costs with its modules loaded. */
  peakRssBeforeJobKiB: number;
  /**
   * `process.resourceUsage().maxRSS` at the end, KiB. On Linux it is at least the parent's RSS at
   * the moment of the fork (the kernel carries the forked copy's high-water mark across exec), so
   * it over-states the job when the parent is big: recorded, not used for the bound.
   */
  maxRssKiB: number;
  /** Largest `heapUsed` seen, sampled every 100 ms (and once at the end). */
  peakHeapUsedBytes: number;
  /** Largest `rss` seen by the same sampling. */
  peakSampledRssBytes: number;
  heapSamples: number;
  /** Milliseconds after the job's start when the sampled RSS peaked. */
  peakSampledRssAtMs: number;
  /**
   * `process.memoryUsage()` (and V8's heap spaces, `v8.getHeapSpaceStatistics()`: bytes in use / committed)
   * at the sample where the RSS peaked, MiB: where the peak's memory was.
   */
  atPeak: MemoryBreakdown;
  /** The same just before the job started (after the dependencies were built). */
  beforeJob: MemoryBreakdown;
  /**
   * Memory once a second, MiB, for finding where memory goes: [ms since the job's start, rss,
   * RssAnon, heapTotal, heapUsed, external (array buffers included), arrayBuffers].
   */
  timeline: Array<[number, number, number, number, number, number, number]>;
}

/**
 * Where a process's memory is, MiB: `process.memoryUsage()`, V8's heap spaces
 * (`v8.getHeapSpaceStatistics()`: bytes in use / committed) and the kernel's split of the resident
 * set (/proc/self/status: `RssAnon`, the process's own pages — heaps, malloc arenas, thread stacks —
 * and `RssFile`, pages of mapped files: the node binary's code and data; -1 where not on Linux).
 */
export interface MemoryBreakdown {
  rss: number;
  rssAnon: number;
  rssFile: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, [number, number]>;
}

const SAMPLE_EVERY_MS = 100;

// A field of /proc/self/status in KiB, or undefined where there is none (not Linux).
function statusKiB(field: 'VmHWM' | 'RssAnon' | 'RssFile'): number | undefined {
  try {
    const value = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined;
  }
}

// The high-water mark of this process's own memory map, which exec starts afresh.
function peakRssKiB(): number {
  return statusKiB('VmHWM') ?? process.resourceUsage().maxRSS;
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

function memoryBreakdown(usage: NodeJS.MemoryUsage = process.memoryUsage()): MemoryBreakdown {
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, [mib(space.space_used_size), mib(space.space_size)] as [number, number]]));
  const kib = (value: number | undefined): number => (value === undefined ? -1 : mib(value * 1024));
  return { rss: mib(usage.rss), rssAnon: kib(statusKiB('RssAnon')), rssFile: kib(statusKiB('RssFile')), heapTotal: mib(usage.heapTotal), heapUsed: mib(usage.heapUsed), external: mib(usage.external), arrayBuffers: mib(usage.arrayBuffers), spaces };
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('bench/manifestJobProcess.ts runs as a child of bench/manifest.ts (it reports over IPC)');
  const jobJson = process.env.BENCH_MANIFEST_JOB;
  if (jobJson === undefined) throw new Error('BENCH_MANIFEST_JOB is not set: the job to run, as JSON');

  // As every handler does at cold start.
  optimizeHeapForSize();
  const deps = createCleanupDeps(loadConfig(process.env));
  let peakHeapUsedBytes = 0;
  let peakSampledRssBytes = 0;
  let heapSamples = 0;
  let peakSampledRssAtMs = 0;
  const timeline: ManifestJobReport['timeline'] = [];
  let startedAt = performance.now();
  let atPeak = memoryBreakdown();
  const sample = (): void => {
    const usage = process.memoryUsage();
    const { heapUsed, heapTotal, rss, external, arrayBuffers } = usage;
    const at = Math.round(performance.now() - startedAt);
    peakHeapUsedBytes = Math.max(peakHeapUsedBytes, heapUsed);
    if (rss > peakSampledRssBytes) {
      peakSampledRssBytes = rss;
      peakSampledRssAtMs = at;
      atPeak = memoryBreakdown(usage);
    }
    if (heapSamples % 10 === 0) timeline.push([at, mib(rss), mib((statusKiB('RssAnon') ?? -1) * 1024), mib(heapTotal), mib(heapUsed), mib(external), mib(arrayBuffers)]);
    heapSamples += 1;
  };

  const peakRssBeforeJobKiB = peakRssKiB();
  const beforeJob = memoryBreakdown();
  const sampler = setInterval(sample, SAMPLE_EVERY_MS);
  sample();
  startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  let outcome: ManifestJobReport['outcome'];
  try {
    const { summary } = await runCleanupJob(JSON.parse(jobJson), { type: 'manual', source: 'bench:manifest' }, deps);
    outcome = { ok: true, summary };
  } catch (error) {
    const { name, message, issues } = error as { name?: string; message?: string; issues?: unknown };
    outcome = { ok: false, error: { name: name ?? 'Error', message: message ?? String(error), ...(issues === undefined ? {} : { issues }) } };
  }
  const elapsedMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuAtStart);
  clearInterval(sampler);
  sample();
  const report: ManifestJobReport = {
    outcome,
    elapsedMs,
    cpuMs: Math.round((cpu.user + cpu.system) / 1_000),
    peakRssKiB: peakRssKiB(),
    peakRssBeforeJobKiB,
    maxRssKiB: process.resourceUsage().maxRSS,
    peakHeapUsedBytes,
    peakSampledRssBytes,
    heapSamples,
    peakSampledRssAtMs,
    atPeak,
    beforeJob,
    timeline,
  };
  deps.s3.destroy();
  // Exit once the report is on its way; keep-alive sockets must not keep the process up. (A CPU
  // profile asked for with --cpu-prof is still written on process.exit.)
  send(report, () => process.exit(0));
}

// No top-level await: the benchmark bundles this file to CommonJS, as serverless.yml bundles the handlers.
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
