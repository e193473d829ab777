import type { S3Client } from '@aws-sdk/client-s3';

// The S3 commands that write a report, a checkpoint or a claim.
const WRITES = new Set(['PutObjectCommand', 'CreateMultipartUploadCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand', 'CopyObjectCommand', 'DeleteObjectsCommand', 'DeleteObjectCommand']);

/** An S3 client that fails one chosen write; see {@link failingS3}. */
export interface FailingS3 {
  s3: S3Client;
  /** Writes seen so far (matching `keyPrefix`). */
  readonly writes: number;
  /** What was failed, once it was. */
  readonly failed: string | undefined;
  /** Arms the client: the `nth` write (0-based, counted from now) under `keyPrefix` fails once. */
  failWrite(nth: number): void;
  disarm(): void;
}

/**
 * Wraps a real S3 client so that exactly one chosen write fails, as an S3 outage or a throttled
 * PUT would. A wrapper is needed because fauxqs (the local S3) cannot be told to fail one call:
 * it has no fault injection. Everything else goes to the real local S3 unchanged.
 */
export function failingS3(real: S3Client, keyPrefix: string): FailingS3 {
  let writes = 0;
  let armedAt: number | undefined;
  let failed: string | undefined;
  const send = async (command: { constructor: { name: string }; input?: { Key?: string; Delete?: { Objects?: Array<{ Key?: string }> } } }, ...rest: unknown[]) => {
    const name = command.constructor.name;
    const key = command.input?.Key ?? command.input?.Delete?.Objects?.[0]?.Key ?? '';
    const matches = WRITES.has(name) && key.startsWith(keyPrefix);
    if (matches) {
      const index = writes;
      writes += 1;
      if (armedAt !== undefined && index === armedAt) {
        armedAt = undefined;
        failed = `${name} ${key}`;
        throw Object.assign(new Error(`injected S3 failure of ${name} ${key}`), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      }
    }
    return (real.send as (...args: unknown[]) => Promise<unknown>).call(real, command, ...rest);
  };
  const s3 = new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'send') return send;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return {
    s3,
    get writes() {
      return writes;
    },
    get failed() {
      return failed;
    },
    failWrite(nth) {
      armedAt = writes + nth;
      failed = undefined;
    },
    disarm() {
      armedAt = undefined;
    },
  };
}
