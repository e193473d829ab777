import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import { runCleanupJob } from '../../lib/job/runCleanupJob.js';
import { jobSummarySchema } from '../../lib/report/jobSummary.js';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { operatorEnvironment } from '../../local/cli/operatorEnvironment.js';
import type { OperatorIo } from '../../local/cli/operatorIo.js';
import { runOperatorCommand } from '../../local/cli/operatorProgram.js';
import { startSqsPoller, type SqsPoller } from '../../local/stack/sqsPoller.js';
import { readResults } from '../support/readResults.js';
import { imageIds, stackDeps } from '../support/stackDeps.js';
import { testBudget } from '../support/testBudget.js';
import { useLocalStack } from '../support/useLocalStack.js';

// The operators' command driven as a person drives it: `npx image-cleanup …` in a child process,
// pointed at the local stack by its environment (as `set -a; . ./.stack.env` would), while the
// stack's work queue is played by the poller running the real queue handler (the deployed event
// source mapping's work). Output text is checked, never timing.
const root = new URL('../../', import.meta.url).pathname;
const PROJECT = 'c11ce0000000000000000000000000aa';
const stack = useLocalStack();
let poller: SqsPoller;
let dir: string;

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs `npx image-cleanup …args` with the stack's environment; stdin is a pipe (no terminal), closed at once. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no-install', 'image-cleanup', ...args], { cwd: root, env: { ...process.env, ...stack.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const run: Run = { code: null, stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ ...run, code }));
  });
}

/**
 * Runs the command in this process, with a terminal that answers `answer` to the confirmation (a
 * pipe cannot be a terminal: this is the only way to show a person saying no), or with no
 * terminal when `answer` is undefined; on the stack's environment, or the (stubbed) process's.
 */
async function inProcess(args: string[], answer?: string, env: 'stack' | 'process' = 'stack', overrides: Partial<OperatorIo> = {}): Promise<Run & { asked: string[] }> {
  const run = { code: null as number | null, stdout: '', stderr: '', asked: [] as string[] };
  const io: OperatorIo = {
    out: (line) => (run.stdout += `${line}\n`),
    err: (line) => (run.stderr += `${line}\n`),
    isTTY: answer !== undefined,
    redraw: false,
    ask: (question) => (run.asked.push(question), Promise.resolve(answer ?? '')),
    now: () => Date.now(),
    sleep: () => Promise.resolve(),
    ...overrides,
  };
  run.code = await runOperatorCommand(args, io, env === 'stack' ? (options) => operatorEnvironment(options, { ...stack.env }) : operatorEnvironment);
  return run;
}

async function reportFolderKeys(jobId: string): Promise<string[]> {
  const { Contents = [] } = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.env.REPORT_BUCKET, Prefix: `reports/${jobId}/` }));
  return Contents.map((object) => (object.Key ?? '').slice(`reports/${jobId}/`.length));
}

async function reportFolders(): Promise<string[]> {
  const { CommonPrefixes = [] } = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.env.REPORT_BUCKET, Prefix: 'reports/', Delimiter: '/' }));
  return CommonPrefixes.map((prefix) => prefix.Prefix ?? '');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'operator-cli-'));
  const deps = stackDeps(stack);
  poller = startSqsPoller({ sqs: stack.sqs, queueUrl: stack.env.WORK_QUEUE_URL!, handler: (event, context: Context) => processQueueBatch(event, deps, context), waitTimeSeconds: 1 });
});
afterAll(async () => {
  await poller.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('image-cleanup, against the local stack', () => {
  it('submits a manifest of 20,000 IDs, watches it to the end and reads its report; the emulator agrees', async () => {
    // Prepare: a labelling job of 20,500 images; a manifest naming 19,990 of them, 5 gone, 3 invalid, 2 repeats
    const held = imageIds('operator-held', 20_500);
    stack.emulator.seedLabellingJob(PROJECT, 'ops1', held);
    const lines = [...held.slice(0, 19_990), ...imageIds('operator-gone', 5), 'not-an-id', 'abc', 'zz'.repeat(16), held[0]!, held[1]!];
    const manifest = join(dir, 'ids.txt');
    await writeFile(manifest, `${lines.join('\n')}\n`);

    // Act
    const refused = await cli(['submit', manifest, '--target', `${PROJECT}/ops1`, '--job-id', 'ops-unconfirmed']);
    const submitted = await cli(['submit', manifest, '--target', `${PROJECT}/ops1`, '--job-id', 'ops-20000', '--yes']);
    const watched = await cli(['status', 'ops-20000', '--watch', '--interval', '0.2']);
    const report = await cli(['report', 'ops-20000']);
    const again = await cli(['submit', manifest, '--target', `${PROJECT}/ops1`, '--job-id', 'ops-20000', '--yes']);

    // Assess: no terminal and no --yes: not sent (exit 4), no report folder
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('not sent: stdin is not a terminal');
    expect(await reportFolders()).not.toContain('reports/ops-unconfirmed/');
    // The preparing pass's result before anything was sent; the id alone on stdout
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toBe('ops-20000\n');
    expect(submitted.stderr).toContain(`uploaded ${manifest}`);
    expect(submitted.stderr).toContain(`target:      labelling job ${PROJECT}/ops1 (v1)`);
    expect(submitted.stderr).toContain('entries:     20,000 in s3://image-cleanup-manifests/uploads/ops-20000/ids.txt');
    expect(submitted.stderr).toContain('guard rails: target allowed by ALLOWED_TARGETS; within MAX_IDS_PER_JOB (100,000)');
    expect(submitted.stderr).toContain('split:       no');
    expect(submitted.stderr).toContain('sent job ops-20000 to the work queue');
    // Watched to the end: the full bar, the outcomes, the limiter
    expect(watched.code).toBe(0);
    const last = watched.stdout.trim().split('\n\n').at(-1)!;
    expect(last).toContain('job ops-20000: done (completed_with_failures)');
    expect(last).toContain(`[${'#'.repeat(40)}] 100.0%  20,000 / 20,000 entries`);
    expect(last).toContain('outcomes: deleted 19,990, already_deleted 5, invalid 3, duplicate 2');
    expect(last).toMatch(/limiter \(last invocation\): \d+ in flight at the end/);
    // The report in words, the failure reasons with counts, the files
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('job ops-20000: completed_with_failures');
    expect(report.stdout).toContain(`20,000 entries for labelling job ${PROJECT}/ops1: 19,990 deleted, 5 already deleted, 3 invalid, 2 duplicate`);
    expect(report.stdout).toMatch(/failures: 3 rows in failed\.csv; the most frequent reasons:\n +3 {2}invalid INVALID_IMAGE_ID: /);
    expect(report.stdout).toContain('summary  s3://image-cleanup-reports/reports/ops-20000/summary.json');
    expect(report.stdout).toContain('failed   s3://image-cleanup-reports/reports/ops-20000/failed.csv');
    // Sent again under its id: the same bytes are not uploaded again (a new version would be a changed manifest), and the complete job answers
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('manifest s3://image-cleanup-manifests/uploads/ops-20000/ids.txt holds this file already');
    expect(again.stderr).toContain('job ops-20000 is complete already (completed_with_failures): nothing to send');
    expect(again.stderr).not.toContain('sent job');
    const remaining = stack.emulator.labellingJobImages(PROJECT, 'ops1');
    expect(held.filter((id) => remaining.has(id))).toEqual(held.slice(19_990));
  }, 120_000);

  it('submits another 20,000 IDs and cancels it halfway: the report says cancelled, every ID deleted or skipped, the emulator agrees', async () => {
    // Prepare: 20,000 images, the manifest naming each once
    const held = imageIds('operator-cancel', 20_000);
    stack.emulator.seedLabellingJob(PROJECT, 'ops4', held);
    const manifest = join(dir, 'cancel.txt');
    await writeFile(manifest, `${held.join('\n')}\n`);
    const before = stack.emulator.requests.length;

    // Act: once half its requests are answered (chunks of 100: 200 requests), the service slows
    // down (2 s an answer), so the rest cannot all be done before the cancel is seen; then cancel.
    const submitted = await cli(['submit', manifest, '--target', `${PROJECT}/ops4`, '--job-id', 'ops-cancel', '--yes']);
    for (let waited = 0; stack.emulator.requests.length - before < 100 && waited < 60_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    stack.emulator.settings.latencyMs = 2_000;
    const cancelled = await cli(['cancel', 'ops-cancel', '--reason', 'wrong list', '--wait', '--interval', '0.5']);
    stack.emulator.settings.latencyMs = 0;
    const again = await cli(['cancel', 'ops-cancel']);
    const report = await cli(['report', 'ops-cancel']);

    // Assess: the cancel asked, waited for, and the job ended cancelled
    expect(submitted.code).toBe(0);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(/^cancel requested for job ops-cancel at \S+; each invocation and part running it starts no new delete request/);
    expect(cancelled.stdout).toContain('job ops-cancel: done (cancelled)');
    expect(again.code).toBe(6);
    expect(again.stdout).toContain('job ops-cancel ended already (cancelled): nothing to cancel');
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('job ops-cancel: cancelled');
    expect(report.stdout).toMatch(/stopped: cancelled at \S+ by \S+ \(wrong list\): \d+ IDs not attempted are skipped \(CANCELLED\)/);
    // Every ID once: deleted (and gone from the store) or skipped CANCELLED (still there, never sent after the cancel)
    const summary = await readS3Json(stack.s3, stack.env.REPORT_BUCKET!, 'reports/ops-cancel/summary.json', jobSummarySchema);
    const results = await readResults(stack.s3, summary!.report.results);
    const remaining = stack.emulator.labellingJobImages(PROJECT, 'ops4');
    expect(summary!.status).toBe('cancelled');
    expect(summary!.counts.deleted).toBeGreaterThanOrEqual(10_000);
    expect(summary!.counts.skipped).toBeGreaterThan(0);
    expect(summary!.counts.deleted + summary!.counts.skipped).toBe(20_000);
    expect(results).toHaveLength(20_000);
    expect(new Set(results.map((line) => line.image_id)).size).toBe(20_000);
    for (const line of results) {
      expect(line.outcome === 'deleted' || (line.outcome === 'skipped' && line.error_code === 'CANCELLED')).toBe(true);
      expect(remaining.has(line.image_id)).toBe(line.outcome === 'skipped');
    }
    expect(remaining.size).toBe(summary!.counts.skipped);
  }, 180_000);

  it('shows a split job\'s bar with its parts, and lists the jobs', async () => {
    // Prepare
    const held = imageIds('operator-split', 2_400);
    stack.emulator.seedLabellingJob(PROJECT, 'ops2', held);
    const manifest = join(dir, 'split.csv');
    await writeFile(manifest, `image_id\n${held.join('\n')}\n`);

    // Act
    const submitted = await cli(['submit', manifest, '--target', `${PROJECT}/ops2`, '--job-id', 'ops-split', '--part-size', '1000', '--yes']);
    const watched = await cli(['status', 'ops-split', '--watch', '--interval', '0.2']);
    const listed = await cli(['list']);

    // Assess
    expect(submitted.code).toBe(0);
    expect(submitted.stderr).toContain('split:       yes, into 3 parts of up to 1,000 on the work queue');
    expect(watched.code).toBe(0);
    const last = watched.stdout.trim().split('\n\n').at(-1)!;
    expect(last).toContain('job ops-split: done (completed)');
    expect(last).toContain('parts: 3 of 3 done, 0 running, 0 waiting');
    expect(last).toContain(`[${'#'.repeat(40)}] 100.0%  2,400 / 2,400 entries`);
    expect(stack.emulator.labellingJobImages(PROJECT, 'ops2').size).toBe(0);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^LAST ACTIVE +JOB +STATUS$/m);
    expect(listed.stdout).toMatch(/ ops-split +completed: 2,400 entries, 2,400 deleted, 0 failed$/m);
    expect(listed.stdout).toMatch(/ ops-20000 +completed_with_failures: 20,000 entries, 19,990 deleted, 0 failed$/m);
  }, 120_000);

  it('shows an unsplit job that the deadline cut: the bar of its progress.json, the rate and time left, its limiter', async () => {
    // Prepare: a job cut before its first chunk, its continuation not queued (no work queue), so it stays running
    const ids = imageIds('operator-cut', 500);
    const deps = stackDeps(stack, { WORK_QUEUE_URL: '' }, { sqs: undefined });
    const cut = await runCleanupJob({ jobId: 'ops-cut', target: { projectId: PROJECT, dataAnnotationId: 'ops6' }, imageIds: ids }, { type: 'manual' }, deps, testBudget({ stopStartingAt: Date.now() }));

    // Act
    const status = await cli(['status', 'ops-cut']);
    // Watched on a terminal for 2 s of a clock that sleeping moves: three prints, the last two redrawn over the one before
    let clock = 0;
    const sleep = (ms: number) => ((clock += ms), Promise.resolve());
    const watched = await inProcess(['status', 'ops-cut', '--watch', '--interval', '1', '--timeout', '2'], undefined, 'stack', { redraw: true, now: () => clock, sleep });

    // Assess
    expect(cut.summary.status).toBe('continuing');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('job ops-cut: running');
    expect(status.stdout).toContain(`[${'.'.repeat(40)}] 0.0%  0 / 500 entries`);
    expect(status.stdout).toContain('rate: 0 IDs/s, time left: unknown yet');
    expect(status.stdout).toMatch(/^limiter: 0 in flight of \d+ allowed, 0 waiting, not pacing, 0 throttled answers, 0 decreases$/m);
    expect(status.stdout).not.toContain('parts:');
    const lines = status.stdout.trimEnd().split('\n').length;
    expect(watched.stdout.split(`\x1b[${lines}F\x1b[J`)).toHaveLength(3);
    expect(watched.stdout.split('job ops-cut: running')).toHaveLength(4);
    expect(watched.stderr).toContain('stopped watching after 2 s; the job goes on');
  }, 60_000);

  it('refuses before sending what the guard rails refuse, and says what cancel of an ended job and a missing job answer', async () => {
    // Prepare: a deployment whose blast-radius cap is 1,000 entries
    const manifest = join(dir, 'big.txt');
    await writeFile(manifest, `${imageIds('operator-big', 1_500).join('\n')}\n`);
    const strict = { MAX_IDS_PER_JOB: '1000' };

    // Act
    const capped = await cli(['submit', manifest, '--target', `${PROJECT}/ops3`, '--job-id', 'ops-big', '--yes'], strict);
    const inline = await cli(['submit', '--ids', 'not-hex,ABC', '--target', 'only-a-project', '--yes']);
    const missing = await cli(['status', 'no-such-job']);
    const cancel = await cli(['cancel', 'ops-20000']);
    const declined = await inProcess(['submit', '--ids', imageIds('operator-no', 3).join(','), '--target', `${PROJECT}/ops3`, '--job-id', 'ops-declined'], 'n');
    const helps = [];
    for (const command of ['submit', 'status', 'report', 'list', 'cancel']) helps.push(await inProcess([command, '--help']));

    // Assess
    expect(capped.code).toBe(3);
    expect(capped.stderr).toContain('refused, nothing sent: Invalid cleanup job: options.confirmEntries: the job holds 1500 entries, more than MAX_IDS_PER_JOB (1000)');
    expect(capped.stderr).toContain('(submit it again with --confirm and that number)');
    expect(await reportFolders()).not.toContain('reports/ops-big/');
    expect(inline.code).toBe(2);
    expect(inline.stderr).toContain('--target: expected projectId/dataAnnotationId or projectId/dataset:datasetId');
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('no job no-such-job under s3://image-cleanup-reports/reports/no-such-job/');
    // Cancelling a job that ended changes nothing (exit 6)
    expect(cancel.code).toBe(6);
    expect(cancel.stdout).toBe('job ops-20000 ended already (completed_with_failures): nothing to cancel, nothing changed\n');
    expect(await reportFolderKeys('ops-20000')).not.toContain('cancel.json');
    expect(declined.asked).toEqual([`Delete up to 3 images from labelling job ${PROJECT}/ops3 (v1)? [y/N] `]);
    expect(declined.code).toBe(4);
    expect(declined.stderr).toContain('not sent: not confirmed');
    expect(await reportFolders()).not.toContain('reports/ops-declined/');
    for (const help of helps) {
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: image-cleanup (submit|status|report|list|cancel) /);
      expect(help.stdout).toContain('Exit codes:');
    }
  }, 120_000);
});

// No local server plays CloudFormation's or Lambda's control plane: this stub answers the three
// documented calls the command makes (DescribeStacks, awsQuery protocol; GetFunctionConfiguration
// and Invoke, REST JSON) and records them. S3 and SQS are the local stack's, as everywhere here.
const STACK = 'image-cleanup-test';
const MANUAL_ARN = `arn:aws:lambda:us-east-1:000000000000:function:${STACK}-manual:7`;
const calls: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
let control: Server;

function startControlPlane(): Promise<string> {
  control = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      calls.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      const reply = (status: number, type: string, text: string) => response.writeHead(status, { 'content-type': type }).end(text);
      const url = decodeURIComponent(request.url ?? '');
      if (request.method === 'POST' && body.includes('Action=DescribeStacks')) {
        const outputs = { ReportBucketName: stack.env.REPORT_BUCKET!, ManifestBucketName: stack.env.MANIFEST_BUCKET!, WorkQueueUrl: stack.env.WORK_QUEUE_URL!, ManualLambdaFunctionQualifiedArn: MANUAL_ARN };
        const members = Object.entries(outputs).map(([key, value]) => `<member><OutputKey>${key}</OutputKey><OutputValue>${value}</OutputValue></member>`).join('');
        reply(200, 'text/xml', `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${STACK}</StackName><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeStacksResponse>`);
      } else if (request.method === 'GET' && url === `/2015-03-31/functions/${MANUAL_ARN}/configuration`) {
        // The stage's own settings: only ops4 may be deleted from; S3 path-style as the local S3 needs.
        const variables = { REPORT_BUCKET: 'overridden-by-the-output', REPORT_PREFIX: 'reports/', MODELARTS_ENDPOINT: 'https://modelarts.cn-north-4.myhuaweicloud.com', ALLOWED_TARGETS: `${PROJECT}/ops4`, MAX_IDS_PER_JOB: '100000', S3_FORCE_PATH_STYLE: 'true' };
        reply(200, 'application/json', JSON.stringify({ FunctionName: `${STACK}-manual`, FunctionArn: MANUAL_ARN, Environment: { Variables: variables } }));
      } else if (request.method === 'POST' && url === `/2015-03-31/functions/${MANUAL_ARN}/invocations`) {
        reply(202, 'application/json', '');
      } else {
        reply(404, 'application/json', '{"message":"not stubbed"}');
      }
    });
  });
  return new Promise((resolve) => control.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(control.address() as AddressInfo).port}`)));
}

describe('image-cleanup --stack: a stage found by its CloudFormation stack', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  afterAll(async () => {
    await new Promise((resolve) => control.close(resolve));
  });

  it('takes the buckets and queue from the outputs and the guard rails from the manual function, and invokes it asynchronously', async () => {
    // Prepare: a shell with credentials and the endpoints, and no deployment of its own
    const url = await startControlPlane();
    for (const [name, value] of Object.entries({ AWS_ENDPOINT_URL_CLOUDFORMATION: url, AWS_ENDPOINT_URL_LAMBDA: url, AWS_ENDPOINT_URL_S3: stack.env.AWS_ENDPOINT_URL_S3!, AWS_ENDPOINT_URL_SQS: stack.env.AWS_ENDPOINT_URL_SQS!, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' })) vi.stubEnv(name, value);
    const ids = imageIds('operator-stage', 3).join(',');
    const stage = (target: string, jobId: string) => inProcess(['--stack', STACK, '--region', 'us-east-1', 'submit', '--ids', ids, '--target', target, '--job-id', jobId, '--via', 'manual', '--yes'], undefined, 'process');

    // Act
    const refused = await stage(`${PROJECT}/ops5`, 'stage-refused');
    const sent = await stage(`${PROJECT}/ops4`, 'stage-sent');

    // Assess: the stage's ALLOWED_TARGETS refused ops5 before anything was sent
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`preparing pass on the AWS stack ${STACK} (us-east-1):`);
    expect(refused.stderr).toContain('it is not in ALLOWED_TARGETS');
    // ops4 went to the manual function named by the output, as an asynchronous invocation of the job
    expect(sent.code).toBe(0);
    expect(sent.stdout).toBe('stage-sent\n');
    expect(sent.stderr).toContain(`report:      s3://${stack.env.REPORT_BUCKET}/reports/stage-sent/`);
    expect(calls.filter((call) => call.body.includes('Action=DescribeStacks')).every((call) => call.body.includes(`StackName=${STACK}`))).toBe(true);
    const invocations = calls.filter((call) => call.url.endsWith('/invocations'));
    expect(invocations).toHaveLength(1);
    expect(invocations[0]!.headers['x-amz-invocation-type']).toBe('Event');
    expect(JSON.parse(invocations[0]!.body)).toEqual({ jobId: 'stage-sent', target: { projectId: PROJECT, dataAnnotationId: 'ops4' }, imageIds: ids.split(',') });
  }, 60_000);
});

