import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CredentialsError } from '../../../lib/core/errors.js';
import { createIamTokenProvider } from '../../../lib/modelarts/iamTokenProvider.js';
import type { PasswordCredentials } from '../../../lib/modelarts/modelArtsCredentials.js';
import { ModelArtsEmulator } from '../../../local/emulator/modelArtsEmulator.js';
import { TEST_PASSWORD, TEST_USER } from '../../support/testCredentials.js';

// The provider talks to the emulator's real `/v3/auth/tokens`; only the provider's clock is injected.
let emulator: ModelArtsEmulator;
const credentials: PasswordCredentials = { kind: 'token', userName: TEST_USER.name, password: TEST_PASSWORD, domainName: TEST_USER.domain, projectName: 'cn-north-4' };

beforeAll(async () => {
  emulator = new ModelArtsEmulator();
  emulator.auth.users.push(TEST_USER);
  await emulator.start();
});
afterAll(async () => {
  await emulator.stop();
});
beforeEach(() => {
  emulator.auth.tokenRequests = 0;
  Object.assign(emulator.settings, { tokenTtlMs: 86_400_000, refuseTokens: false });
});

function providerWith(options: { now?: () => number; loads?: Array<{ forceFetch?: boolean }> } = {}) {
  const loads = options.loads ?? [];
  return createIamTokenProvider({
    iamEndpoint: emulator.url,
    requestTimeoutMs: 5_000,
    loadCredentials: (o = {}) => {
      loads.push(o);
      return Promise.resolve(credentials);
    },
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}

describe('createIamTokenProvider', () => {
  it('shares one fetch among 50 concurrent callers, then serves the cached token', async () => {
    // Prepare
    const provider = providerWith();

    // Act
    const tokens = await Promise.all(Array.from({ length: 50 }, () => provider.getToken()));
    const later = await provider.getToken();

    // Assess
    expect(new Set(tokens).size).toBe(1);
    expect(later).toBe(tokens[0]);
    expect(emulator.auth.tokenRequests).toBe(1);
    expect(provider.fetchCount).toBe(1);
  });

  it('fetches a new token shortly before expires_at, not after it', async () => {
    // Prepare: a 1-hour token; the provider's clock is moved forward by hand.
    emulator.settings.tokenTtlMs = 3_600_000;
    let offset = 0;
    const provider = providerWith({ now: () => Date.now() + offset });
    const first = await provider.getToken();

    // Act
    offset = 3_600_000 - 11 * 60_000; // 11 min before expiry: still cached (margin 10 min)
    const stillCached = await provider.getToken();
    offset = 3_600_000 - 9 * 60_000; // 9 min before expiry: refreshed
    const refreshed = await provider.getToken();

    // Assess
    expect(stillCached).toBe(first);
    expect(refreshed).not.toBe(first);
    expect(emulator.auth.tokenRequests).toBe(2);
  });

  it('refetches once after invalidate(current token), re-reading the credentials; a stale token is ignored', async () => {
    // Prepare
    const loads: Array<{ forceFetch?: boolean }> = [];
    const provider = providerWith({ loads });
    const first = await provider.getToken();

    // Act
    provider.invalidate(first);
    provider.invalidate(first);
    const [a, b] = await Promise.all([provider.getToken(), provider.getToken()]);
    provider.invalidate(first); // a request refused with the old token, answered late
    const c = await provider.getToken();

    // Assess
    expect(a).not.toBe(first);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(emulator.auth.tokenRequests).toBe(2);
    expect(loads.map((l) => l.forceFetch)).toEqual([false, true]);
  });

  it('remembers a refusal: callers get the same CredentialsError without asking IAM again, until the hold ends', async () => {
    // Prepare
    emulator.settings.refuseTokens = true;
    let offset = 0;
    const provider = providerWith({ now: () => Date.now() + offset });

    // Act
    const errors = await Promise.all(Array.from({ length: 10 }, () => provider.getToken().catch((error: unknown) => error)));
    const again = await provider.getToken().catch((error: unknown) => error);
    const requestsDuringHold = emulator.auth.tokenRequests;
    offset = 5 * 60_000 + 1;
    emulator.settings.refuseTokens = false;
    const afterHold = await provider.getToken();

    // Assess
    for (const error of [...errors, again]) {
      expect(error).toBeInstanceOf(CredentialsError);
      expect(error).toMatchObject({ code: 'CREDENTIALS_REFUSED', status: 401, retryable: false });
      expect((error as Error).message).toContain('IAM refused to issue a token');
      expect((error as Error).message).not.toContain(TEST_PASSWORD);
    }
    expect(requestsDuringHold).toBe(1);
    expect(afterHold.length).toBeGreaterThan(0);
    expect(emulator.auth.tokenRequests).toBe(2);
  });

  it('reports an unreachable IAM as retryable CREDENTIALS_UNAVAILABLE, not as a refusal', async () => {
    // Prepare: a port nobody listens on (the emulator's, after a dedicated one was stopped).
    const gone = new ModelArtsEmulator();
    const url = await gone.start();
    await gone.stop();
    const provider = createIamTokenProvider({ iamEndpoint: url, requestTimeoutMs: 2_000, loadCredentials: () => Promise.resolve(credentials) });

    // Act
    const error = await provider.getToken().catch((e: unknown) => e);
    const second = await provider.getToken().catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ code: 'CREDENTIALS_UNAVAILABLE', retryable: true });
    expect(second).toMatchObject({ code: 'CREDENTIALS_UNAVAILABLE' });
    expect(provider.fetchCount).toBe(2);
  });

  it('redacts the password from an IAM message quoting it before cutting the message to 200 characters, a password straddling the cut included', async () => {
    // Prepare: an IAM that quotes the password across character 200 of its message (a local
    // server: the emulator's IAM answers fixed messages). The password is made up for this test.
    const password = 'Straddling-Pa55word-example';
    const message = `${'m'.repeat(190)}${password} is wrong`;
    const iam = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 401, message, title: 'Unauthorized' } }));
    });
    await new Promise<void>((resolve) => iam.listen(0, '127.0.0.1', resolve));
    const provider = createIamTokenProvider({
      iamEndpoint: `http://127.0.0.1:${(iam.address() as AddressInfo).port}`,
      requestTimeoutMs: 2_000,
      loadCredentials: () => Promise.resolve({ ...credentials, password }),
    });

    // Act
    const error = await provider.getToken().catch((e: unknown) => e);
    iam.closeAllConnections();
    await new Promise((resolve) => iam.close(resolve));

    // Assess
    expect(error).toMatchObject({ code: 'CREDENTIALS_REFUSED' });
    expect((error as Error).message).toContain('***');
    expect((error as Error).message).not.toContain(password.slice(0, 6));
  });
});
