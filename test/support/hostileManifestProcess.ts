// A pending manifest through the schedule in a process of its own, so that the time and peak
// memory of refusing it are its own: in the shared vitest process the heap of every other test
// file, the local S3 holding the manifest and the emulator would be counted too, and
// `process.resourceUsage().maxRSS` never goes down. The child talks to the parent's local stack
// over HTTP, runs `runScheduledScan` once with the production dependencies, reports over IPC, exits.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import { runScheduledScan, type ScheduledRunResult } from '../../lib/triggers/scheduledRun.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';

/** What the child measured. */
export interface OwnProcessRun {
  /** The scheduled run's result, or what it threw. */
  result: ScheduledRunResult | { thrown: string };
  /** Wall time of `runScheduledScan`, ms. */
  elapsedMs: number;
  /** The child's peak resident set (`VmHWM`, which exec starts afresh), MiB. */
  peakRssMiB: number;
  /** The same just before the run, with every module loaded: what the process costs doing nothing. */
  startRssMiB: number;
}

const PREFIX_VARIABLE = 'OWN_PROCESS_SCAN_PREFIX';

/**
 * Runs the schedule over `prefix` in a child process with `env` (the stack's environment and the
 * test's settings), and resolves with its result and measurements; kills it after `timeoutMs`.
 */
export function scanInOwnProcess(env: Record<string, string>, prefix: string, timeoutMs: number): Promise<OwnProcessRun> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, ...env, [PREFIX_VARIABLE]: prefix },
      execArgv: ['--import', 'tsx', '--disable-warning=ExperimentalWarning'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let report: OwnProcessRun | undefined;
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('message', (message) => (report = message as OwnProcessRun));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (report !== undefined) resolve(report);
      else reject(new Error(`the scan's process ended (${signal === 'SIGKILL' ? `killed after ${timeoutMs} ms` : `code ${code} ${signal ?? ''}`}) without a result: ${stderr.slice(-2000)}`));
    });
  });
}

// Peak resident set of this process, MiB (Linux; elsewhere resourceUsage's, which is the same for a fresh process).
function peakRssMiB(): number {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Math.round((hwm === undefined ? process.resourceUsage().maxRSS : Number(hwm)) / 102.4) / 10;
}

async function main(prefix: string, send: (message: OwnProcessRun) => void): Promise<void> {
  const deps = createCleanupDeps(loadConfig(process.env));
  const startRssMiB = peakRssMiB();
  const started = performance.now();
  let result: OwnProcessRun['result'];
  try {
    result = await runScheduledScan({ prefix }, deps, createLambdaContext('schedule'));
  } catch (error) {
    result = { thrown: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  send({ result, elapsedMs: Math.round(performance.now() - started), peakRssMiB: peakRssMiB(), startRssMiB });
}

const prefix = process.env[PREFIX_VARIABLE];
if (prefix !== undefined && process.send !== undefined) {
  const send = process.send.bind(process);
  void main(prefix, (message) => send(message, () => process.exit(0)));
}
