import type { Clock } from '../core/clock.js';
import type { Config } from '../config/config.js';
import { createAuthorizer, type ModelArtsAuth } from '../modelarts/createAuthorizer.js';
import { ConfigError, type ValidationIssue } from '../core/errors.js';
import { createCredentialsLoader, type CredentialsLoaderDeps, type CredentialsSource } from '../modelarts/modelArtsCredentials.js';

/** What {@link createAuthFromConfig} needs besides the configuration. */
export interface AuthFromConfigDeps extends CredentialsLoaderDeps {
  /** Where `MODELARTS_ACCESS_KEY` and friends are read on the local stack. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  clock?: Pick<Clock, 'now'>;
  fetch?: typeof fetch;
}

/**
 * Builds the ModelArts authentication the configuration asks for (`MODELARTS_AUTH`), or undefined
 * for `none`. Creates closures only: credentials are read at the first request, not at cold start.
 * Credentials come from `MODELARTS_CREDENTIALS_SECRET_ARN` (Secrets Manager) or
 * `MODELARTS_CREDENTIALS_PARAMETER` (SSM), or, when neither is set, from `MODELARTS_*`
 * environment variables, which is refused inside AWS Lambda (environment variables are visible
 * in the console).
 *
 * @throws {ConfigError} naming the variables that contradict each other or are missing.
 */
export function createAuthFromConfig(config: Config, deps: AuthFromConfigDeps = {}): ModelArtsAuth | undefined {
  const mode = config.MODELARTS_AUTH;
  if (mode === 'none') return undefined;
  const env = deps.env ?? process.env;
  const issues: ValidationIssue[] = [];
  if (mode === 'token' && config.MODELARTS_IAM_ENDPOINT === undefined) {
    issues.push({ path: 'MODELARTS_IAM_ENDPOINT', message: 'expected the IAM endpoint URL when MODELARTS_AUTH is token, e.g. https://iam.cn-north-4.myhuaweicloud.com' });
  }
  if (config.MODELARTS_CREDENTIALS_SECRET_ARN !== undefined && config.MODELARTS_CREDENTIALS_PARAMETER !== undefined) {
    issues.push({ path: 'MODELARTS_CREDENTIALS_PARAMETER', message: 'expected only one of MODELARTS_CREDENTIALS_SECRET_ARN and MODELARTS_CREDENTIALS_PARAMETER' });
  }
  const inLambda = (env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_');
  if (config.MODELARTS_CREDENTIALS_SECRET_ARN === undefined && config.MODELARTS_CREDENTIALS_PARAMETER === undefined && inLambda) {
    issues.push({ path: 'MODELARTS_CREDENTIALS_SECRET_ARN', message: `expected a Secrets Manager secret (or MODELARTS_CREDENTIALS_PARAMETER) when MODELARTS_AUTH is ${mode}: credentials from environment variables are for the local stack only` });
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const maxAgeSeconds = config.MODELARTS_CREDENTIALS_MAX_AGE_S;
  const source: CredentialsSource = config.MODELARTS_CREDENTIALS_SECRET_ARN !== undefined
    ? { kind: 'secretsManager', secretId: config.MODELARTS_CREDENTIALS_SECRET_ARN, maxAgeSeconds }
    : config.MODELARTS_CREDENTIALS_PARAMETER !== undefined
      ? { kind: 'ssm', parameterName: config.MODELARTS_CREDENTIALS_PARAMETER, maxAgeSeconds }
      : { kind: 'env', env };
  const loaderDeps: CredentialsLoaderDeps = {
    ...(deps.fetchSecret === undefined ? {} : { fetchSecret: deps.fetchSecret }),
    ...(deps.fetchParameter === undefined ? {} : { fetchParameter: deps.fetchParameter }),
  };
  const now = deps.clock === undefined ? Date.now : () => deps.clock!.now();

  if (mode === 'aksk') return createAuthorizer({ mode, loadCredentials: createCredentialsLoader('aksk', source, loaderDeps), now });
  return createAuthorizer({
    mode,
    loadCredentials: createCredentialsLoader('token', source, loaderDeps),
    iamEndpoint: config.MODELARTS_IAM_ENDPOINT!,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    now,
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
  });
}
