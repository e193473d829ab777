// `npm run stack`: the embedded stack in the foreground, like the deployed system. Prints the
// environment that points at it as KEY=value lines (stdout; a shell can source them), seeds the
// sample data of events/, and runs the SQS poller that plays the event source mapping: a message
// sent to WORK_QUEUE_URL is processed by the queue handler as on AWS. Stops on SIGINT/SIGTERM.
//
//   npm run --silent stack > .stack.env      # in one terminal
//   set -a; . ./.stack.env; set +a; npm run invoke -- events/sqs-inline.json   # in another
import { parseArgs } from 'node:util';
import type { SqsHandler } from '../stack/sqsPoller.js';
import { startSqsPoller } from '../stack/sqsPoller.js';
import { startQueueWorkers } from '../stack/startQueueWorkers.js';
import { seedSampleData } from '../stack/sampleData.js';
import { startLocalStack } from '../stack/startLocalStack.js';

const { values } = parseArgs({ options: { 'aws-port': { type: 'string', default: '0' }, 'modelarts-port': { type: 'string', default: '0' }, 'no-seed': { type: 'boolean', default: false }, workers: { type: 'string', default: '0' } } });
// --workers N: N queue workers in processes of their own, as N Lambda instances (docs/scale-out.md); 0: one, in this process.
const workerCount = Number(values.workers);
if (!Number.isInteger(workerCount) || workerCount < 0 || workerCount > 64) throw new Error(`--workers: expected a whole number from 0 to 64, got "${values.workers}"`);
const stack = await startLocalStack({ awsPort: Number(values['aws-port']), modelArtsPort: Number(values['modelarts-port']) });
if (!values['no-seed']) await seedSampleData(stack.emulator, stack.s3, stack.env.MANIFEST_BUCKET as string);

for (const [key, value] of Object.entries(stack.env).sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`${key}=${/^[\w./:@-]*$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`}`);
}

// The queue handler runs in this process, configured from the stack's environment at import.
Object.assign(process.env, stack.env);
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const { handler } = (await import('../../handlers/queue.js')) as { handler: SqsHandler };
const workers = workerCount === 0 ? undefined : await startQueueWorkers({
  count: workerCount,
  env: { ...stack.env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED },
  sqs: stack.sqs,
  queueUrl: stack.env.WORK_QUEUE_URL as string,
  onBatch: (worker, batch) => console.error(`worker ${worker}: ${batch.messageIds.length} message(s): ${batch.deleted.length} done, ${batch.failed.length} left for redelivery`),
  onError: (worker, error) => console.error(`worker ${worker}: ${error instanceof Error ? error.message : String(error)}`),
});
const poller = workers !== undefined ? workers : startSqsPoller({
  sqs: stack.sqs,
  queueUrl: stack.env.WORK_QUEUE_URL as string,
  handler,
  onBatch: (batch) => console.error(`poller: ${batch.messageIds.length} message(s): ${batch.deleted.length} done, ${batch.failed.length} left for redelivery`),
  onError: (error) => console.error(`poller: ${error instanceof Error ? error.message : String(error)}`),
});
console.error(`stack ready: S3+SQS ${stack.env.AWS_ENDPOINT_URL_S3}, ModelArts emulator ${stack.env.MODELARTS_ENDPOINT}; polling ${stack.env.WORK_QUEUE_URL} with ${workers === undefined ? 'one in-process worker' : `${workerCount} worker processes (pids ${workers.pids.join(', ')})`}. Ctrl-C stops.`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`${signal}: stopping`);
  await poller.stop();
  await stack.stop();
  console.error('stack stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
