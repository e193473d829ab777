import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import type { LocalStack } from '../../local/stack/startLocalStack.js';

/** Production dependencies pointed at a running local stack, with settings overridden for a test. */
export function stackDeps(stack: LocalStack, env: Record<string, string> = {}, overrides: Partial<CleanupDeps> = {}): CleanupDeps {
  const config = loadConfig({ ...stack.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', ...env });
  return createCleanupDeps(config, { s3: stack.s3, sqs: stack.sqs, logger: new Logger({ serviceName: 'image-cleanup-test', logLevel: 'SILENT' }), ...overrides });
}

/** Reads an `s3://bucket/key` object as text. */
export async function readS3Text(s3: S3Client, uri: string): Promise<string> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  const object = await s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
  return (await object.Body?.transformToString('utf8')) ?? '';
}

/** `n` distinct, valid image IDs derived from a label. */
export function imageIds(label: string, n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => createHash('md5').update(`${label}:${from + i}`).digest('hex'));
}
