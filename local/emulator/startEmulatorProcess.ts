import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AdminSettings, CompactRequest } from './emulatorAdmin.js';

/** Which store an admin call is about. */
export interface EmulatorContainer {
  api: 'v1' | 'v2';
  projectId: string;
  /** The labelling job (v1) or dataset (v2). */
  containerId: string;
}

/** The emulator running in a child process, and its admin API. */
export interface EmulatorProcess {
  /** Base URL of the emulated service (MODELARTS_ENDPOINT). */
  url: string;
  /** Changes settings; resolves with the emulator's clock (epoch ms) when applied. */
  settings(change: AdminSettings): Promise<number>;
  seed(container: EmulatorContainer, imageIds: readonly string[]): Promise<void>;
  /** How many of `imageIds` the store still holds, with a few examples. */
  remaining(container: EmulatorContainer, imageIds: readonly string[]): Promise<{ remaining: number; examples: string[]; storeSize: number }>;
  /** The requests received since `since` (epoch ms). */
  requests(since: number): Promise<CompactRequest[]>;
  stats(): Promise<{ connections: number; requests: number; maxInFlightSeen: number }>;
  /** Ends the child process. */
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./emulatorProcess.ts', import.meta.url));

/**
 * Starts local/emulator/emulatorProcess.ts in a child Node process (with tsx) and connects to its admin
 * API. The child ends with `stop()`, or by itself when this process goes away.
 */
export async function startEmulatorProcess(): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--import', 'tsx', ENTRY], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.stdout === null) throw new Error('emulator process has no stdout');
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`emulator process exited with ${code} before it started`)));
  });
  lines.close();
  const { url, admin } = JSON.parse(first) as { url: string; admin: string };

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${admin}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator admin ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  return {
    url,
    async settings(change) {
      return (await call<{ appliedAt: number }>('POST', '/_emulator/settings', change)).appliedAt;
    },
    async seed(container, imageIds) {
      await call('POST', '/_emulator/seed', { ...container, imageIds });
    },
    remaining(container, imageIds) {
      return call('POST', '/_emulator/remaining', { ...container, imageIds });
    },
    async requests(since) {
      return (await call<{ requests: CompactRequest[] }>('GET', `/_emulator/requests?since=${since}`)).requests;
    },
    stats() {
      return call('GET', '/_emulator/stats');
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
