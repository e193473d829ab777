import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { listKeys } from '../../lib/aws/listKeys.js';
import { configSchema } from '../../lib/config/config.js';
import { CleanupError } from '../../lib/core/errors.js';
import { createLambdaContext } from '../stack/lambdaContext.js';
import { seedSampleData } from '../stack/sampleData.js';
import type { SqsHandler } from '../stack/sqsPoller.js';
import { startLocalStack, type LocalStack } from '../stack/startLocalStack.js';
import { followWorkQueue, type FollowedInvocation } from './followWorkQueue.js';
import { handlerFor, type HandlerName } from './handlerFor.js';
import { invocationEndpoints } from './invocationEndpoints.js';
import { messagesOnQueue } from './messagesOnQueue.js';

/** What an invocation did: the handler's answer and the reports written meanwhile. */
export interface InvokeOutput {
  handler: HandlerName;
  result: unknown;
  /** With `follow`, when the invocation left messages on the work queue: the queue handler's invocations that ran them. */
  continuations?: FollowedInvocation[];
  /** Contents of each `summary.json` and `rejected.json` written during the invocation (and the ones it followed). */
  reports: unknown[];
}

/** How {@link invoke} runs an event. */
export interface InvokeOptions {
  /** The handler to run; needed when the event's shape names none (see `handlerFor`). */
  handler?: HandlerName;
  /** The Lambda timeout of each invocation (the context's `getRemainingTimeInMillis`), ms. @default 900000, serverless.yml's */
  timeoutMs?: number;
  /** Run what the invocation leaves on `WORK_QUEUE_URL` (continuations, parts) until the queue is empty. @default true on a stack of its own (stopped afterwards, it would lose them), false on the environment's (its poller runs them) */
  follow?: boolean;
  /** The embedded emulator's latency per request, ms; only on a stack of its own. @default 0 */
  latencyMs?: number;
  /** Run although an endpoint is not on this machine (a deployment's ModelArts, S3 or SQS). @default false */
  allowRemote?: boolean;
  /** Where the lines for the person go: what it runs against, notes. @default console.error */
  log?: (line: string) => void;
}

/** The code of a refusal by `invoke` itself, before anything ran: `invoke.ts` prints the message and exits 2. */
export const INVOKE_REFUSED = 'INVOKE_REFUSED';

const DEFAULT_TIMEOUT_MS = 900_000;

/**
 * Invokes the handler for `event` in this process, as Lambda would, with a Lambda timeout of
 * `timeoutMs`. Without `REPORT_BUCKET` in the environment it starts an embedded stack, seeds the
 * sample data (`local/stack/sampleData.ts`) and stops it afterwards; otherwise it runs against the
 * stack (or deployment) the environment points at. Before running it prints which endpoints and
 * buckets it uses, and refuses (`INVOKE_REFUSED`) an endpoint off this machine unless
 * `allowRemote`: a shell left with a deployment's environment must not turn a try-out of
 * `events/` into real deletes, or move real pending manifests.
 *
 * @throws {CleanupError} with code `INVOKE_REFUSED` when the event names no handler and none is
 *   given, or an endpoint is remote without `allowRemote`; nothing was sent.
 */
export async function invoke(event: unknown, options: InvokeOptions = {}): Promise<InvokeOutput> {
  const log = options.log ?? ((line: string) => console.error(line));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const handler = chooseHandler(event, options.handler, log);
  const own = process.env.REPORT_BUCKET === undefined || process.env.REPORT_BUCKET === '';
  if (!own && options.latencyMs !== undefined) refuse('--latency-ms sets the emulator of the stack invoke starts itself; this environment points at a running stack (REPORT_BUCKET is set)');
  let stack: LocalStack | undefined;
  if (own) {
    stack = await startLocalStack(options.latencyMs === undefined ? {} : { emulator: { latencyMs: options.latencyMs } });
    Object.assign(process.env, stack.env);
    await seedSampleData(stack.emulator, stack.s3, stack.env.MANIFEST_BUCKET as string);
  }
  const s3 = new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
  // As the handlers' client (lib/deps/createCleanupDeps.ts): the configured endpoint, not the queue URL's host.
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  try {
    log(`invoke: the ${handler} handler, Lambda timeout ${timeoutMs} ms, on ${own ? 'an embedded stack of its own (stopped afterwards)' : 'what the environment points at'}:`);
    checkEndpoints(options.allowRemote ?? false, log);
    noteTimeout(timeoutMs, log);
    const bucket = process.env.REPORT_BUCKET as string;
    const prefix = process.env.REPORT_PREFIX ?? 'reports/';
    const before = new Set(await reportKeys(s3, bucket, prefix));
    // Imported only now: a handler reads its configuration at load time, as at a Lambda cold start.
    const module = (await import(`../../handlers/${handler}.js`)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
    const result = await module.handler(event, createLambdaContext(`image-cleanup-${handler}`, timeoutMs));
    const queueUrl = process.env.WORK_QUEUE_URL;
    let continuations: FollowedInvocation[] | undefined;
    if (queueUrl !== undefined && (options.follow ?? own)) {
      const queue = (await import('../../handlers/queue.js')) as { handler: SqsHandler };
      const followed = await followWorkQueue({ sqs, queueUrl, handler: queue.handler, timeoutMs, onError: (error) => log(`follow: ${error instanceof Error ? error.message : String(error)}`) });
      if (followed.invocations.length > 0) continuations = followed.invocations;
      if (followed.stoppedBy !== 'drained') log(`note: stopped following the work queue (${followed.stoppedBy === 'failure' ? 'a message was left for redelivery' : 'too many invocations'}); messages are left on ${queueUrl}`);
    } else if (queueUrl !== undefined && (await messagesOnQueue(sqs, queueUrl)) > 0) {
      log(`note: messages wait on the work queue ${queueUrl} (a continuation, or a split job's parts): a running stack's poller runs them; or invoke with --follow to run them here`);
    }
    const written = (await reportKeys(s3, bucket, prefix)).filter((key) => !before.has(key));
    const reports = await Promise.all(
      written.map(async (key) => JSON.parse((await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString('utf8')) ?? 'null') as unknown),
    );
    return { handler, result, ...(continuations === undefined ? {} : { continuations }), reports };
  } finally {
    s3.destroy();
    sqs.destroy();
    await stack?.stop();
  }
}

function refuse(message: string): never {
  throw new CleanupError(INVOKE_REFUSED, message);
}

// The handler asked for, or the one the event's shape names alone; a mismatch is allowed (to see how a handler refuses a foreign event) but said.
function chooseHandler(event: unknown, asked: HandlerName | undefined, log: (line: string) => void): HandlerName {
  const choice = handlerFor(event);
  if (asked === undefined) {
    if (choice.handler === undefined) refuse(`the event names no handler: ${choice.why}. Say which with --handler manual|queue|schedule`);
    return choice.handler;
  }
  if (choice.handler !== undefined && choice.handler !== asked) log(`note: the event looks like ${choice.looksLike} (the ${choice.handler} handler's); running the ${asked} handler, as --handler says`);
  return asked;
}

// Prints where the invocation goes, and refuses what is not on this machine unless asked.
function checkEndpoints(allowRemote: boolean, log: (line: string) => void): void {
  const endpoints = invocationEndpoints(process.env);
  const manifests = process.env.MANIFEST_BUCKET === undefined ? 'none (MANIFEST_BUCKET unset)' : `s3://${process.env.MANIFEST_BUCKET}/${process.env.MANIFEST_PREFIX ?? ''}`;
  const detail: Record<string, string> = {
    S3: ` — reports s3://${process.env.REPORT_BUCKET}/${process.env.REPORT_PREFIX ?? 'reports/'}, manifests ${manifests}`,
    SQS: ` — work queue ${process.env.WORK_QUEUE_URL}`,
  };
  for (const { service, url } of endpoints) log(`  ${service.padEnd(9)} ${url ?? `AWS (the SDK's default endpoint, region ${process.env.AWS_REGION ?? 'unset'})`}${detail[service] ?? ''}`);
  const remote = endpoints.filter((endpoint) => !endpoint.loopback);
  if (remote.length > 0 && !allowRemote) {
    refuse(`this would run against ${remote.map(({ service, url }) => `${service} at ${url ?? 'AWS'}`).join(', ')}, not this machine: that is a deployment, where its deletes are real. Pass --allow-remote to run there on purpose`);
  }
}

// A job stops starting chunks DEADLINE_MARGIN_MS + REQUEST_TIMEOUT_MS before the deadline (lib/job/invocationBudget.ts).
function noteTimeout(timeoutMs: number, log: (line: string) => void): void {
  // The handler's own configuration (defaults included); a bad value is the handler's to report.
  const margin = configSchema.shape.DEADLINE_MARGIN_MS.safeParse(process.env.DEADLINE_MARGIN_MS).data;
  const requestTimeout = configSchema.shape.REQUEST_TIMEOUT_MS.safeParse(process.env.REQUEST_TIMEOUT_MS).data;
  if (margin === undefined || requestTimeout === undefined) return;
  const reserve = margin + requestTimeout;
  if (timeoutMs <= reserve) {
    log(`note: with a timeout of ${timeoutMs} ms no chunk can start: a job stops starting them DEADLINE_MARGIN_MS + REQUEST_TIMEOUT_MS (${reserve} ms) before the deadline; lower those to see a cut with progress`);
  }
}

async function reportKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of listKeys(s3, bucket, prefix)) if (/\/(summary|rejected)\.json$/.test(key)) keys.push(key);
  return keys;
}
