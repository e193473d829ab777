import type { SQSEvent } from 'aws-lambda';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEMO_TARGET } from '../../local/stack/demoData.js';
import { handlerFor } from '../../local/cli/handlerFor.js';
import type { InvokeOutput } from '../../local/cli/invokeEvent.js';
import { SAMPLE_DATASET } from '../../local/stack/sampleData.js';

// Every sample event runs through `npm run invoke` (a subprocess that starts its own embedded
// stack and seeds the sample data) and must produce the report it is documented to produce.
const root = new URL('../../', import.meta.url);
const v1 = { api: 'v1', ...DEMO_TARGET };
const v2 = { api: 'v2', ...SAMPLE_DATASET, deleteSource: false };
const zero = { already_deleted: 0, failed: 0, invalid: 0, duplicate: 0, skipped: 0, would_delete: 0 };
const manifest = (key: string) => `s3://image-cleanup-manifests/${key}`;
const pendingV1 = `pending/v1/${DEMO_TARGET.projectId}/282/drop-2026-11-28.txt`;

type Report = { trigger: Record<string, unknown>; target: unknown; counts: Record<string, number>; status: string };
/** The message id of an SQS sample event's first record. */
const messageIdOf = (event: unknown) => (event as SQSEvent).Records[0]!.messageId;

// What each event must lead to: the handler picked, its answer, and the reports written.
const expectations: Record<string, (output: InvokeOutput, event: unknown) => void> = {
  'manual-inline.json': (output) => {
    expect(output.result).toMatchObject({ status: 'completed' });
    expect(reports(output)).toEqual([expect.objectContaining({ trigger: { type: 'manual', source: expect.any(String) as unknown }, target: v1, counts: { received: 817, deleted: 800, already_deleted: 4, failed: 0, invalid: 3, duplicate: 10, skipped: 0, would_delete: 0 } })]);
  },
  'manual-manifest.json': (output) => {
    expect(output.result).toMatchObject({ status: 'completed', jobId: 'manual-manifest-demo' });
    expect(reports(output)).toEqual([expect.objectContaining({ trigger: { type: 'manual', source: expect.any(String) as unknown, manifest: manifest('uploads/demo-v1.txt') }, target: v1, counts: { received: 102, deleted: 100, already_deleted: 0, failed: 0, invalid: 1, duplicate: 1, skipped: 0, would_delete: 0 } })]);
  },
  'manual-dry-run.json': (output) => {
    // Nothing is sent: the manifest's valid IDs would be deleted, and are still there afterwards.
    expect(output.result).toMatchObject({ status: 'completed', jobId: 'manual-dry-run-demo', summary: { status: 'dry_run', dryRun: true, requests: 0 } });
    expect(reports(output)).toEqual([expect.objectContaining({ status: 'dry_run', target: v1, counts: { received: 102, deleted: 0, already_deleted: 0, failed: 0, invalid: 1, duplicate: 1, skipped: 0, would_delete: 100 } })]);
  },
  'sqs-inline.json': (output, event) => {
    expect(output.result).toEqual({ batchItemFailures: [] });
    expect(reports(output)).toEqual([expect.objectContaining({ trigger: { type: 'queue', source: messageIdOf(event) }, target: v1, counts: { received: 11, deleted: 10, ...zero, already_deleted: 1 } })]);
  },
  'sqs-manifest.json': (output, event) => {
    expect(output.result).toEqual({ batchItemFailures: [] });
    expect(reports(output)).toEqual([expect.objectContaining({ trigger: { type: 'queue', source: messageIdOf(event), manifest: manifest('uploads/demo-v2.json') }, target: v2, counts: { received: 50, deleted: 50, ...zero } })]);
  },
  'sqs-s3-notification.json': (output, event) => {
    expect(output.result).toEqual({ batchItemFailures: [] });
    expect(reports(output)).toEqual([expect.objectContaining({ trigger: { type: 'queue', source: messageIdOf(event), manifest: manifest(pendingV1) }, target: v1, counts: { received: 50, deleted: 50, ...zero } })]);
  },
  'sqs-sns-s3-notification.json': (output, event) => {
    expect(output.result).toEqual({ batchItemFailures: [] });
    expect(reports(output)).toEqual([expect.objectContaining({ trigger: { type: 'queue', source: messageIdOf(event), manifest: manifest('pending/team-b/demo-v2-drop.json') }, target: v2, counts: { received: 50, deleted: 50, ...zero } })]);
  },
  'schedule-eventbridge.json': (output) => {
    expect(output.result).toMatchObject({ status: 'completed', scheduledAt: '2026-11-28T17:00:00.000Z', errors: [], stoppedEarly: false });
    expect((output.result as { manifests: Array<{ status: string }> }).manifests.map((m) => m.status)).toEqual(['done', 'done']);
    expect(sortByManifest(reports(output))).toEqual([
      expect.objectContaining({ trigger: { type: 'schedule', source: '2026-11-28T17:00:00.000Z', manifest: manifest('pending/team-b/demo-v2-drop.json') }, target: v2, counts: { received: 50, deleted: 50, ...zero } }),
      expect.objectContaining({ trigger: { type: 'schedule', source: '2026-11-28T17:00:00.000Z', manifest: manifest(pendingV1) }, target: v1, counts: { received: 50, deleted: 50, ...zero } }),
    ]);
  },
  'schedule-scheduler-default.json': (output) => {
    // EventBridge Scheduler's default notification (a schedule without input): a plain tick, at its time.
    expect(output.result).toMatchObject({ status: 'completed', scheduledAt: '2026-11-28T17:15:00.000Z', prefix: 'pending/', errors: [], stoppedEarly: false });
    expect(sortByManifest(reports(output))).toEqual([
      expect.objectContaining({ trigger: { type: 'schedule', source: '2026-11-28T17:15:00.000Z', manifest: manifest('pending/team-b/demo-v2-drop.json') }, target: v2, counts: { received: 50, deleted: 50, ...zero } }),
      expect.objectContaining({ trigger: { type: 'schedule', source: '2026-11-28T17:15:00.000Z', manifest: manifest(pendingV1) }, target: v1, counts: { received: 50, deleted: 50, ...zero } }),
    ]);
  },
  'schedule-scheduler.json': (output) => {
    expect(output.result).toMatchObject({ status: 'completed', prefix: 'pending/v1/', errors: [], stoppedEarly: false });
    expect(reports(output)).toEqual([expect.objectContaining({ trigger: { type: 'schedule', source: expect.any(String) as unknown, manifest: manifest(pendingV1) }, target: v1, counts: { received: 50, deleted: 50, ...zero } })]);
  },
};

function reports(output: InvokeOutput): Report[] {
  return output.reports as Report[];
}

function sortByManifest(list: Report[]): Report[] {
  return [...list].sort((a, b) => String(a.trigger.manifest).localeCompare(String(b.trigger.manifest)));
}

const files = (await readdir(new URL('events/', root))).filter((name) => name.endsWith('.json')).sort();

describe('events/ through `npm run invoke`', () => {
  it('has an expectation for every sample event, and a sample for every handler', () => {
    expect(files).toEqual(Object.keys(expectations).sort());
  });

  it.each(files)('%s', async (name) => {
    // Prepare
    const event: unknown = JSON.parse(await readFile(new URL(`events/${name}`, root), 'utf8'));
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    // Without REPORT_BUCKET, invoke starts (and stops) an embedded stack of its own.
    for (const key of Object.keys(env)) if (key === 'REPORT_BUCKET' || key.startsWith('AWS_ENDPOINT_URL')) delete env[key];

    // Act
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'invoke', '--', `events/${name}`], { cwd: root, env, timeout: 60_000 });

    // Assess
    const output = JSON.parse(stdout) as InvokeOutput;
    expect(output.handler).toBe(handlerFor(event).handler);
    expect(output.handler).toBe(name.split('-')[0] === 'sqs' ? 'queue' : name.split('-')[0]);
    expectations[name]!(output, event);
  }, 90_000);
});
