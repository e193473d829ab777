import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { z } from 'zod';
import { CredentialsError } from '../core/errors.js';

/** How image-cleanup authenticates towards ModelArts. */
export type AuthMode = 'none' | 'aksk' | 'token';

/** An access key pair for `SDK-HMAC-SHA256` signing; `securityToken` for temporary keys. */
export interface AkSkCredentials {
  kind: 'aksk';
  accessKey: string;
  secretKey: string;
  /** Sent as `X-Security-Token` (temporary credentials). */
  securityToken?: string;
  /** Sent as `X-Project-Id` when set. */
  projectId?: string;
}

/** An IAM user's password, exchanged for a token at `POST /v3/auth/tokens`. */
export interface PasswordCredentials {
  kind: 'token';
  userName: string;
  password: string;
  /** The account (domain) the IAM user belongs to. */
  domainName: string;
  /** The token's scope: the project name, usually the region, e.g. `cn-north-4`. */
  projectName: string;
  /** Sent as `X-Project-Id` when set. */
  projectId?: string;
}

/** Credentials of the given mode. */
export type CredentialsFor<M extends 'aksk' | 'token'> = M extends 'aksk' ? AkSkCredentials : PasswordCredentials;

/** Where credentials are read from. Secrets Manager or SSM when deployed; the environment on the local stack only. */
export type CredentialsSource =
  | { kind: 'secretsManager'; secretId: string; maxAgeSeconds: number }
  | { kind: 'ssm'; parameterName: string; maxAgeSeconds: number }
  | { kind: 'env'; env: Readonly<Record<string, string | undefined>> };

/** Reads a secret's or parameter's value; the AWS calls, injected in tests (no local Secrets Manager/SSM exists). */
export type SecretValueFetcher = (name: string, options: { maxAge: number; forceFetch: boolean }) => Promise<string | Uint8Array | undefined>;

/** Options of {@link createCredentialsLoader}. */
export interface CredentialsLoaderDeps {
  /** @default Powertools `getSecret` (cached in memory for `maxAge` seconds) */
  fetchSecret?: SecretValueFetcher;
  /** @default Powertools `getParameter` with decryption (cached in memory for `maxAge` seconds) */
  fetchParameter?: SecretValueFetcher;
}

/** Loads credentials; `forceFetch` skips the cache (after the service refused what we had). */
export type CredentialsLoader<C> = (options?: { forceFetch?: boolean }) => Promise<C>;

const nonEmpty = (what: string) => z.string({ error: `expected ${what} as a non-empty string` }).min(1, `expected ${what} as a non-empty string`);
const optionalNonEmpty = (what: string) => nonEmpty(what).optional();

const akskSchema = z.object({
  accessKey: nonEmpty('the access key (AK)'),
  secretKey: nonEmpty('the secret key (SK)'),
  securityToken: optionalNonEmpty('the security token of temporary credentials'),
  projectId: optionalNonEmpty('the project ID'),
});

const passwordSchema = z.object({
  userName: nonEmpty('the IAM user name'),
  password: nonEmpty('the IAM user password'),
  domainName: nonEmpty('the account (domain) name'),
  projectName: nonEmpty('the project name, e.g. cn-north-4'),
  projectId: optionalNonEmpty('the project ID'),
});

// Environment variable of each field, for the local stack.
const ENV_NAMES: Record<string, string> = {
  accessKey: 'MODELARTS_ACCESS_KEY',
  secretKey: 'MODELARTS_SECRET_KEY',
  securityToken: 'MODELARTS_SECURITY_TOKEN',
  projectId: 'MODELARTS_PROJECT_ID',
  userName: 'MODELARTS_IAM_USER',
  password: 'MODELARTS_IAM_PASSWORD',
  domainName: 'MODELARTS_IAM_DOMAIN',
  projectName: 'MODELARTS_IAM_PROJECT',
};

const NOT_RETRYABLE_AWS_ERRORS = new Set(['AccessDeniedException', 'ResourceNotFoundException', 'ParameterNotFound', 'DecryptionFailure', 'InvalidKeyId']);

/**
 * Creates the loader of ModelArts credentials for one mode. Nothing is read until the first call
 * (no AWS call at cold start). From Secrets Manager or SSM Parameter Store the value is a JSON
 * object (see the docs/configuration.md "Authentication"), validated with zod and cached by Powertools
 * Parameters for `maxAgeSeconds`; from the environment (local stack only) the `MODELARTS_*`
 * variables. Errors name the source and the fields, never a value.
 *
 * @throws {CredentialsError} `INVALID_CREDENTIALS` for a malformed value, `CREDENTIALS_UNAVAILABLE`
 *   when the store cannot be read (`retryable` unless access was denied or the name is unknown).
 */
export function createCredentialsLoader<M extends 'aksk' | 'token'>(mode: M, source: CredentialsSource, deps: CredentialsLoaderDeps = {}): CredentialsLoader<CredentialsFor<M>> {
  const schema = mode === 'aksk' ? akskSchema : passwordSchema;
  let fromEnv: CredentialsFor<M> | undefined;

  function validate(value: unknown, where: string, nameOf: (field: string) => string): CredentialsFor<M> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      // Issue paths and our own messages only: zod's input values must never reach an error.
      const issues = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? nameOf(issue.path.map(String).join('.')) : '(value)'}: ${issue.path.length > 0 ? issue.message : 'expected a JSON object'}`);
      throw new CredentialsError('INVALID_CREDENTIALS', `Invalid ModelArts ${mode} credentials in ${where}: ${issues.join('; ')}`);
    }
    return { kind: mode, ...parsed.data } as unknown as CredentialsFor<M>;
  }

  return async (options = {}) => {
    if (source.kind === 'env') {
      fromEnv ??= validate(
        Object.fromEntries(Object.entries(ENV_NAMES).map(([field, name]) => [field, source.env[name] === '' ? undefined : source.env[name]])),
        'the environment',
        (field) => ENV_NAMES[field] ?? field,
      );
      return fromEnv;
    }
    const where = source.kind === 'secretsManager' ? `Secrets Manager secret ${source.secretId}` : `SSM parameter ${source.parameterName}`;
    let raw: string | Uint8Array | undefined;
    try {
      const fetchOptions = { maxAge: source.maxAgeSeconds, forceFetch: options.forceFetch ?? false };
      raw = source.kind === 'secretsManager'
        ? await (deps.fetchSecret ?? defaultFetchSecret)(source.secretId, fetchOptions)
        : await (deps.fetchParameter ?? defaultFetchParameter)(source.parameterName, fetchOptions);
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new CredentialsError('CREDENTIALS_UNAVAILABLE', `Could not read the ModelArts credentials from ${where}: ${name}`, {
        retryable: !NOT_RETRYABLE_AWS_ERRORS.has(name),
        cause: error,
      });
    }
    if (raw === undefined) throw new CredentialsError('INVALID_CREDENTIALS', `Invalid ModelArts ${mode} credentials in ${where}: the value is empty`);
    const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // JSON.parse's own message quotes the input: never pass it on.
      throw new CredentialsError('INVALID_CREDENTIALS', `Invalid ModelArts ${mode} credentials in ${where}: the value is not valid JSON`);
    }
    return validate(json, where, (field) => field);
  };
}

const defaultFetchSecret: SecretValueFetcher = (name, options) => getSecret(name, options);
const defaultFetchParameter: SecretValueFetcher = (name, options) => getParameter(name, { ...options, decrypt: true });
