import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/config.js';
import { createAuthFromConfig } from '../../../lib/deps/createAuthFromConfig.js';
import { ConfigError } from '../../../lib/core/errors.js';

const BASE = { REPORT_BUCKET: 'reports-bucket', MODELARTS_ENDPOINT: 'https://modelarts.cn-north-4.myhuaweicloud.com' };

describe('createAuthFromConfig', () => {
  it('builds no authentication by default (MODELARTS_AUTH=none)', () => {
    // Act
    const auth = createAuthFromConfig(loadConfig(BASE), { env: {} });

    // Assess
    expect(auth).toBeUndefined();
  });

  it('reads no secret while building (no AWS call at cold start)', () => {
    // Prepare
    let reads = 0;
    const config = loadConfig({ ...BASE, MODELARTS_AUTH: 'aksk', MODELARTS_CREDENTIALS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' });

    // Act
    const auth = createAuthFromConfig(config, { env: {}, fetchSecret: () => { reads += 1; return Promise.resolve('{}'); } });

    // Assess
    expect(auth?.mode).toBe('aksk');
    expect(reads).toBe(0);
  });

  const invalid: Array<[string, Record<string, string>, Record<string, string>, string]> = [
    ['token mode without an IAM endpoint', { MODELARTS_AUTH: 'token' }, {}, 'MODELARTS_IAM_ENDPOINT'],
    ['both a secret and a parameter', { MODELARTS_AUTH: 'aksk', MODELARTS_CREDENTIALS_SECRET_ARN: 'a', MODELARTS_CREDENTIALS_PARAMETER: 'b' }, {}, 'MODELARTS_CREDENTIALS_PARAMETER'],
    ['environment credentials inside AWS Lambda', { MODELARTS_AUTH: 'aksk' }, { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }, 'MODELARTS_CREDENTIALS_SECRET_ARN'],
  ];

  it.each(invalid)('fails the start for %s, naming the variable', (_label, vars, env, variable) => {
    // Prepare
    const config = loadConfig({ ...BASE, ...vars });

    // Act
    const act = () => createAuthFromConfig(config, { env });

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(variable);
  });

  it('rejects an unknown MODELARTS_AUTH when the configuration is loaded', () => {
    // Act
    const act = () => loadConfig({ ...BASE, MODELARTS_AUTH: 'basic' });

    // Assess
    expect(act).toThrow('MODELARTS_AUTH: expected none, aksk or token');
  });
});
