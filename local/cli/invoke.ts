// `npm run invoke -- [options] <event.json>`: runs the handler the event is for, as Lambda would,
// against what the environment points at (`npm run stack` prints it; only this machine unless
// --allow-remote); with no stack in the environment, on an embedded stack of its own. Prints the
// handler's answer and the reports written, as JSON, on stdout; what it runs against, on stderr.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CleanupError } from '../../lib/core/errors.js';
import type { HandlerName } from './handlerFor.js';
import { INVOKE_REFUSED, invoke, type InvokeOptions } from './invokeEvent.js';

const USAGE = `usage: npm run invoke -- [--handler manual|queue|schedule] [--timeout-ms N] [--follow] [--latency-ms N] [--allow-remote] <event.json>
  --handler       the handler to run; needed when the event's shape names none (e.g. {})
  --timeout-ms    the Lambda timeout of the invocation, ms (default 900000): a job is cut at its deadline
  --follow        run the continuations (and parts) it leaves on WORK_QUEUE_URL until the queue is empty
                  (always, on an embedded stack of its own)
  --latency-ms    the embedded stack's emulator answers each request after N ms (only on a stack of its own)
  --allow-remote  run although ModelArts, S3 or SQS is not on this machine (a deployment: real deletes)`;

/** Exits 2 with the message and the usage: nothing was run. */
function usage(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

/** A whole number of milliseconds above 0, from a flag. */
function milliseconds(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(ms) || ms < min) usage(`${flag}: expected a whole number of milliseconds${min > 0 ? ' above 0' : ''}, got "${value}"`);
  return ms;
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { handler: { type: 'string' }, 'timeout-ms': { type: 'string' }, follow: { type: 'boolean' }, 'latency-ms': { type: 'string' }, 'allow-remote': { type: 'boolean' } },
  });
} catch (error) {
  usage((error as Error).message);
}
const { values, positionals } = parsed;
if (positionals.length !== 1) usage(positionals.length === 0 ? 'expected the event file' : `expected one event file, got ${positionals.length}`);
if (values.handler !== undefined && !['manual', 'queue', 'schedule'].includes(values.handler)) usage(`--handler: expected manual, queue or schedule, got "${values.handler}"`);
const timeoutMs = milliseconds('--timeout-ms', values['timeout-ms'], 1);
const latencyMs = milliseconds('--latency-ms', values['latency-ms'], 0);
const options: InvokeOptions = {
  ...(values.handler === undefined ? {} : { handler: values.handler as HandlerName }),
  ...(timeoutMs === undefined ? {} : { timeoutMs }),
  ...(latencyMs === undefined ? {} : { latencyMs }),
  ...(values.follow === undefined ? {} : { follow: values.follow }),
  allowRemote: values['allow-remote'] ?? false,
};

// Keep stdout for the answer: the handler's structured logs only for warnings and errors, no EMF lines.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const path = positionals[0]!;
let event: unknown;
try {
  event = JSON.parse(await readFile(path, 'utf8'));
} catch (error) {
  usage(`${path}: ${(error as Error).message}`);
}
try {
  console.log(JSON.stringify(await invoke(event, options), null, 2));
} catch (error) {
  if (!(error instanceof CleanupError && error.code === INVOKE_REFUSED)) throw error;
  console.error(`invoke: ${error.message}`);
  process.exit(2);
}
