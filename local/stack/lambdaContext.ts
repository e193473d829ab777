import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

/**
 * A Lambda context for running a handler outside Lambda, with a real deadline `timeoutMs` from
 * now, as Lambda gives one.
 */
export function createLambdaContext(functionName: string, timeoutMs = 900_000, now: () => number = Date.now): Context {
  const deadline = now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
