import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import type { ManualInvocationResult } from '../../lib/triggers/runManualInvocation.js';
import { DEMO_TARGET, demoSeedImageIds } from '../stack/demoData.js';
import { createLambdaContext } from '../stack/lambdaContext.js';
import { startLocalStack, type LocalStack } from '../stack/startLocalStack.js';

/** What the demo did, for a person to read and a test to check. */
export interface DemoRun {
  result: ManualInvocationResult;
  elapsedMs: number;
  /** Problems found when checking the outcome against the emulator's store and S3; empty when all is well. */
  problems: string[];
  stack: LocalStack;
}

/**
 * The demo job: starts the embedded stack, seeds the demo labelling job, runs the manual handler
 * on `events/manual-inline.json` and checks what happened: the summary's counts add up, the
 * report is in S3, and the emulator holds exactly the images that were not to be deleted.
 * The caller stops `stack`.
 */
export async function runDemo(eventPath = new URL('../../events/manual-inline.json', import.meta.url)): Promise<DemoRun> {
  const stack = await startLocalStack();
  const seeded = demoSeedImageIds();
  stack.emulator.seedLabellingJob(DEMO_TARGET.projectId, DEMO_TARGET.dataAnnotationId, seeded);
  Object.assign(process.env, stack.env);

  const event = JSON.parse(await readFile(eventPath, 'utf8')) as { imageIds: unknown[] };
  // Imported only now: the handler reads its configuration at load time, as at a Lambda cold start.
  const { handler } = await import('../../handlers/manual.js');
  const started = Date.now();
  const result = (await handler(event, createLambdaContext('image-cleanup-manual'))) as ManualInvocationResult;
  const elapsedMs = Date.now() - started;

  const problems: string[] = [];
  if (result.status !== 'completed') {
    problems.push(`job not completed: ${JSON.stringify(result.status === 'rejected' ? result.error : result.status)}`);
    return { result, elapsedMs, problems, stack };
  }
  const { counts } = result.summary;
  const settled = counts.deleted + counts.already_deleted + counts.failed + counts.invalid + counts.duplicate;
  if (settled !== counts.received || counts.received !== event.imageIds.length) {
    problems.push(`counts do not add up: ${settled} settled, ${counts.received} received, ${event.imageIds.length} in the event`);
  }
  for (const uri of [result.report.summary, result.report.failed]) {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) ?? [];
    try {
      await stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch {
      problems.push(`report file missing: ${uri}`);
    }
  }
  const named = new Set(event.imageIds.filter((id): id is string => typeof id === 'string'));
  const remaining = stack.emulator.labellingJobImages(DEMO_TARGET.projectId, DEMO_TARGET.dataAnnotationId);
  const wronglyKept = seeded.filter((id) => named.has(id) && remaining.has(id)).length;
  const wronglyDeleted = seeded.filter((id) => !named.has(id) && !remaining.has(id)).length;
  if (wronglyKept > 0) problems.push(`${wronglyKept} images named in the event are still in the labelling job`);
  if (wronglyDeleted > 0) problems.push(`${wronglyDeleted} images not named in the event were deleted`);
  return { result, elapsedMs, problems, stack };
}
