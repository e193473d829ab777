import { readErrorBody } from './readErrorBody.js';
import { classifyNetworkError } from './classifyNetworkError.js';
import { CredentialsError } from '../core/errors.js';
import type { CredentialsLoader, PasswordCredentials } from './modelArtsCredentials.js';

/** Options of {@link createIamTokenProvider}. */
export interface IamTokenProviderOptions {
  /** e.g. `https://iam.cn-north-4.myhuaweicloud.com` */
  iamEndpoint: string;
  loadCredentials: CredentialsLoader<PasswordCredentials>;
  /** Abandon a token request after this long. */
  requestTimeoutMs: number;
  /** Fetch a new token this long before the current one expires (at most half its lifetime). @default 600000 (10 min) */
  refreshMarginMs?: number;
  /**
   * After IAM refused to issue a token, answer every caller with that refusal for this long instead
   * of asking again: a job's remaining requests must not each hammer IAM (and repeated bad
   * attempts can lock the account). @default 300000 (5 min)
   */
  refusalHoldMs?: number;
  /** Lifetime assumed when the answer has no readable `token.expires_at`. @default 3600000 (1 h) */
  fallbackLifetimeMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/** Issues IAM tokens: one cached token, shared by every caller, and one fetch at a time. */
export interface IamTokenProvider {
  /**
   * A valid token: the cached one, or a fresh one. Concurrent callers share one in-flight fetch.
   *
   * @throws {CredentialsError} `CREDENTIALS_REFUSED` when IAM refused (remembered for `refusalHoldMs`),
   *   `CREDENTIALS_UNAVAILABLE` (retryable) when IAM could not be reached or was in trouble.
   */
  getToken(): Promise<string>;
  /**
   * Drops `token` because the service refused it; the next {@link getToken} fetches a new one (and
   * re-reads the credentials). A token other than the cached one is ignored, so many requests
   * refused with the same old token cause one fetch, not one each.
   */
  invalidate(token: string): void;
  /** Token requests sent to IAM so far. */
  readonly fetchCount: number;
}

/**
 * Creates the IAM token provider of token authentication: `POST {iam}/v3/auth/tokens` with the
 * documented password body, scoped to a project; the answer is 201 with the token in
 * `X-Subject-Token` and its expiry in the body's `token.expires_at`. The token is never logged.
 */
export function createIamTokenProvider(options: IamTokenProviderOptions): IamTokenProvider {
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const refreshMarginMs = options.refreshMarginMs ?? 600_000;
  const refusalHoldMs = options.refusalHoldMs ?? 300_000;
  const fallbackLifetimeMs = options.fallbackLifetimeMs ?? 3_600_000;
  const url = `${options.iamEndpoint.replace(/\/+$/, '')}/v3/auth/tokens`;

  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  let refusal: { error: CredentialsError; until: number } | undefined;
  let rereadCredentials = false;
  let fetchCount = 0;

  async function fetchToken(): Promise<string> {
    const credentials = await options.loadCredentials({ forceFetch: rereadCredentials });
    rereadCredentials = false;
    const body = JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: credentials.userName, password: credentials.password, domain: { name: credentials.domainName } } } },
        scope: { project: { name: credentials.projectName } },
      },
    });
    fetchCount += 1;
    const requestedAt = now();
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(options.requestTimeoutMs) });
      text = await response.text();
    } catch (error) {
      const failure = classifyNetworkError(error);
      throw new CredentialsError('CREDENTIALS_UNAVAILABLE', `IAM did not answer the token request: ${failure.code}`, { retryable: true });
    }
    const token = response.headers.get('x-subject-token');
    if (response.status !== 201 || token === null || token === '') {
      const { code, message } = readErrorBody(parseJson(text));
      // Redacted before it is cut: a password straddling the cut would otherwise survive in part.
      const quoted = message === undefined ? undefined : (credentials.password === '' ? message : message.split(credentials.password).join('***')).slice(0, 200);
      const detail = `HTTP ${response.status}${code === undefined ? '' : ` ${code}`}${quoted === undefined ? '' : `: ${quoted}`}`;
      if (response.status === 429 || response.status >= 500) {
        throw new CredentialsError('CREDENTIALS_UNAVAILABLE', `IAM could not issue a token now (${detail})`, { retryable: true, status: response.status });
      }
      const error = new CredentialsError('CREDENTIALS_REFUSED', `IAM refused to issue a token (${detail}); check the IAM user's credentials`, { status: response.status });
      refusal = { error, until: now() + refusalHoldMs };
      throw error;
    }
    const expiry = (parseJson(text) as { token?: { expires_at?: unknown } } | undefined)?.token?.expires_at;
    const expiresAt = typeof expiry === 'string' ? Date.parse(expiry) : Number.NaN;
    const lifetime = Number.isNaN(expiresAt) ? fallbackLifetimeMs : expiresAt - requestedAt;
    // "Shortly before expiry", but never so early that a short-lived token is fetched on every call.
    cached = { token, refreshAt: requestedAt + lifetime - Math.min(refreshMarginMs, lifetime / 2) };
    refusal = undefined;
    return token;
  }

  return {
    getToken() {
      if (cached !== undefined && now() < cached.refreshAt) return Promise.resolve(cached.token);
      if (pending !== undefined) return pending;
      if (refusal !== undefined && now() < refusal.until) return Promise.reject(refusal.error);
      pending = fetchToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate(token) {
      if (cached?.token !== token) return;
      cached = undefined;
      rereadCredentials = true;
    },
    get fetchCount() {
      return fetchCount;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
