import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** An IAM user the emulator's `/v3/auth/tokens` knows. */
export interface EmulatorUser {
  name: string;
  password: string;
  domain: string;
  /** Project names a token may be scoped to. */
  projects: string[];
}

/** An access key pair the emulator's gateway accepts; `securityToken` makes it temporary. */
export interface EmulatorAccessKey {
  accessKey: string;
  secretKey: string;
  securityToken?: string;
}

/** Settings of the emulator's authentication, read live (tests change them while it runs). */
export interface EmulatorAuthSettings {
  /** What the delete calls require: nothing, an AK/SK signature, or an IAM token. @default 'none' */
  auth: 'none' | 'aksk' | 'token';
  /** Lifetime of the tokens `/v3/auth/tokens` issues. @default 86400000 (24 h, as documented) */
  tokenTtlMs: number;
  /** When true, `/v3/auth/tokens` answers 401 to everyone (as after a password change). @default false */
  refuseTokens: boolean;
}

/** The gateway's verdict on a request's credentials. */
export type AuthVerdict = { ok: true } | { ok: false; status: number; code: string; message: string };

/** An answer of the emulated IAM. */
export interface IamAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

// Documented: X-Sdk-Date must be within 15 minutes of the gateway's clock.
const MAX_CLOCK_SKEW_MS = 15 * 60_000;

/**
 * Emulated tokens start with this prefix (real ones start with `MII`), so a test can search any
 * output for a leaked token without knowing which were issued.
 */
export const EMULATOR_TOKEN_PREFIX = 'MIIemu';

/**
 * The emulator's IAM and API-gateway authentication: issues tokens at `POST /v3/auth/tokens`, and
 * verifies `X-Auth-Token` or `SDK-HMAC-SHA256` signatures on the delete calls. The signature check
 * is written here independently of lib/modelarts/signRequest.ts, so a bug in one cannot hide in both.
 */
export class EmulatorAuth {
  public readonly users: EmulatorUser[] = [];
  public readonly accessKeys: EmulatorAccessKey[] = [];
  /** Token requests received at `/v3/auth/tokens`, issued or refused. */
  public tokenRequests = 0;
  private readonly tokens = new Map<string, { expiresAt: number }>();

  public constructor(private readonly settings: EmulatorAuthSettings) {}

  /** Makes every token issued so far expired (as a credential change may do). */
  public expireTokens(): void {
    for (const token of this.tokens.values()) token.expiresAt = 0;
  }

  /** Answers `POST /v3/auth/tokens`: 201 with `X-Subject-Token` for a known user and project, else 400/401. */
  public issueToken(raw: string, now: number): IamAnswer {
    this.tokenRequests += 1;
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return iamError(400, 'The request body is not valid JSON.', 'Bad Request');
    }
    const auth = (body as { auth?: unknown } | null)?.auth as
      | { identity?: { methods?: unknown; password?: { user?: { name?: unknown; password?: unknown; domain?: { name?: unknown } } } }; scope?: { project?: { name?: unknown } } }
      | undefined;
    const user = auth?.identity?.password?.user;
    const projectName = auth?.scope?.project?.name;
    const methods = auth?.identity?.methods;
    if (!Array.isArray(methods) || !methods.includes('password') || typeof user?.name !== 'string' || typeof user.password !== 'string'
      || typeof user.domain?.name !== 'string' || typeof projectName !== 'string') {
      return iamError(400, 'Invalid auth body: expected auth.identity.methods ["password"], auth.identity.password.user {name, password, domain.name} and auth.scope.project.name.', 'Bad Request');
    }
    const known = this.users.find((u) => u.name === user.name && u.domain === user.domain?.name);
    if (this.settings.refuseTokens || known === undefined || known.password !== user.password) {
      return iamError(401, 'The username or password is wrong.', 'Unauthorized');
    }
    if (!known.projects.includes(projectName)) return iamError(400, 'The project does not exist.', 'Bad Request');
    const token = EMULATOR_TOKEN_PREFIX + randomBytes(48).toString('base64url');
    const expiresAt = now + this.settings.tokenTtlMs;
    this.tokens.set(token, { expiresAt });
    return {
      status: 201,
      headers: { 'x-subject-token': token },
      body: {
        token: {
          expires_at: new Date(expiresAt).toISOString(),
          issued_at: new Date(now).toISOString(),
          methods: ['password'],
          project: { name: projectName },
          user: { name: known.name, domain: { name: known.domain } },
        },
      },
    };
  }

  /** Checks the credentials of a delete call as the API gateway would, in the configured mode. */
  public verify(request: { method: string; rawUrl: string; headers: IncomingHttpHeaders; body: string }, now: number): AuthVerdict {
    if (this.settings.auth === 'none') return { ok: true };
    if (this.settings.auth === 'token') return this.verifyToken(header(request.headers, 'x-auth-token'), now);
    return this.verifySignature(request, now);
  }

  private verifyToken(token: string | undefined, now: number): AuthVerdict {
    if (token === undefined || token === '') return refused('APIG.0301', 'Incorrect IAM authentication information: the token is missing.');
    const known = this.tokens.get(token);
    if (known === undefined) return refused('APIG.0301', 'Incorrect IAM authentication information: decrypt token fail.');
    if (now >= known.expiresAt) return refused('APIG.0307', 'The token must be updated.');
    return { ok: true };
  }

  private verifySignature(request: { method: string; rawUrl: string; headers: IncomingHttpHeaders; body: string }, now: number): AuthVerdict {
    const authorization = header(request.headers, 'authorization') ?? '';
    const match = /^SDK-HMAC-SHA256 Access=([^,\s]+), SignedHeaders=([^,\s]+), Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!match) return refused('APIG.0301', 'Incorrect IAM authentication information: Authorization format incorrect.');
    const [, accessKey = '', signedHeaderList = '', signature = ''] = match;
    const key = this.accessKeys.find((candidate) => candidate.accessKey === accessKey);
    // The real gateway names the unknown AK in its message; the client must not pass that on.
    if (key === undefined) return refused('APIG.0301', `Incorrect IAM authentication information: ak ${accessKey} not exist.`);

    const signedHeaders = signedHeaderList.split(';');
    const sorted = [...signedHeaders].sort();
    if (signedHeaders.some((name, i) => name !== name.toLowerCase() || name !== sorted[i])) {
      return refused('APIG.0301', 'Incorrect IAM authentication information: SignedHeaders must be lower-case and sorted.');
    }
    for (const required of ['host', 'content-type', 'x-sdk-date']) {
      if (!signedHeaders.includes(required)) return refused('APIG.0301', `Incorrect IAM authentication information: header ${required} must be signed.`);
    }
    const sentToken = header(request.headers, 'x-security-token');
    if (key.securityToken !== undefined && (sentToken !== key.securityToken || !signedHeaders.includes('x-security-token'))) {
      return refused('APIG.0301', 'Incorrect IAM authentication information: a signed, valid X-Security-Token is required for temporary credentials.');
    }

    const sdkDate = header(request.headers, 'x-sdk-date') ?? '';
    const dateMatch = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(sdkDate);
    if (!dateMatch) return refused('APIG.0301', 'Incorrect IAM authentication information: X-Sdk-Date format incorrect.');
    const [, y, mo, d, h, mi, s] = dateMatch.map(Number);
    const signedAt = Date.UTC(y!, mo! - 1, d, h, mi, s);
    if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) return refused('APIG.0303', 'Signature expired: X-Sdk-Date is more than 15 minutes from the gateway clock.');

    const expected = this.expectedSignature(request, signedHeaders, sdkDate, key.secretKey);
    if (expected !== signature) return refused('APIG.0301', 'Incorrect IAM authentication information: verify aksk signature fail.');
    return { ok: true };
  }

  // Recomputes the signature from the request as received: raw path and query, header values as
  // they arrived, the body's bytes.
  private expectedSignature(request: { method: string; rawUrl: string; headers: IncomingHttpHeaders; body: string }, signedHeaders: string[], sdkDate: string, secretKey: string): string {
    const queryStart = request.rawUrl.indexOf('?');
    const rawPath = queryStart === -1 ? request.rawUrl : request.rawUrl.slice(0, queryStart);
    const rawQuery = queryStart === -1 ? '' : request.rawUrl.slice(queryStart + 1);

    let path = rawPath.split('/').map((segment) => escapeStrict(unescapeLenient(segment))).join('/');
    if (path[path.length - 1] !== '/') path = `${path}/`;
    const pairs: Array<[string, string]> = [];
    for (const part of rawQuery === '' ? [] : rawQuery.split('&')) {
      const eq = part.indexOf('=');
      const name = eq === -1 ? part : part.slice(0, eq);
      const value = eq === -1 ? '' : part.slice(eq + 1);
      pairs.push([unescapeLenient(name.replace(/\+/g, ' ')), unescapeLenient(value.replace(/\+/g, ' '))]);
    }
    // Sorted by the decoded key, then value, and escaped afterwards, as Huawei's SDK core signs
    // (`?az=1&aé=2` puts `az` first, its escaped form `a%C3%A9` would sort first).
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    const query = pairs.map(([k, v]) => `${escapeStrict(k)}=${escapeStrict(v)}`).join('&');
    const headerBlock = signedHeaders.map((name) => `${name}:${(header(request.headers, name) ?? '').trim()}\n`).join('');
    const canonical = `${request.method}\n${path}\n${query}\n${headerBlock}\n${signedHeaders.join(';')}\n${sha256Hex(request.body)}`;
    const stringToSign = `SDK-HMAC-SHA256\n${sdkDate}\n${sha256Hex(canonical)}`;
    return createHmac('sha256', secretKey).update(stringToSign).digest('hex');
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function refused(code: string, message: string): AuthVerdict {
  return { ok: false, status: 401, code, message };
}

function iamError(status: number, message: string, title: string): IamAnswer {
  // IAM answers in the nested form `{"error":{"code","message","title"}}`.
  return { status, headers: {}, body: { error: { code: status, message, title } } };
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// Percent-escape every byte except A-Z a-z 0-9 - _ . ~ (written byte by byte, unlike lib/modelarts/signRequest.ts).
function escapeStrict(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function unescapeLenient(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
