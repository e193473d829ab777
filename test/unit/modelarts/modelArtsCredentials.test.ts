import { describe, expect, it } from 'vitest';
import { CredentialsError } from '../../../lib/core/errors.js';
import { createCredentialsLoader, type SecretValueFetcher } from '../../../lib/modelarts/modelArtsCredentials.js';
import { TEST_ACCESS_KEY, TEST_PASSWORD, TEST_SECRET_KEY, TEST_SECURITY_TOKEN } from '../../support/testCredentials.js';

// There is no local Secrets Manager or SSM server: the store is an injected fetcher here. It
// stands in for Powertools' getSecret/getParameter, which the loader calls with the same options.
function fakeStore(values: Array<string | Uint8Array | undefined | Error>) {
  const calls: Array<{ name: string; maxAge: number; forceFetch: boolean }> = [];
  const fetcher: SecretValueFetcher = (name, options) => {
    calls.push({ name, ...options });
    const value = values[Math.min(calls.length - 1, values.length - 1)];
    if (value instanceof Error) return Promise.reject(value);
    return Promise.resolve(value);
  };
  return { fetcher, calls };
}

const akskJson = JSON.stringify({ accessKey: TEST_ACCESS_KEY, secretKey: TEST_SECRET_KEY, securityToken: TEST_SECURITY_TOKEN });
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:modelarts-abc';

describe('createCredentialsLoader', () => {
  it('reads nothing until first used, then reads the secret with maxAge and forceFetch as asked', async () => {
    // Prepare
    const store = fakeStore([akskJson]);
    const load = createCredentialsLoader('aksk', { kind: 'secretsManager', secretId: ARN, maxAgeSeconds: 300 }, { fetchSecret: store.fetcher });
    const callsBeforeUse = store.calls.length;

    // Act
    const credentials = await load();
    await load({ forceFetch: true });

    // Assess
    expect(callsBeforeUse).toBe(0);
    expect(credentials).toEqual({ kind: 'aksk', accessKey: TEST_ACCESS_KEY, secretKey: TEST_SECRET_KEY, securityToken: TEST_SECURITY_TOKEN });
    expect(store.calls).toEqual([
      { name: ARN, maxAge: 300, forceFetch: false },
      { name: ARN, maxAge: 300, forceFetch: true },
    ]);
  });

  it('reads token credentials from an SSM parameter, binary values included', async () => {
    // Prepare
    const json = JSON.stringify({ userName: 'bot', password: TEST_PASSWORD, domainName: 'acme', projectName: 'cn-north-4', projectId: '0123456789abcdef0123456789abcdef' });
    const store = fakeStore([new TextEncoder().encode(json)]);
    const load = createCredentialsLoader('token', { kind: 'ssm', parameterName: '/image-cleanup/modelarts', maxAgeSeconds: 60 }, { fetchParameter: store.fetcher });

    // Act
    const credentials = await load();

    // Assess
    expect(credentials).toMatchObject({ kind: 'token', userName: 'bot', projectName: 'cn-north-4', projectId: '0123456789abcdef0123456789abcdef' });
  });

  const malformed: Array<[string, string, string]> = [
    ['a value that is not JSON', `accessKey=${TEST_ACCESS_KEY};secretKey=${TEST_SECRET_KEY}`, 'not valid JSON'],
    ['a missing secret key', JSON.stringify({ accessKey: TEST_ACCESS_KEY }), 'secretKey: expected the secret key (SK)'],
    ['a number for the access key', JSON.stringify({ accessKey: 12345678, secretKey: TEST_SECRET_KEY }), 'accessKey: expected the access key (AK)'],
    ['a bare string', JSON.stringify(TEST_SECRET_KEY), '(value): expected a JSON object'],
  ];

  it.each(malformed)('rejects %s, naming the field and the source, never the value', async (_label, value, expected) => {
    // Prepare
    const store = fakeStore([value]);
    const load = createCredentialsLoader('aksk', { kind: 'secretsManager', secretId: ARN, maxAgeSeconds: 300 }, { fetchSecret: store.fetcher });

    // Act
    const error = await load().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const message = (error as Error).message;
    expect(message).toContain(expected);
    expect(message).toContain(ARN);
    expect(message).not.toContain(TEST_SECRET_KEY);
    expect(message).not.toContain(TEST_ACCESS_KEY);
  });

  it('reports a store that cannot be read: access denied is final, a network error retryable', async () => {
    // Prepare
    const denied = Object.assign(new Error(`User is not authorized; secret ${ARN}`), { name: 'AccessDeniedException' });
    const network = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    const store = fakeStore([denied, network]);
    const load = createCredentialsLoader('aksk', { kind: 'secretsManager', secretId: ARN, maxAgeSeconds: 300 }, { fetchSecret: store.fetcher });

    // Act
    const first = await load().catch((e: unknown) => e);
    const second = await load().catch((e: unknown) => e);

    // Assess
    expect(first).toMatchObject({ code: 'CREDENTIALS_UNAVAILABLE', retryable: false });
    expect((first as Error).message).toContain('AccessDeniedException');
    expect(second).toMatchObject({ code: 'CREDENTIALS_UNAVAILABLE', retryable: true });
  });

  it('reads the MODELARTS_* environment variables on the local stack, and names a missing one', async () => {
    // Prepare
    const good = createCredentialsLoader('aksk', { kind: 'env', env: { MODELARTS_ACCESS_KEY: TEST_ACCESS_KEY, MODELARTS_SECRET_KEY: TEST_SECRET_KEY, MODELARTS_SECURITY_TOKEN: '' } });
    const bad = createCredentialsLoader('token', { kind: 'env', env: { MODELARTS_IAM_USER: 'bot', MODELARTS_IAM_PASSWORD: TEST_PASSWORD, MODELARTS_IAM_DOMAIN: 'acme' } });

    // Act
    const credentials = await good();
    const error = await bad().catch((e: unknown) => e);

    // Assess
    expect(credentials).toEqual({ kind: 'aksk', accessKey: TEST_ACCESS_KEY, secretKey: TEST_SECRET_KEY });
    expect((error as Error).message).toBe('Invalid ModelArts token credentials in the environment: MODELARTS_IAM_PROJECT: expected the project name, e.g. cn-north-4 as a non-empty string');
  });
});
