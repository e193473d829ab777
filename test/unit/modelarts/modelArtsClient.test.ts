import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CleanupTarget } from '../../../lib/modelarts/CleanupTarget.js';
import { isBisectable, isRetryable } from '../../../lib/modelarts/classifyFailure.js';
import { createAuthorizer } from '../../../lib/modelarts/createAuthorizer.js';
import { createModelArtsClient, type DeleteBatchResult } from '../../../lib/modelarts/modelArtsClient.js';
import { ModelArtsEmulator } from '../../../local/emulator/modelArtsEmulator.js';
import { imageIds } from '../../support/stackDeps.js';

// The client against the emulator (a real HTTP server): what is sent, and how each answer is read.
const PROJECT = '0123456789abcdef0123456789abcdef';
const V1: CleanupTarget = { api: 'v1', projectId: PROJECT, dataAnnotationId: '282' };
const V2: CleanupTarget = { api: 'v2', projectId: PROJECT, datasetId: 'WxCREuCkBSAlQr9xrde', deleteSource: false };
// Made up for this file (not one of the suite's test secrets, so a failing assertion may print parts of it).
const ACCESS_KEY = 'STRADDLINGAKEXAMPLE1';

let emulator: ModelArtsEmulator;

beforeAll(async () => {
  emulator = new ModelArtsEmulator();
  await emulator.start();
});
afterAll(async () => {
  await emulator.stop();
});
beforeEach(() => {
  emulator.requests.length = 0;
});

function client(options: Partial<Parameters<typeof createModelArtsClient>[0]> = {}) {
  return createModelArtsClient({ endpoint: emulator.url, requestTimeoutMs: 5_000, ...options });
}

function failureOf(result: DeleteBatchResult) {
  if (result.kind !== 'batch_failed') throw new Error(`expected batch_failed, got ${result.kind}`);
  return result.failure;
}

describe('an empty list of IDs', () => {
  it.each([['v1', V1], ['v2', V2]] as const)('%s: nothing is sent (samples is optional in DeleteSamples, so an empty list must never go out)', async (_api, target) => {
    // Act
    const result = await client().deleteBatch(target, []);

    // Assess
    expect(result).toEqual({ kind: 'per_item', items: [], requestsSent: 0 });
    expect(emulator.requests).toEqual([]);
  });
});

describe('v2 answers that confirm nothing per sample', () => {
  it('a results list one short of the samples sent: not mapped by position, not confirmed, retryable (a repeat re-checks), never bisected', async () => {
    // Prepare
    const ids = imageIds('short-results', 4);
    emulator.seedDataset(V2.projectId, V2.datasetId, ids);
    emulator.injectFaults({ v2Answer: 'short_results' });

    // Act
    const first = await client().deleteBatch(V2, ids);
    const again = await client().deleteBatch(V2, ids);

    // Assess: the first request did delete them, its answer just did not say which; the repeat tells.
    const failure = failureOf(first);
    expect(failure).toMatchObject({ code: 'UNCONFIRMED_RESULTS', failureClass: 'transient', status: 200 });
    expect(failure.message).toContain('3 results for 4 samples');
    expect(isRetryable(failure)).toBe(true);
    expect(isBisectable(failure)).toBe(false);
    expect(emulator.datasetSamples(V2.projectId, V2.datasetId).size).toBe(0);
    expect(again.kind === 'per_item' && again.items.map((item) => (item.ok ? 'ok' : item.failure.code))).toEqual(Array(4).fill('ModelArts.4420'));
  });

  it('success: false with no results and no code: not confirmed, retryable', async () => {
    // Prepare
    const ids = imageIds('no-results', 3);
    emulator.seedDataset(V2.projectId, V2.datasetId, ids);
    emulator.injectFaults({ v2Answer: 'no_results' });

    // Act
    const failure = failureOf(await client().deleteBatch(V2, ids));

    // Assess
    expect(failure).toMatchObject({ code: 'UNCONFIRMED_RESULTS', failureClass: 'transient', status: 200 });
    expect(isRetryable(failure)).toBe(true);
    expect(isBisectable(failure)).toBe(false);
  });

  it('success: false with no results and a code nobody knows: not confirmed, the code kept in the message', async () => {
    // Prepare
    const ids = imageIds('no-results-unknown', 2);
    emulator.seedDataset(V2.projectId, V2.datasetId, ids);
    emulator.injectFaults({ v2Answer: 'no_results', errorCode: 'ModelArts.0104', errorMessage: 'Parameter error.' });

    // Act
    const failure = failureOf(await client().deleteBatch(V2, ids));

    // Assess
    expect(failure).toMatchObject({ code: 'UNCONFIRMED_RESULTS', failureClass: 'transient' });
    expect(failure.message).toContain('ModelArts.0104: Parameter error.');
  });

  it.each([
    { code: 'ModelArts.4352', failureClass: 'permanent', bisect: false },
    { code: 'ModelArts.4395', failureClass: 'throttled', bisect: false },
    { code: 'ModelArts.4712', failureClass: 'transient', bisect: false },
  ])('success: false with no results and a code it knows ($code): classified by that code, $failureClass', async ({ code, failureClass, bisect }) => {
    // Prepare
    const ids = imageIds(`no-results-${code}`, 2);
    emulator.seedDataset(V2.projectId, V2.datasetId, ids);
    emulator.injectFaults({ v2Answer: 'no_results', errorCode: code });

    // Act
    const failure = failureOf(await client().deleteBatch(V2, ids));

    // Assess
    expect(failure).toMatchObject({ code, failureClass, status: 200 });
    expect(isBisectable(failure)).toBe(bisect);
  });
});

describe('codes of issue 13, and a deployment\'s own', () => {
  it.each([
    { fault: { status: 400, errorCode: 'ModelArts.4204', errorMessage: 'Request api error! The API is not subscribed.' }, failureClass: 'permanent', retry: false, bisect: false },
    { fault: { status: 400, errorCode: 'ModelArts.4712' }, failureClass: 'transient', retry: true, bisect: false },
    { fault: { status: 429, errorCode: 'ModelArts.72060075', errorMessage: 'Too Many Requests. Please try again later.' }, failureClass: 'throttled', retry: true, bisect: false },
  ])('$fault.errorCode (HTTP $fault.status): $failureClass, retry $retry, bisect $bisect', async ({ fault, failureClass, retry, bisect }) => {
    // Prepare
    emulator.injectFaults(fault);

    // Act
    const failure = failureOf(await client().deleteBatch(V1, imageIds('codes', 3)));

    // Assess
    expect(failure).toMatchObject({ code: fault.errorCode, failureClass, status: fault.status });
    expect({ retry: isRetryable(failure), bisect: isBisectable(failure) }).toEqual({ retry, bisect });
  });

  it('waits at least 30 s before retrying a busy dataset (ModelArts.4712), and longer when Retry-After says so', async () => {
    // Prepare
    emulator.injectFaults({ status: 400, errorCode: 'ModelArts.4712' }, { status: 400, errorCode: 'ModelArts.4712', retryAfterSeconds: 90 });

    // Act
    const first = failureOf(await client().deleteBatch(V1, imageIds('busy', 3)));
    const second = failureOf(await client().deleteBatch(V1, imageIds('busy', 3)));

    // Assess
    expect(first.retryAfterMs).toBe(30_000);
    expect(second.retryAfterMs).toBe(90_000);
  });

  it('classifies a code the deployment added (extraErrorCodes) as it says; without it the status decides', async () => {
    // Prepare
    const extraErrorCodes = new Map([['ModelArts.9001', 'throttled' as const]]);
    emulator.injectFaults({ status: 400, errorCode: 'ModelArts.9001' }, { status: 400, errorCode: 'ModelArts.9001' });
    const ids = imageIds('extra', 2);

    // Act
    const refused = failureOf(await client({ extraErrorCodes }).deleteBatch(V1, ids));
    const plain = failureOf(await client().deleteBatch(V1, ids));

    // Assess
    expect(refused.failureClass).toBe('throttled');
    expect(plain.failureClass).toBe('permanent');
  });
});

describe('redaction of error bodies', () => {
  it('redacts a non-JSON body before cutting it to 200 characters: a key straddling the cut is not recorded, not even in part', async () => {
    // Prepare: a gateway page quoting the access key across character 200.
    const page = `<html>${'x'.repeat(188)}${ACCESS_KEY} was refused</html>`;
    expect(page.indexOf(ACCESS_KEY)).toBeLessThan(200);
    expect(page.indexOf(ACCESS_KEY) + ACCESS_KEY.length).toBeGreaterThan(200);
    emulator.injectFaults({ status: 502, rawBody: page });
    const auth = createAuthorizer({ mode: 'aksk', loadCredentials: () => Promise.resolve({ kind: 'aksk', accessKey: ACCESS_KEY, secretKey: 'not-checked-here-secret' }) });
    const ids = imageIds('redact-cut', 2);

    // Act
    const failure = failureOf(await client({ authorize: auth.authorize, redact: auth.redact }).deleteBatch(V1, ids));

    // Assess
    expect(failure.code).toBe('HTTP_502');
    expect(failure.message.length).toBeLessThanOrEqual(200);
    expect(failure.message).toContain('***');
    expect(failure.message).not.toContain(ACCESS_KEY.slice(0, 6));
  });
});
