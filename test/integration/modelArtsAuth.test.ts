import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { systemClock, type Clock } from '../../lib/core/clock.js';
import { loadConfig } from '../../lib/config/config.js';
import { createAuthorizer } from '../../lib/modelarts/createAuthorizer.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import type { CleanupDeps } from '../../lib/job/types.js';
import { runManualInvocation } from '../../lib/triggers/runManualInvocation.js';
import { imageIds, readS3Text } from '../support/stackDeps.js';
import { findLeakedSecrets, TEST_ACCESS_KEY, TEST_SECRET_KEY, TEST_SECURITY_TOKEN, TEST_USER } from '../support/testCredentials.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { startLocalStack } from '../../local/stack/startLocalStack.js';

// Integration: AK/SK signing and IAM tokens against the emulator's strict gateway and IAM, through
// the production wiring (createCleanupDeps reads MODELARTS_AUTH and the MODELARTS_* credentials,
// as on the local stack). Every log line, report and error message of this file is collected and
// searched for credentials by the last test.
const PROJECT = '0123456789abcdef0123456789abcdef';
const JOB = '282';
const target = { projectId: PROJECT, dataAnnotationId: JOB };
const AKSK_ENV = { MODELARTS_AUTH: 'aksk' };
const AKSK_CREDENTIALS = { MODELARTS_ACCESS_KEY: TEST_ACCESS_KEY, MODELARTS_SECRET_KEY: TEST_SECRET_KEY };
const TOKEN_CREDENTIALS = { MODELARTS_IAM_USER: TEST_USER.name, MODELARTS_IAM_PASSWORD: TEST_USER.password, MODELARTS_IAM_DOMAIN: TEST_USER.domain, MODELARTS_IAM_PROJECT: 'cn-north-4' };

const stack = useLocalStack();
const output: string[] = [];
let restoreStdout: () => void;

beforeAll(() => {
  stack.emulator.auth.users.push(TEST_USER);
  // The real gateway knows both: a permanent key, and a temporary one that requires its security token.
  stack.emulator.auth.accessKeys.push({ accessKey: TEST_ACCESS_KEY, secretKey: TEST_SECRET_KEY });
  stack.emulator.auth.accessKeys.push({ accessKey: 'TMPAKEXAMPLE0000TEMP', secretKey: TEST_SECRET_KEY, securityToken: TEST_SECURITY_TOKEN });
  // In-process capture of this file's stdout: the Powertools logger below writes there.
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    output.push(String(chunk));
    return write(chunk, ...rest);
  });
  restoreStdout = () => {
    process.stdout.write = write;
  };
});
afterAll(() => {
  restoreStdout();
});
beforeEach(() => {
  stack.emulator.requests.length = 0;
  stack.emulator.auth.tokenRequests = 0;
  Object.assign(stack.emulator.settings, { auth: 'none', refuseTokens: false, tokenTtlMs: 86_400_000, latencyMs: 0, latencyJitterMs: 0 });
});

/** Production dependencies on the local stack, credentials from the environment given, logs at INFO into `output`. */
function authDeps(env: Record<string, string>, credentialsEnv: Record<string, string>, clock: Clock = systemClock): CleanupDeps {
  const config = loadConfig({ ...stack.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5', MODELARTS_IAM_ENDPOINT: stack.env.MODELARTS_ENDPOINT!, ...env });
  const logger = new Logger({ serviceName: 'image-cleanup-auth-test', logLevel: 'INFO' });
  return createCleanupDeps(config, { s3: stack.s3, logger, clock }, { env: credentialsEnv });
}

async function runJob(deps: CleanupDeps, event: unknown) {
  const result = await runManualInvocation(event, deps);
  if (result.status !== 'completed') throw new Error(`expected a completed job, got ${result.status === 'rejected' ? result.error.code : result.status}`);
  // Reports are part of what must stay clean.
  output.push(await readS3Text(stack.s3, result.report.summary), await readS3Text(stack.s3, result.report.failed));
  return result;
}

async function failedRows(uri: string) {
  return parse<Record<string, string>>(await readS3Text(stack.s3, uri), { columns: true });
}

const deletes = () => stack.emulator.requests.filter((r) => r.path !== '/v3/auth/tokens');

describe('AK/SK signing against the strict gateway', () => {
  it('accepts requests signed by the client, temporary credentials with a security token and a project ID included', async () => {
    // Prepare
    stack.emulator.settings.auth = 'aksk';
    const ids = imageIds('aksk-ok', 30);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    const deps = authDeps(AKSK_ENV, { MODELARTS_ACCESS_KEY: 'TMPAKEXAMPLE0000TEMP', MODELARTS_SECRET_KEY: TEST_SECRET_KEY, MODELARTS_SECURITY_TOKEN: TEST_SECURITY_TOKEN, MODELARTS_PROJECT_ID: PROJECT });

    // Act
    const result = await runJob(deps, { target, imageIds: ids, options: { chunkSize: 10 } });

    // Assess
    expect(result.summary.counts).toMatchObject({ deleted: 30, failed: 0 });
    expect(deletes().map((r) => r.status)).toEqual([200, 200, 200]);
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(0);
  });

  it('refuses a tampered body, a tampered signed header, a missing security token and an unsigned request with APIG.0301', async () => {
    // Prepare: requests signed by the client's own authorizer, then changed before sending.
    stack.emulator.settings.auth = 'aksk';
    stack.emulator.seedLabellingJob(PROJECT, JOB, imageIds('tamper', 2));
    const url = new URL(`${stack.env.MODELARTS_ENDPOINT}/v1/${PROJECT}/data-annotations/${JOB}/images/delete`);
    const body = JSON.stringify({ image_id: imageIds('tamper', 1) });
    async function signed(credentials: { accessKey: string; securityToken?: string }) {
      const auth = createAuthorizer({ mode: 'aksk', loadCredentials: () => Promise.resolve({ kind: 'aksk', secretKey: TEST_SECRET_KEY, projectId: PROJECT, ...credentials }) });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      await auth.authorize({ method: 'POST', url, headers, body });
      return headers;
    }
    async function send(headers: Record<string, string>, sentBody = body) {
      const response = await fetch(url, { method: 'POST', headers, body: sentBody });
      return { status: response.status, body: (await response.json()) as { error_code?: string } };
    }
    const good = await signed({ accessKey: TEST_ACCESS_KEY });

    // Act
    const tamperedBody = await send(good, JSON.stringify({ image_id: imageIds('tamper', 2) }));
    const tamperedHeader = await send({ ...good, 'x-project-id': 'ffffffffffffffffffffffffffffffff' });
    const noSecurityToken = await send(await signed({ accessKey: 'TMPAKEXAMPLE0000TEMP' }));
    const unsigned = await send({ 'content-type': 'application/json' });
    const untouched = await send(good);

    // Assess
    expect(tamperedBody).toEqual({ status: 401, body: expect.objectContaining({ error_code: 'APIG.0301' }) as unknown });
    expect(tamperedHeader).toEqual({ status: 401, body: expect.objectContaining({ error_code: 'APIG.0301' }) as unknown });
    expect(noSecurityToken).toEqual({ status: 401, body: expect.objectContaining({ error_code: 'APIG.0301' }) as unknown });
    expect(unsigned).toEqual({ status: 401, body: expect.objectContaining({ error_code: 'APIG.0301' }) as unknown });
    expect(untouched).toEqual({ status: 200, body: { is_success: true } });
  });

  it('refuses a date 16 minutes off with APIG.0303, re-signs once with a fresh date, then gives up; 14 minutes off is accepted', async () => {
    // Prepare: the client's clock is wrong, so a fresh date is just as wrong.
    stack.emulator.settings.auth = 'aksk';
    const ids = imageIds('skew', 5);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    const skewed = (minutes: number): Clock => ({ ...systemClock, now: () => Date.now() - minutes * 60_000 });

    // Act
    const late = await runJob(authDeps(AKSK_ENV, AKSK_CREDENTIALS, skewed(16)), { target, imageIds: ids });
    const lateRequests = deletes().map((r) => `${r.status} ${r.errorCode ?? ''}`.trim());
    stack.emulator.requests.length = 0;
    // A new job id: the same content again would be the same, completed job, and get its report back.
    const onTime = await runJob(authDeps(AKSK_ENV, AKSK_CREDENTIALS, skewed(14)), { jobId: 'skew-on-time', target, imageIds: ids });

    // Assess
    expect(lateRequests).toEqual(['401 APIG.0303', '401 APIG.0303']);
    expect(late.summary.counts).toMatchObject({ deleted: 0, failed: 5 });
    expect(new Set((await failedRows(late.report.failed)).map((row) => row.error_code))).toEqual(new Set(['APIG.0303']));
    expect(onTime.summary.counts).toMatchObject({ deleted: 5, failed: 0 });
  });

  it('never repeats a request refused for a bad signature (wrong SK): one request, the IDs failed with APIG.0301', async () => {
    // Prepare
    stack.emulator.settings.auth = 'aksk';
    const ids = imageIds('wrong-sk', 6);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);

    // Act
    const result = await runJob(authDeps(AKSK_ENV, { MODELARTS_ACCESS_KEY: TEST_ACCESS_KEY, MODELARTS_SECRET_KEY: 'not-the-secret-key-at-all' }), { target, imageIds: ids });

    // Assess
    expect(deletes()).toHaveLength(1);
    expect(result.summary.counts).toMatchObject({ deleted: 0, failed: 6 });
    expect((await failedRows(result.report.failed)).every((row) => row.error_code === 'APIG.0301')).toBe(true);
  });

  it('removes the access key from the gateway message quoting it before it reaches the report', async () => {
    // Prepare: a key the gateway does not know; its answer names the key.
    stack.emulator.settings.auth = 'aksk';
    const ids = imageIds('unknown-ak', 2);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    const unknownAk = 'UNKNOWNAKEXAMPLE1234';

    // Act
    const result = await runJob(authDeps(AKSK_ENV, { MODELARTS_ACCESS_KEY: unknownAk, MODELARTS_SECRET_KEY: TEST_SECRET_KEY }), { target, imageIds: ids });

    // Assess
    const rows = await failedRows(result.report.failed);
    expect(rows.map((row) => row.error_message)).toEqual(['Incorrect IAM authentication information: ak *** not exist.', 'Incorrect IAM authentication information: ak *** not exist.']);
    expect(await readS3Text(stack.s3, result.report.failed)).not.toContain(unknownAk);
  });
});

describe('a non-JSON error body quoting a credential (issue 13)', () => {
  it('is redacted before it is cut to 200 characters: the access key straddling the cut does not reach the report, not even in part', async () => {
    // Prepare: a gateway's HTML page quoting the access key across character 200 (10 of its 20 characters before it).
    stack.emulator.settings.auth = 'aksk';
    const ids = imageIds('html-page', 3);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);
    stack.emulator.injectFaults({ status: 502, rawBody: `<html>${'-'.repeat(184)}${TEST_ACCESS_KEY} refused</html>` });

    // Act
    const result = await runJob(authDeps({ ...AKSK_ENV, MAX_ATTEMPTS: '1' }, AKSK_CREDENTIALS), { target, imageIds: ids });

    // Assess
    const rows = await failedRows(result.report.failed);
    expect(rows.map((row) => row.error_code)).toEqual(['HTTP_502', 'HTTP_502', 'HTTP_502']);
    expect(rows[0]?.error_message).toContain('***');
    expect(await readS3Text(stack.s3, result.report.failed)).not.toContain(TEST_ACCESS_KEY.slice(0, 6));
  });
});

describe('IAM token authentication', () => {
  const TOKEN_ENV = { MODELARTS_AUTH: 'token' };

  it('50 concurrent requests cause exactly one token fetch', async () => {
    // Prepare
    stack.emulator.settings.auth = 'token';
    stack.emulator.settings.latencyMs = 20;
    const ids = imageIds('token-50', 100);
    stack.emulator.seedLabellingJob(PROJECT, JOB, ids);

    // Act
    // A job may not raise its ceiling over the deployment's MAX_IN_FLIGHT: the deployment allows 50 here.
    const result = await runJob(authDeps({ ...TOKEN_ENV, MAX_IN_FLIGHT: '50' }, TOKEN_CREDENTIALS), { target, imageIds: ids, options: { chunkSize: 2, maxInFlight: 50 } });

    // Assess
    expect(stack.emulator.auth.tokenRequests).toBe(1);
    expect(deletes()).toHaveLength(50);
    expect(stack.emulator.maxInFlightSeen).toBeGreaterThan(10);
    expect(result.summary.counts).toMatchObject({ deleted: 100, failed: 0 });
  });

  it('refreshes an expired token once, and the refused requests succeed when repeated', async () => {
    // Prepare: one container (deps) runs two jobs; the token expires between them.
    stack.emulator.settings.auth = 'token';
    stack.emulator.settings.latencyMs = 10;
    const first = imageIds('token-exp-1', 10);
    const second = imageIds('token-exp-2', 40);
    stack.emulator.seedLabellingJob(PROJECT, JOB, [...first, ...second]);
    const deps = authDeps(TOKEN_ENV, TOKEN_CREDENTIALS);
    await runJob(deps, { target, imageIds: first });
    stack.emulator.auth.expireTokens();
    stack.emulator.requests.length = 0;

    // Act
    const result = await runJob(deps, { target, imageIds: second, options: { chunkSize: 5, maxInFlight: 4 } });

    // Assess
    const statuses = deletes().map((r) => `${r.status} ${r.errorCode ?? ''}`.trim());
    const refused = statuses.filter((s) => s === '401 APIG.0307').length;
    expect(stack.emulator.auth.tokenRequests).toBe(2);
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(4);
    expect(statuses.filter((s) => s === '200')).toHaveLength(8);
    expect(result.summary.counts).toMatchObject({ deleted: 40, failed: 0 });
    expect(result.summary.retries).toBe(refused);
  });

  it('a refused refresh fails every remaining ID with CREDENTIALS_REFUSED after exactly one refresh attempt, and stops sending', async () => {
    // Prepare
    stack.emulator.settings.auth = 'token';
    stack.emulator.settings.latencyMs = 10;
    const first = imageIds('token-refused-1', 5);
    const second = imageIds('token-refused-2', 50);
    stack.emulator.seedLabellingJob(PROJECT, JOB, [...first, ...second]);
    const deps = authDeps(TOKEN_ENV, TOKEN_CREDENTIALS);
    await runJob(deps, { target, imageIds: first });
    stack.emulator.auth.expireTokens();
    stack.emulator.settings.refuseTokens = true;
    stack.emulator.requests.length = 0;
    stack.emulator.auth.tokenRequests = 0;

    // Act
    const result = await runJob(deps, { target, imageIds: second, options: { chunkSize: 5, maxInFlight: 4 } });

    // Assess
    expect(stack.emulator.auth.tokenRequests).toBe(1);
    // Only the requests already in flight with the old token reached the service.
    expect(deletes().length).toBeLessThanOrEqual(4);
    expect(deletes().every((r) => r.status === 401)).toBe(true);
    expect(result.summary.status).toBe('completed_with_failures');
    expect(result.summary.counts).toMatchObject({ deleted: 0, failed: 50 });
    const rows = await failedRows(result.report.failed);
    expect(new Set(rows.map((row) => row.error_code))).toEqual(new Set(['CREDENTIALS_REFUSED']));
    expect(rows[0]?.error_message).toContain('IAM refused to issue a token (HTTP 401');
    expect(stack.emulator.labellingJobImages(PROJECT, JOB).size).toBe(50);
  });

  it('the gateway refuses a missing or unknown token with APIG.0301 and an expired one with APIG.0307', async () => {
    // Prepare
    stack.emulator.settings.auth = 'token';
    stack.emulator.settings.tokenTtlMs = 1;
    stack.emulator.seedLabellingJob(PROJECT, JOB, imageIds('token-gw', 1));
    const issued = await fetch(`${stack.env.MODELARTS_ENDPOINT}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: TEST_USER.name, password: TEST_USER.password, domain: { name: TEST_USER.domain } } } }, scope: { project: { name: 'cn-north-4' } } } }),
    });
    const token = issued.headers.get('x-subject-token') ?? '';
    await new Promise((resolve) => setTimeout(resolve, 5));
    const url = `${stack.env.MODELARTS_ENDPOINT}/v1/${PROJECT}/data-annotations/${JOB}/images/delete`;
    const send = async (headers: Record<string, string>) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ image_id: imageIds('token-gw', 1) }) });
      return `${response.status} ${((await response.json()) as { error_code?: string }).error_code}`;
    };

    // Act
    const answers = [await send({}), await send({ 'x-auth-token': 'MIIbogus' }), await send({ 'x-auth-token': token })];

    // Assess
    expect(issued.status).toBe(201);
    expect(answers).toEqual(['401 APIG.0301', '401 APIG.0301', '401 APIG.0307']);
  });
});

describe('the local stack with authentication on', () => {
  it.each(['aksk', 'token'] as const)('in %s mode, passes made-up credentials as MODELARTS_* variables and the job runs signed', async (mode) => {
    // Prepare
    const local = await startLocalStack({ emulator: { auth: mode } });
    try {
      const ids = imageIds(`local-${mode}`, 12);
      local.emulator.seedLabellingJob(PROJECT, JOB, ids);
      const config = loadConfig({ ...local.env, RETRY_BASE_MS: '1', RETRY_MAX_MS: '5' });
      const deps = createCleanupDeps(config, { s3: local.s3, logger: new Logger({ logLevel: 'SILENT' }) }, { env: local.env });

      // Act
      const result = await runManualInvocation({ target, imageIds: ids, options: { chunkSize: 4 } }, deps);

      // Assess
      expect(local.env.MODELARTS_AUTH).toBe(mode);
      expect(result.status === 'completed' && result.summary.counts.deleted).toBe(12);
      expect(local.emulator.requests.filter((r) => r.path !== '/v3/auth/tokens').map((r) => r.status)).toEqual([200, 200, 200]);
      expect(local.emulator.auth.tokenRequests).toBe(mode === 'token' ? 1 : 0);
    } finally {
      await local.stop();
    }
  });
});

describe('secrets stay secret', () => {
  it('no log line, report file or error message of this file holds an AK, SK, security token, password or token', () => {
    // Prepare
    const text = output.join('\n');

    // Act
    const leaked = findLeakedSecrets(text);

    // Assess: the capture did see the jobs' logs and reports, and nothing secret in them.
    expect(text).toContain('"message":"job finished"');
    expect(text).toContain('CREDENTIALS_REFUSED');
    expect(leaked).toEqual([]);
  });
});
