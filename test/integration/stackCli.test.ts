import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_TARGET, demoImageId } from '../../local/stack/demoData.js';
import type { InvokeOutput } from '../../local/cli/invokeEvent.js';

// `npm run stack` as a user runs it: a child process in the foreground, its KEY=value lines read
// from stdout, a message sent to its queue processed by its poller, `npm run invoke` pointed at it
// by that environment, and a clean stop on SIGTERM.
const root = new URL('../../', import.meta.url);
let child: ChildProcess | undefined;

afterAll(() => {
  // Our own process group only (started detached below), in case a test failed half-way.
  if (child?.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
});

describe('npm run stack', () => {
  it('prints a sourceable environment, processes a queued job through its poller, serves `npm run invoke`, and stops on SIGTERM', async () => {
    // Prepare
    child = spawn('npm', ['run', '--silent', 'stack'], { cwd: root, detached: true, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'close': every process of the group (npm and the stack under it) has let go of the pipes.
    const exited = new Promise<void>((resolve) => child!.once('close', () => resolve()));
    const until = Date.now() + 30_000;
    while (!stderr.includes('stack ready') && Date.now() < until) await delay(50);
    // Read as a shell would: single-quoted values (e.g. ALLOWED_TARGETS='*') lose their quotes.
    const unquote = (value: string) => (/^'.*'$/s.test(value) ? value.slice(1, -1).replaceAll("'\\''", "'") : value);
    const env = Object.fromEntries(stdout.trim().split('\n').map((line) => { const [key = '', value = ''] = line.split(/=(.*)/s); return [key, unquote(value)]; }));
    const clientConfig = { region: env.AWS_REGION, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! } };
    const sqs = new SQSClient({ ...clientConfig, endpoint: env.AWS_ENDPOINT_URL_SQS });
    const s3 = new S3Client({ ...clientConfig, endpoint: env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
    const summaries = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: env.REPORT_BUCKET, Prefix: 'reports/' }))).Contents ?? []).filter((o) => o.Key?.endsWith('summary.json')).length;

    try {
      // Act 1: a job on the work queue
      await sqs.send(new SendMessageCommand({ QueueUrl: env.WORK_QUEUE_URL, MessageBody: JSON.stringify({ target: DEMO_TARGET, imageIds: [demoImageId(1), demoImageId(2)] }) }));
      while ((await summaries()) === 0 && Date.now() < until) await delay(100);

      // Act 2: invoke pointed at the running stack by its environment
      const { stdout: invoked } = await promisify(execFile)('npm', ['run', '--silent', 'invoke', '--', 'events/manual-manifest.json'], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 });

      // Assess
      expect(Object.keys(env)).toEqual(expect.arrayContaining(['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS', 'MODELARTS_ENDPOINT', 'REPORT_BUCKET', 'MANIFEST_BUCKET', 'WORK_QUEUE_URL', 'DEAD_LETTER_QUEUE_URL']));
      expect(await summaries()).toBe(2);
      expect(stderr).toContain('poller: 1 message(s): 1 done, 0 left for redelivery');
      const output = JSON.parse(invoked) as InvokeOutput;
      expect(output.result).toMatchObject({ status: 'completed', jobId: 'manual-manifest-demo' });
    } finally {
      sqs.destroy();
      s3.destroy();
      process.kill(-child.pid!, 'SIGTERM');
    }
    await exited;
    expect(stderr).toContain('stack stopped');
  }, 90_000);
});
