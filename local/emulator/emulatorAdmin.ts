import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { ModelArtsEmulator } from './modelArtsEmulator.js';
import { seededRandom } from './seededRandom.js';

/** Settings the admin API can change while the emulator runs. */
export const adminSettingsSchema = z
  .object({
    latencyMs: z.number().min(0),
    latencyJitterMs: z.number().min(0),
    maxBatchSize: z.number().int().positive(),
    v1UnknownIds: z.enum(['fail_batch', 'ignore']),
    rateLimitPerSecond: z.number().min(0),
    rateLimitBurstSeconds: z.number().positive(),
    rateLimitStated: z.boolean(),
    /** Share of delete requests answered 503 (before anything is deleted), drawn from a seeded generator. */
    transientFaultRate: z.number().min(0).max(1),
    /** Seed of that generator. @default 1 */
    faultSeed: z.number().int(),
  })
  .partial()
  .strict();

/** A change of the emulator's settings through the admin API. */
export type AdminSettings = z.infer<typeof adminSettingsSchema>;

const containerSchema = z.object({
  api: z.enum(['v1', 'v2']),
  projectId: z.string().min(1),
  /** The labelling job (v1) or dataset (v2). */
  containerId: z.string().min(1),
});
const idsSchema = containerSchema.extend({ imageIds: z.array(z.string()) }).strict();

/** One logged request, compact: [receivedAt, answeredAt, status, number of IDs]. */
export type CompactRequest = [number, number, number, number];

/** A running admin API. */
export interface EmulatorAdminServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a small admin HTTP API on 127.0.0.1 for an emulator that runs in another process (the
 * benchmarks): `POST /_emulator/settings`, `POST /_emulator/seed`, `POST /_emulator/remaining`,
 * `GET /_emulator/requests?since=<epoch ms>`, `GET /_emulator/stats`. Bodies are JSON, checked with
 * zod; a bad one is answered 400 with the issues.
 */
export async function startEmulatorAdmin(emulator: ModelArtsEmulator, port = 0): Promise<EmulatorAdminServer> {
  const server = createServer((req, res) => {
    void route(emulator, req, res).catch((error: unknown) => {
      const status = error instanceof z.ZodError ? 400 : 500;
      send(res, status, { error: error instanceof z.ZodError ? error.issues : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function route(emulator: ModelArtsEmulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const key = `${req.method ?? ''} ${url.pathname}`;
  switch (key) {
    case 'POST /_emulator/settings': {
      applySettings(emulator, adminSettingsSchema.parse(await readJson(req)));
      const { randomFaults, ...plain } = emulator.settings;
      send(res, 200, { appliedAt: Date.now(), settings: { ...plain, transientFaultRate: randomFaults?.rate ?? 0 } });
      return;
    }
    case 'POST /_emulator/seed': {
      const { api, projectId, containerId, imageIds } = idsSchema.parse(await readJson(req));
      if (api === 'v1') emulator.seedLabellingJob(projectId, containerId, imageIds);
      else emulator.seedDataset(projectId, containerId, imageIds);
      send(res, 200, { seeded: imageIds.length });
      return;
    }
    case 'POST /_emulator/remaining': {
      const { api, projectId, containerId, imageIds } = idsSchema.parse(await readJson(req));
      const store = api === 'v1' ? emulator.labellingJobImages(projectId, containerId) : emulator.datasetSamples(projectId, containerId);
      const remaining = imageIds.filter((id) => store.has(id));
      send(res, 200, { asked: imageIds.length, remaining: remaining.length, examples: remaining.slice(0, 10), storeSize: store.size });
      return;
    }
    case 'GET /_emulator/requests': {
      const since = Number(url.searchParams.get('since') ?? '0');
      const requests: CompactRequest[] = emulator.requests
        .filter((request) => request.receivedAt >= since)
        .map((request) => [request.receivedAt, request.answeredAt, request.status, request.imageIds.length]);
      send(res, 200, { requests });
      return;
    }
    case 'GET /_emulator/stats':
      send(res, 200, { connections: emulator.connections, requests: emulator.requests.length, maxInFlightSeen: emulator.maxInFlightSeen });
      return;
    default:
      send(res, 404, { error: `no admin route ${key}` });
  }
}

function applySettings(emulator: ModelArtsEmulator, change: AdminSettings): void {
  const { transientFaultRate, faultSeed, ...plain } = change;
  Object.assign(emulator.settings, plain);
  if (transientFaultRate !== undefined) {
    emulator.settings.randomFaults = transientFaultRate > 0
      ? { rate: transientFaultRate, random: seededRandom(faultSeed ?? 1), faults: [{ status: 503, errorMessage: 'Service temporarily unavailable (injected transient fault).' }] }
      : undefined;
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  return text === '' ? {} : JSON.parse(text);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
