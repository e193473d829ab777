import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';

// The S3 commands that change something: a crash "between steps" is placed before one of them.
const WRITES = new Set(['PutObjectCommand', 'CreateMultipartUploadCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand', 'CopyObjectCommand', 'DeleteObjectsCommand', 'DeleteObjectCommand']);

/** Clients that die together at a chosen point; see {@link crashSwitch}. */
export interface CrashSwitch {
  s3: S3Client;
  sqs: SQSClient;
  modelArts: ModelArtsClient;
  /** Arms the switch: the process "dies" just before the `nth` S3 write (0-based, counted from now). */
  crashBefore(nth: number): void;
  /** True once the switch fired and until {@link revive}. */
  readonly dead: boolean;
  /** How many times it fired. */
  readonly crashes: number;
  /** Ends the dead invocation: the next one starts with working clients. */
  revive(): void;
  disarm(): void;
}

/**
 * Wraps the S3, SQS and ModelArts clients of one simulated Lambda so that, from a chosen S3 write
 * on, every call of all three fails, as when Lambda kills the invocation there (a timeout, an out
 * of memory, a host lost): no later step runs, not even a `finally` block's claim release, which a
 * single failed write (test/support/failingS3.ts) would still let through. A wrapper is needed
 * because no local server can stop answering one invocation's calls on demand. A dead ModelArts
 * call answers a transient network failure without sending anything, so nothing is deleted by it.
 */
export function crashSwitch(clients: { s3: S3Client; sqs: SQSClient; modelArts: ModelArtsClient }): CrashSwitch {
  let writes = 0;
  let armedAt: number | undefined;
  let dead = false;
  let crashes = 0;
  const died = (what: string) => Object.assign(new Error(`injected crash: ${what} after the invocation died`), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
  const proxy = <T extends object>(real: T, onSend: (command: { constructor: { name: string } }) => void): T =>
    new Proxy(real, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
        return async (command: { constructor: { name: string } }, ...rest: unknown[]) => {
          onSend(command);
          return ((target as unknown as { send: (...args: unknown[]) => Promise<unknown> }).send).call(target, command, ...rest);
        };
      },
    });
  const s3 = proxy(clients.s3, (command) => {
    if (!dead && WRITES.has(command.constructor.name)) {
      if (armedAt !== undefined && writes === armedAt) {
        armedAt = undefined;
        dead = true;
        crashes += 1;
      }
      writes += 1;
    }
    if (dead) throw died(command.constructor.name);
  });
  const sqs = proxy(clients.sqs, (command) => {
    if (dead) throw died(command.constructor.name);
  });
  const modelArts: ModelArtsClient = {
    deleteBatch: async (target, ids, options) => {
      if (dead) return { kind: 'batch_failed', failure: { failureClass: 'transient', code: 'ECONNRESET', message: 'network error: ECONNRESET' } };
      return clients.modelArts.deleteBatch(target, ids, options);
    },
  };
  return {
    s3,
    sqs,
    modelArts,
    crashBefore(nth) {
      armedAt = writes + nth;
    },
    get dead() {
      return dead;
    },
    get crashes() {
      return crashes;
    },
    revive() {
      dead = false;
    },
    disarm() {
      armedAt = undefined;
    },
  };
}
