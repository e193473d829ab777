import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { EmulatorAuth, type EmulatorAuthSettings } from './emulatorAuth.js';
import { EmulatorRateLimit } from './emulatorRateLimit.js';

/** One request the emulator received, with what it answered. */
export interface EmulatorRequest {
  method: string;
  path: string;
  /** IDs in the body (`image_id` or `samples`), when the body had them. */
  imageIds: string[];
  status: number;
  errorCode?: string;
  /** Requests being processed when this one arrived, itself included. */
  inFlight: number;
  receivedAt: number;
  answeredAt: number;
}

/** A failure to inject into upcoming requests. */
export interface EmulatorFault {
  /** HTTP status of the answer; ignored for `reset` and `hang`. @default 500 */
  status?: number;
  /** Instead of answering: `reset` destroys the connection; `hang` never answers (until the client gives up or the emulator stops). */
  action?: 'reset' | 'hang';
  errorCode?: string;
  errorMessage?: string;
  /** Sent as `Retry-After` (seconds). */
  retryAfterSeconds?: number;
  /** How many consecutive requests fail this way. @default 1 */
  times?: number;
  /** Answer with this text (`text/html`) instead of a JSON body, as a gateway or proxy in trouble does. */
  rawBody?: string;
  /**
   * v2 only (a v1 request uses it up without effect), and not a failure: the delete is carried
   * out, then answered 200 with a body that confirms nothing per sample — `short_results`: one
   * result fewer than the samples sent;
   * `no_results`: `{"success": false}` (with `error_code`/`error_msg` when `errorCode` is given)
   * and no `results`, as the documented response table allows.
   */
  v2Answer?: 'short_results' | 'no_results';
}

/** Settings of the emulator; all can be changed while it runs. */
export interface EmulatorSettings extends EmulatorAuthSettings {
  /** Added to every answer. @default 0 */
  latencyMs: number;
  /** Uniform ± jitter on the latency. @default 0 */
  latencyJitterMs: number;
  /** Most IDs one request may carry; above it, 400 ModelArts.0104. @default 1000 */
  maxBatchSize: number;
  /**
   * What v1 does when a batch names an ID the job does not hold. The real behaviour is inferred
   * (see docs/limits.md): `fail_batch` answers 400 ModelArts.4420 and deletes nothing;
   * `ignore` deletes the others and succeeds. @default 'fail_batch'
   */
  v1UnknownIds: 'fail_batch' | 'ignore';
  /**
   * The code of v1's `fail_batch` answer (inferred, so switchable): with another permanent code
   * (e.g. `ModelArts.0104`) the unknown IDs end `failed` instead of `already_deleted`. @default 'ModelArts.4420'
   */
  v1UnknownIdCode: string;
  /** Each delete request (after the queued faults) fails with probability `rate`, as one of `faults` picked with `random`. */
  randomFaults?: { rate: number; random: () => number; faults: EmulatorFault[] };
  /** The gateway's rate limit on the delete calls, requests per second; 0 for none (local/emulator/emulatorRateLimit.ts). @default 0 */
  rateLimitPerSecond: number;
  /** Requests the gateway lets through in a burst, in seconds of `rateLimitPerSecond`. @default 1 */
  rateLimitBurstSeconds: number;
  /** Whether the gateway's 429 message states the limit (`limit:N, time:1 second`), as Huawei's does. @default true */
  rateLimitStated: boolean;
}

const DEFAULT_SETTINGS: EmulatorSettings = {
  latencyMs: 0, latencyJitterMs: 0, maxBatchSize: 1000, v1UnknownIds: 'fail_batch', v1UnknownIdCode: 'ModelArts.4420',
  auth: 'none', tokenTtlMs: 86_400_000, refuseTokens: false, rateLimitPerSecond: 0, rateLimitBurstSeconds: 1, rateLimitStated: true,
};

const V1_DELETE = /^\/v1\/([^/]+)\/data-annotations\/([^/]+)\/images\/delete$/;
const V2_DELETE = /^\/v2\/([^/]+)\/datasets\/([^/]+)\/data-annotations\/samples\/delete$/;

/**
 * An HTTP emulator of the ModelArts batch-delete calls: an in-memory store of labelling jobs (v1)
 * and datasets (v2) with their images, the documented request and response shapes, injected
 * faults and latency, and a log of every request. Binds to 127.0.0.1 only.
 */
export class ModelArtsEmulator {
  public readonly settings: EmulatorSettings;
  public readonly requests: EmulatorRequest[] = [];
  /** IAM users, access keys and issued tokens; what the delete calls require is `settings.auth`. */
  public readonly auth: EmulatorAuth;
  private readonly stores = new Map<string, Set<string>>();
  private readonly faults: Array<Required<Pick<EmulatorFault, 'times'>> & EmulatorFault> = [];
  private server: Server | undefined;
  private inFlight = 0;
  private readonly gateway = new EmulatorRateLimit();
  /** TCP connections accepted since start: shows whether clients keep connections alive. */
  public connections = 0;

  public constructor(settings: Partial<EmulatorSettings> = {}) {
    this.settings = { ...DEFAULT_SETTINGS, ...settings };
    this.auth = new EmulatorAuth(this.settings);
  }

  /** Starts listening on 127.0.0.1 and returns the base URL. */
  public async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', () => {
      this.connections += 1;
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return this.url;
  }

  /** The base URL, once started. */
  public get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('emulator not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Stops listening and drops open connections. */
  public async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Creates (or replaces) a v1 labelling job holding `imageIds`. */
  public seedLabellingJob(projectId: string, dataAnnotationId: string, imageIds: Iterable<string>): void {
    this.stores.set(`v1:${projectId}/${dataAnnotationId}`, new Set(imageIds));
  }

  /** Creates (or replaces) a v2 dataset holding `sampleIds`. */
  public seedDataset(projectId: string, datasetId: string, sampleIds: Iterable<string>): void {
    this.stores.set(`v2:${projectId}/${datasetId}`, new Set(sampleIds));
  }

  /** The images a v1 labelling job still holds. */
  public labellingJobImages(projectId: string, dataAnnotationId: string): ReadonlySet<string> {
    return this.stores.get(`v1:${projectId}/${dataAnnotationId}`) ?? new Set();
  }

  /** The samples a v2 dataset still holds. */
  public datasetSamples(projectId: string, datasetId: string): ReadonlySet<string> {
    return this.stores.get(`v2:${projectId}/${datasetId}`) ?? new Set();
  }

  /** Makes the next requests fail, in order, as described. */
  public injectFaults(...faults: EmulatorFault[]): void {
    for (const fault of faults) this.faults.push({ ...fault, times: fault.times ?? 1 });
  }

  /** Drops the faults injected and not used yet. */
  public clearFaults(): void {
    this.faults.length = 0;
  }

  /** The largest number of requests that were in flight at once. */
  public get maxInFlightSeen(): number {
    return this.requests.reduce((max, request) => Math.max(max, request.inFlight), 0);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight += 1;
    const entry: EmulatorRequest = {
      method: req.method ?? '',
      path: new URL(req.url ?? '/', 'http://emulator').pathname,
      imageIds: [],
      status: 0,
      inFlight: this.inFlight,
      receivedAt: Date.now(),
      answeredAt: 0,
    };
    try {
      const body = await readBody(req);
      // The gateway's rate limit answers at once, before the service's latency.
      const isDelete = V1_DELETE.test(entry.path) || V2_DELETE.test(entry.path);
      const limited = isDelete ? this.gateway.admit(this.settings.rateLimitPerSecond, this.settings.rateLimitBurstSeconds, Date.now(), this.settings.rateLimitStated) : undefined;
      const { latencyMs, latencyJitterMs } = this.settings;
      const wait = limited ? 0 : latencyMs + (latencyJitterMs > 0 ? (Math.random() * 2 - 1) * latencyJitterMs : 0);
      if (wait > 0) await delay(wait);
      const answer: Answer = limited ?? this.answer(entry, req, body);
      if (answer.action !== undefined) {
        entry.errorCode = answer.action === 'reset' ? 'RESET' : 'HANG';
        // A hanging request waits for its connection to close: the client giving up, or stop().
        if (answer.action === 'hang' && !req.socket.destroyed) await new Promise((resolve) => req.socket.once('close', resolve));
        req.socket.destroy();
        return;
      }
      entry.status = answer.status;
      if (answer.errorCode !== undefined) entry.errorCode = answer.errorCode;
      const headers: Record<string, string> = { 'content-type': answer.raw === true ? 'text/html' : 'application/json', 'x-request-id': randomUUID(), ...answer.headers };
      res.writeHead(answer.status, headers).end(answer.raw === true ? String(answer.body) : JSON.stringify(answer.body));
    } catch (error) {
      entry.status = 500;
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 'ModelArts.0001', error_msg: String(error) }));
    } finally {
      entry.answeredAt = Date.now();
      this.requests.push(entry);
      this.inFlight -= 1;
    }
  }

  private answer(entry: EmulatorRequest, req: IncomingMessage, raw: string): Answer {
    if (req.method === 'POST' && entry.path === '/v3/auth/tokens') {
      const issued = this.auth.issueToken(raw, Date.now());
      return { ...issued, ...(issued.status === 201 ? {} : { errorCode: `IAM.${issued.status}` }) };
    }
    const v1 = V1_DELETE.exec(entry.path);
    const v2 = V2_DELETE.exec(entry.path);
    if (req.method !== 'POST' || (!v1 && !v2)) return error(404, 'APIG.0101', 'The API does not exist or has not been published in the environment.');
    // The gateway authenticates before the service sees the request.
    const verdict = this.auth.verify({ method: req.method, rawUrl: req.url ?? '/', headers: req.headers, body: raw }, Date.now());
    if (!verdict.ok) return error(verdict.status, verdict.code, verdict.message);
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return error(400, 'ModelArts.0104', 'Content-Type must be application/json.');

    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return error(400, 'ModelArts.0104', 'The request body is not valid JSON.');
    }
    const field = v1 ? 'image_id' : 'samples';
    const ids = (body as Record<string, unknown> | null)?.[field];
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
      return error(400, 'ModelArts.0104', `Parameter ${field} must be a non-empty array of strings.`);
    }
    entry.imageIds = ids;

    const queued = this.faults[0];
    if (queued) {
      queued.times -= 1;
      if (queued.times <= 0) this.faults.shift();
    }
    const random = this.settings.randomFaults;
    const fault = queued ?? (random !== undefined && random.faults.length > 0 && random.random() < random.rate
      ? random.faults[Math.floor(random.random() * random.faults.length)]
      : undefined);
    if (fault && fault.v2Answer === undefined) {
      if (fault.action !== undefined) return { status: 0, body: undefined, action: fault.action };
      const status = fault.status ?? 500;
      const headers: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      if (fault.rawBody !== undefined) return { status, body: fault.rawBody, raw: true, errorCode: fault.errorCode ?? defaultCode(status), headers };
      return { ...error(status, fault.errorCode ?? defaultCode(status), fault.errorMessage ?? 'Injected fault.'), headers };
    }
    if (ids.length > this.settings.maxBatchSize) {
      return error(400, 'ModelArts.0104', `Too many IDs in one request: ${ids.length} > ${this.settings.maxBatchSize}.`);
    }

    const [, projectId, containerId] = (v1 ?? v2) as RegExpExecArray;
    const store = this.stores.get(`${v1 ? 'v1' : 'v2'}:${projectId}/${containerId}`);
    if (!store) return error(400, 'ModelArts.4352', 'The dataset does not exist.');

    if (v1) {
      const unknown = (ids).find((id) => !store.has(id));
      if (unknown !== undefined && this.settings.v1UnknownIds === 'fail_batch') {
        const code = this.settings.v1UnknownIdCode;
        return { status: 400, body: { is_success: false, error_code: code, error_msg: `Sample not found. [${unknown}]` }, errorCode: code };
      }
      for (const id of ids) store.delete(id);
      return { status: 200, body: { is_success: true } };
    }
    const deleteSource = (body as { delete_source?: unknown }).delete_source;
    if (deleteSource !== undefined && typeof deleteSource !== 'boolean') return error(400, 'ModelArts.0104', 'delete_source must be a boolean.');
    const results = (ids).map((id) =>
      store.delete(id) ? { success: true } : { success: false, error_code: 'ModelArts.4420', error_msg: `Sample not found. [${id}]` },
    );
    if (fault?.v2Answer === 'short_results') return { status: 200, body: { success: false, results: results.slice(0, -1) }, errorCode: 'SHORT_RESULTS' };
    if (fault?.v2Answer === 'no_results') {
      const code = fault.errorCode === undefined ? {} : { error_code: fault.errorCode, error_msg: fault.errorMessage ?? 'Injected fault.' };
      return { status: 200, body: { success: false, ...code }, errorCode: fault.errorCode ?? 'NO_RESULTS' };
    }
    return results.every((result) => result.success) ? { status: 200, body: { success: true } } : { status: 200, body: { success: false, results } };
  }
}

interface Answer {
  status: number;
  body: unknown;
  errorCode?: string;
  headers?: Record<string, string>;
  /** Do not answer: destroy the connection, or hang. */
  action?: 'reset' | 'hang';
  /** `body` is text, sent as it is (`text/html`), not JSON. */
  raw?: boolean;
}

function error(status: number, code: string, message: string): Answer {
  return { status, body: { error_code: code, error_msg: message }, errorCode: code };
}

function defaultCode(status: number): string {
  if (status === 429) return 'APIG.0308';
  if (status === 500) return 'ModelArts.4424';
  return `HTTP.${status}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
