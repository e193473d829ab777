import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import { createModelArtsClient, type ModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { jobSummarySchema, type JobSummary } from '../../lib/report/jobSummary.js';
import { processQueueBatch } from '../../lib/triggers/processQueueBatch.js';
import { runScheduledScan } from '../../lib/triggers/scheduledRun.js';
import { createLambdaContext } from '../../local/stack/lambdaContext.js';
import { createWorkQueues } from '../../local/stack/createWorkQueues.js';
import { seededRandom } from '../../local/emulator/seededRandom.js';
import { clockedModelArts } from '../support/clockedModelArts.js';
import { failingSqs } from '../support/failingSqs.js';
import { readResults } from '../support/readResults.js';
import { sqsEvent, sqsRecord } from '../support/sqsEvents.js';
import { imageIds, readS3Text } from '../support/stackDeps.js';
import type { LocalStack } from '../../local/stack/startLocalStack.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { virtualClock, type AdvancingClock } from '../support/virtualClock.js';

// Integration: pending manifests delivered more than once (issue 12, situations 3 and 4), against
// the local stack: fauxqs S3 (conditional writes and copies enforced by local/stack/s3ConditionalWrites.ts)
// and SQS, and the ModelArts emulator.
const PROJECT = '0123456789abcdef0123456789abcdef';
// Each situation twice: a manifest bucket without versions (the ETag names a version), and one that
// keeps them, as serverless.yml configures it (local/stack/s3Versioning.ts: VersionIds, old versions readable).
const stacks = { 'without versioning': useLocalStack(), 'with versioning': useLocalStack({ manifestVersioning: true }) };
let stack: LocalStack;
let bucket: string;

for (const [mode, each] of Object.entries(stacks)) describeReplays(mode, each);

function describeReplays(mode: string, each: LocalStack): void {
  describe(mode, () => {
    beforeAll(() => {
      stack = each;
      bucket = stack.env.MANIFEST_BUCKET!;
    });
    beforeEach(() => {
      stack.emulator.requests.length = 0;
    });

    const silent = () => new Logger({ serviceName: 'image-cleanup-test', logLevel: 'SILENT' });

    interface Harness {
      deps: CleanupDeps;
      clock: AdvancingClock;
      queueUrl: string;
      /** The next `times` sends to SQS are refused. */
      failSends: (times: number) => void;
    }

    /** Production deps with a work queue of the test's own, on a virtual clock (each request moves it 10 ms); `wrap` may hook into the ModelArts client. */
    async function harness(wrap: (client: ModelArtsClient) => ModelArtsClient = (client) => client): Promise<Harness> {
      const { workQueueUrl } = await createWorkQueues(stack.sqs, { name: `pending-${randomUUID().slice(0, 8)}`, visibilityTimeoutSeconds: 30 });
      const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(5), sleeps: 'advance' });
      const config = loadConfig({ ...stack.env, WORK_QUEUE_URL: workQueueUrl, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', DEADLINE_MARGIN_MS: '1000', REQUEST_TIMEOUT_MS: '1000', CHUNK_SIZE: '10', MAX_IN_FLIGHT: '1' });
      const real = createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, now: () => clock.now() });
      const sends = failingSqs(stack.sqs);
      const deps = createCleanupDeps(config, { s3: stack.s3, sqs: sends.sqs, clock, modelArts: wrap(clockedModelArts(real, clock, 10)), logger: silent() });
      delete deps.metrics;
      return { deps, clock, queueUrl: workQueueUrl, failSends: (times) => sends.failSends(times) };
    }

    /** About 10 requests per invocation: 1,000 ms of margin and of request timeout leave 100 ms of chunk starts. */
    const shortInvocation = (clock: AdvancingClock) => createLambdaContext('queue', 2_100, () => clock.now());
    const longInvocation = (clock: AdvancingClock) => createLambdaContext('queue', 900_000, () => clock.now());

    /** The S3 event notification S3 sends to the queue for a created object. */
    function notification(key: string, etag: string): string {
      return JSON.stringify({
        Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: new Date().toISOString(), eventName: 'ObjectCreated:Put', userIdentity: { principalId: 'AWS:X' }, requestParameters: { sourceIPAddress: '127.0.0.1' }, responseElements: { 'x-amz-request-id': 'R', 'x-amz-id-2': 'I' }, s3: { s3SchemaVersion: '1.0', configurationId: 'pending', bucket: { name: bucket, ownerIdentity: { principalId: 'O' }, arn: `arn:aws:s3:::${bucket}` }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 1, eTag: etag.replace(/"/g, ''), sequencer: '0055AED6DCD90281E5' } } }],
      });
    }

    async function put(key: string, lines: readonly string[]): Promise<string> {
      const written = await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${lines.join('\n')}\n` }));
      return written.ETag ?? '';
    }

    async function keys(prefix: string): Promise<string[]> {
      const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
    }

    async function text(key: string): Promise<string> {
      const object = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await object.Body?.transformToString('utf8')) ?? '';
    }

    async function summaryOf(uri: string): Promise<JobSummary> {
      return jobSummarySchema.parse(JSON.parse(await readS3Text(stack.s3, uri)));
    }

    /** Every job summary under reports/ whose trigger names this manifest. */
    async function summariesFor(manifestKey: string): Promise<JobSummary[]> {
      const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.env.REPORT_BUCKET, Prefix: 'reports/' }));
      const summaries = await Promise.all((listed.Contents ?? []).map((object) => object.Key ?? '').filter((key) => /^reports\/[^/]+\/summary\.json$/.test(key)).map((key) => summaryOf(`s3://${stack.env.REPORT_BUCKET}/${key}`)));
      return summaries.filter((summary) => summary.trigger.manifest === `s3://${bucket}/${manifestKey}`);
    }

    /** Checks a report against the emulator's store for every ID named: deleted or already gone means absent, anything else present. */
    async function expectReportMatchesStore(summary: JobSummary, store: ReadonlySet<string>, named: readonly string[]): Promise<void> {
      const outcomes = new Map((await readResults(stack.s3, summary.report.results)).map((line) => [line.image_id, line.outcome]));
      for (const id of named) {
        const outcome = outcomes.get(id);
        expect(outcome, `outcome of ${id} in ${summary.jobId}`).toBeDefined();
        expect(store.has(id), `${id} is ${outcome} in ${summary.jobId}`).toBe(!(outcome === 'deleted' || outcome === 'already_deleted'));
      }
    }

    /** Processes the queue's messages one at a time, as the event source mapping would, until it is empty. */
    async function drain(queueUrl: string, deps: CleanupDeps, context: () => ReturnType<typeof createLambdaContext>): Promise<SQSBatchResponse[]> {
      const responses: SQSBatchResponse[] = [];
      for (let round = 0; round < 100; round += 1) {
        const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
        const [message] = Messages;
        if (message === undefined) return responses;
        await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
        responses.push(await processQueueBatch(sqsEvent(sqsRecord(message.Body ?? '', message.MessageId)), deps, context()));
      }
      throw new Error('the queue never emptied');
    }

    describe('situation 3: a pending manifest re-uploaded while it runs', () => {
      it('runs the new version as a job of its own: its notification comes back, nothing moves the new version with the old report, and both reports equal the store', async () => {
        // Prepare: version 1 names 100 IDs; version 2, uploaded while version 1 deletes, names 200 others.
        const key = `pending/v1/${PROJECT}/610/replaced-${randomUUID().slice(0, 8)}.txt`;
        const [first, second] = [imageIds('reupload-v1', 100), imageIds('reupload-v2', 200)];
        stack.emulator.seedLabellingJob(PROJECT, '610', [...first, ...second]);
        const etag1 = await put(key, first);
        let secondNotification: { record: ReturnType<typeof sqsRecord>; response?: SQSBatchResponse } | undefined;
        let hooked = false;
        const h: Harness = await harness((client) => ({
          deleteBatch: async (target, ids, options) => {
            if (!hooked) {
              // While version 1 runs: the upload of version 2, and its notification delivered at once.
              hooked = true;
              const etag2 = await put(key, second);
              secondNotification = { record: sqsRecord(notification(key, etag2), 'reupload-n2') };
              secondNotification.response = await processQueueBatch(sqsEvent(secondNotification.record), h.deps, longInvocation(h.clock));
            }
            return client.deleteBatch(target, ids, options);
          },
        }));
        const { deps, clock } = h;

        // Act: the first notification runs version 1; then the second notification comes back.
        const firstResponse = await processQueueBatch(sqsEvent(sqsRecord(notification(key, etag1), 'reupload-n1')), deps, longInvocation(clock));
        const pendingAfterFirst = await keys(key);
        const contentAfterFirst = pendingAfterFirst.length === 1 ? await text(key) : '';
        const secondRedelivered = await processQueueBatch(sqsEvent(secondNotification!.record), deps, longInvocation(clock));

        // Assess: the second notification was not acknowledged while version 1 ran ...
        expect(firstResponse.batchItemFailures).toEqual([]);
        expect(secondNotification!.response?.batchItemFailures).toEqual([{ itemIdentifier: 'reupload-n2' }]);
        // ... version 2 was still pending when version 1's job ended ...
        expect(pendingAfterFirst).toEqual([key]);
        expect(contentAfterFirst).toBe(`${second.join('\n')}\n`);
        // ... and ran when its notification came back: two jobs, each with its report, each equal to the store.
        expect(secondRedelivered.batchItemFailures).toEqual([]);
        expect(await keys(key)).toEqual([]);
        const summaries = await summariesFor(key);
        expect(summaries.map((summary) => summary.counts.received).sort((a, b) => a - b)).toEqual([100, 200]);
        const store = stack.emulator.labellingJobImages(PROJECT, '610');
        for (const summary of summaries) await expectReportMatchesStore(summary, store, summary.counts.received === 100 ? first : second);
        expect(store.size).toBe(0);
        // Whatever reached done/ holds the version its report names: never version 2 with version 1's report.
        // With versions kept, version 1 is moved too (by its VersionId); without, its content is gone.
        const movedOfKey = (await keys('done/')).filter((moved) => moved.endsWith(key.slice('pending/'.length)));
        expect(movedOfKey).toHaveLength(mode === 'with versioning' ? 2 : 1);
        for (const moved of await keys('done/')) {
          if (!moved.endsWith(key.slice('pending/'.length))) continue;
          const head = await stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: moved }));
          const report = await summaryOf(head.Metadata?.report ?? '');
          expect(moved).toContain(`/${report.jobId}/`);
          expect((await text(moved)).trimEnd().split('\n')).toHaveLength(report.counts.received);
        }
      });
    });

    describe('situation 3, by a refused continuation: the cut version replaced before anything resumed it', () => {
      it('ends the cut version\'s job before the new version runs, with what it did, and runs the new version as a job of its own', async () => {
        // Prepare: version 1 (300 IDs) is cut and its continuePending refused; version 2 (20 others) replaces it.
        const key = `pending/v1/${PROJECT}/640/refused-${randomUUID().slice(0, 8)}.txt`;
        const [first, second] = [imageIds('refused-v1', 300), imageIds('refused-v2', 20)];
        stack.emulator.seedLabellingJob(PROJECT, '640', [...first, ...second]);
        const etag1 = await put(key, first);
        const { deps, clock, queueUrl, failSends } = await harness();
        failSends(1);
        const cut = await processQueueBatch(sqsEvent(sqsRecord(notification(key, etag1), 'refused-n1')), deps, shortInvocation(clock));
        const deletedByCut = first.filter((id) => !stack.emulator.labellingJobImages(PROJECT, '640').has(id));
        await put(key, second);

        // Act: the notification comes back (it reads the key's current version), then whatever was queued.
        const redelivered = await processQueueBatch(sqsEvent(sqsRecord(notification(key, etag1), 'refused-n1')), deps, longInvocation(clock));
        const rest = await drain(queueUrl, deps, () => longInvocation(clock));

        // Assess: the cut run's record failed, as it must; then both versions' jobs ended, each equal to the store.
        expect(cut.batchItemFailures).toEqual([{ itemIdentifier: 'refused-n1' }]);
        expect(deletedByCut.length).toBeGreaterThan(0);
        expect([redelivered, ...rest].every((response) => response.batchItemFailures.length === 0)).toBe(true);
        const summaries = await summariesFor(key);
        const [old, current] = [summaries.find((summary) => summary.counts.received === 300), summaries.find((summary) => summary.counts.received === 20)];
        expect(current).toMatchObject({ status: 'completed', counts: { deleted: 20 } });
        const store = stack.emulator.labellingJobImages(PROJECT, '640');
        // Without versions, version 1 is gone: its job ends at once with what its cut run did, the rest
        // skipped; with versions, its own continuation (queued when version 2 was taken up) finishes it.
        if (mode === 'without versioning') expect(old).toMatchObject({ status: 'stopped_manifest_changed', counts: { deleted: deletedByCut.length, skipped: 300 - deletedByCut.length } });
        else expect(old).toMatchObject({ status: 'completed', counts: { deleted: 300 } });
        await expectReportMatchesStore(old!, store, mode === 'without versioning' ? deletedByCut : first);
        await expectReportMatchesStore(current!, store, second);
        expect(await keys(key)).toEqual([]);
      });
    });

    describe('situation 4: a pending manifest named by a notification and by the schedule', () => {
      it('is one job whatever the trigger: a notification run cut by the deadline is resumed by the schedule, not restarted', async () => {
        // Prepare
        const key = `pending/v1/${PROJECT}/620/both-${randomUUID().slice(0, 8)}.txt`;
        const ids = imageIds('notified-and-scheduled', 300);
        stack.emulator.seedLabellingJob(PROJECT, '620', ids);
        const etag = await put(key, ids);
        const { deps, clock } = await harness();

        // Act: the notification's run is cut; then the schedule runs before its continuation is read.
        const cut = await processQueueBatch(sqsEvent(sqsRecord(notification(key, etag), 'both-n1')), deps, shortInvocation(clock));
        const scheduled = await runScheduledScan({ prefix: `pending/v1/${PROJECT}/620/` }, deps, createLambdaContext('schedule', 900_000, () => clock.now()));

        // Assess: one job, resumed: each ID sent once, one summary, the file in done/ under that job's id.
        expect(cut.batchItemFailures).toEqual([]);
        expect(scheduled.status).toBe('completed');
        const sent = stack.emulator.requests.filter((request) => request.status === 200).flatMap((request) => request.imageIds);
        expect(sent).toHaveLength(300);
        expect(new Set(sent).size).toBe(300);
        const summaries = await summariesFor(key);
        expect(summaries).toHaveLength(1);
        const [summary] = summaries as [JobSummary];
        expect(summary).toMatchObject({ status: 'completed', counts: { received: 300, deleted: 300 } });
        expect(summary.invocations).toBeGreaterThanOrEqual(2);
        expect(await keys(key)).toEqual([]);
        expect(await keys(`done/${summary.jobId}/`)).toEqual([`done/${summary.jobId}/${key.slice('pending/'.length)}`]);
        await expectReportMatchesStore(summary, stack.emulator.labellingJobImages(PROJECT, '620'), ids);
        // The job is pinned to the version it read: its VersionId where the bucket keeps versions.
        const record = JSON.parse(await readS3Text(stack.s3, `s3://${stack.env.REPORT_BUCKET}/reports/${summary.jobId}/job.json`)) as { manifestVersion?: { etag: string; versionId?: string } };
        expect(record.manifestVersion?.versionId === undefined).toBe(mode === 'without versioning');
      });

      it('with no schedule, continues by message until the file leaves pending/ with a complete report', async () => {
        // Prepare
        const key = `pending/v1/${PROJECT}/630/no-schedule-${randomUUID().slice(0, 8)}.txt`;
        const ids = imageIds('no-schedule', 300);
        stack.emulator.seedLabellingJob(PROJECT, '630', ids);
        const etag = await put(key, ids);
        const { deps, clock, queueUrl } = await harness();

        // Act: the notification, then whatever it queued, as the event source mapping delivers it.
        const first = await processQueueBatch(sqsEvent(sqsRecord(notification(key, etag), 'no-schedule-n1')), deps, shortInvocation(clock));
        const rest = await drain(queueUrl, deps, () => shortInvocation(clock));

        // Assess
        expect([first, ...rest].every((response) => response.batchItemFailures.length === 0)).toBe(true);
        expect(rest.length).toBeGreaterThanOrEqual(2);
        expect(await keys(key)).toEqual([]);
        const summaries = await summariesFor(key);
        expect(summaries).toHaveLength(1);
        const [summary] = summaries as [JobSummary];
        expect(summary).toMatchObject({ status: 'completed', counts: { received: 300, deleted: 300 } });
        expect(await keys(`done/${summary.jobId}/`)).toHaveLength(1);
        await expectReportMatchesStore(summary, stack.emulator.labellingJobImages(PROJECT, '630'), ids);
      });
    });
  });
}
