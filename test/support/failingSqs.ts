import type { SQSClient } from '@aws-sdk/client-sqs';

/** An SQS client that refuses chosen sends; see {@link failingSqs}. */
export interface FailingSqs {
  sqs: SQSClient;
  /** Bodies of the sends refused so far. */
  readonly refused: string[];
  /** Refuses the next `times` sends (SendMessage and SendMessageBatch alike). */
  failSends(times: number): void;
}

/**
 * Wraps a real SQS client so that chosen sends fail, as an SQS outage, a throttled send or a
 * missing permission would. A wrapper is needed because no local server can refuse one send on
 * demand: fauxqs has no fault injection, and a queue that does not exist fails every send and
 * every receive alike. Everything else goes to the real local SQS unchanged.
 */
export function failingSqs(real: SQSClient): FailingSqs {
  let failing = 0;
  const refused: string[] = [];
  const send = async (command: { constructor: { name: string }; input?: { MessageBody?: string; Entries?: Array<{ MessageBody?: string }> } }, ...rest: unknown[]) => {
    const name = command.constructor.name;
    if ((name === 'SendMessageCommand' || name === 'SendMessageBatchCommand') && failing > 0) {
      failing -= 1;
      refused.push(command.input?.MessageBody ?? (command.input?.Entries ?? []).map((entry) => entry.MessageBody).join('\n'));
      throw Object.assign(new Error(`injected SQS failure of ${name}`), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    }
    return (real.send as (...args: unknown[]) => Promise<unknown>).call(real, command, ...rest);
  };
  const sqs = new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'send') return send;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return {
    sqs,
    refused,
    failSends(times) {
      failing = times;
    },
  };
}
