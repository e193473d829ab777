import { isRenewable } from './classifyFailure.js';
import { createIamTokenProvider, type IamTokenProvider } from './iamTokenProvider.js';
import type { CredentialRenewer, RequestAuthorizer } from './modelArtsClient.js';
import type { AkSkCredentials, CredentialsLoader, PasswordCredentials } from './modelArtsCredentials.js';
import { formatSdkDate, signRequest } from './signRequest.js';

/** Authentication hooks for {@link createModelArtsClient}: sign or stamp each request, and renew refused credentials once. */
export interface ModelArtsAuth {
  mode: 'aksk' | 'token';
  authorize: RequestAuthorizer;
  renewCredentials: CredentialRenewer;
  /** Replaces every credential this authorizer has used (AK, SK, security token, recent tokens) with `***`. */
  redact: (text: string) => string;
  /** The token provider, in token mode. */
  tokens?: IamTokenProvider;
}

/** Options of {@link createAuthorizer}. */
export type AuthorizerOptions =
  | { mode: 'aksk'; loadCredentials: CredentialsLoader<AkSkCredentials>; now?: () => number }
  | {
    mode: 'token';
    loadCredentials: CredentialsLoader<PasswordCredentials>;
    iamEndpoint: string;
    requestTimeoutMs: number;
    now?: () => number;
    fetch?: typeof fetch;
    /** Use this provider instead of creating one (shared by several clients). */
    tokens?: IamTokenProvider;
  };

/**
 * Creates the authentication of the ModelArts client.
 * - `aksk`: every request carries `Host`, `Content-Type`, `X-Sdk-Date` (and `X-Security-Token`
 *   for temporary keys, `X-Project-Id` when configured), all signed with `SDK-HMAC-SHA256`.
 *   A request refused as "signature expired" (APIG.0303) is re-signed with a fresh date, once.
 * - `token`: every request carries `X-Auth-Token` from the shared IAM token provider; a token the
 *   service refuses (APIG.0301/0307, ModelArts.4504) is dropped and the request repeated, once,
 *   with a new one.
 */
export function createAuthorizer(options: AuthorizerOptions): ModelArtsAuth {
  const now = options.now ?? Date.now;
  // Credentials seen, newest last; a few tokens are kept since answers may quote a refused one.
  const used: string[] = [];
  const remember = (...values: Array<string | undefined>) => {
    for (const value of values) {
      if (value === undefined || value.length < 4 || used.includes(value)) continue;
      used.push(value);
      if (used.length > 16) used.shift();
    }
  };
  const redact = (text: string) => used.reduce((clean, secret) => clean.split(secret).join('***'), text);

  if (options.mode === 'aksk') {
    const { loadCredentials } = options;
    return {
      mode: 'aksk',
      async authorize(request) {
        const credentials = await loadCredentials();
        remember(credentials.accessKey, credentials.secretKey, credentials.securityToken);
        const { headers } = request;
        // Exactly these headers are signed, and sent with exactly these values.
        const signed: Record<string, string> = {
          host: request.url.host,
          'content-type': headers['content-type'] ?? 'application/json',
          'x-sdk-date': formatSdkDate(now()),
          ...(credentials.securityToken === undefined ? {} : { 'x-security-token': credentials.securityToken }),
          ...(credentials.projectId === undefined ? {} : { 'x-project-id': credentials.projectId }),
        };
        const { authorization } = signRequest({ method: request.method, url: request.url, headers: signed, body: request.body }, credentials);
        Object.assign(headers, signed, { authorization });
      },
      // A fresh date comes with the next authorize() call: nothing to do but say yes, for APIG.0303 only.
      renewCredentials: (failure) => isRenewable('aksk', failure),
      redact,
    };
  }

  const tokens = options.tokens ?? createIamTokenProvider({
    iamEndpoint: options.iamEndpoint,
    loadCredentials: options.loadCredentials,
    requestTimeoutMs: options.requestTimeoutMs,
    now,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  const { loadCredentials } = options;
  return {
    mode: 'token',
    tokens,
    async authorize(request) {
      const token = await tokens.getToken();
      const { projectId, password } = await loadCredentials();
      remember(token, password);
      request.headers['x-auth-token'] = token;
      if (projectId !== undefined) request.headers['x-project-id'] = projectId;
    },
    renewCredentials(failure, request) {
      if (!isRenewable('token', failure)) return false;
      const refused = request.headers['x-auth-token'];
      if (refused !== undefined) tokens.invalidate(refused);
      return true;
    },
    redact,
  };
}
