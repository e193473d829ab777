import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/config.js';
import { ConfigError } from '../../../lib/core/errors.js';

const REQUIRED = { REPORT_BUCKET: 'image-cleanup-dev-reports', MODELARTS_ENDPOINT: 'https://modelarts.cn-north-4.myhuaweicloud.com' };

// Loads a configuration expected to be refused and returns the ConfigError.
function refusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('applies the defaults when only the required variables are set', () => {
    // Act
    const config = loadConfig({ ...REQUIRED });

    // Assess (the foundation's settings; authentication and limiter settings have their own tests)
    expect(config).toMatchObject({
      REPORT_BUCKET: 'image-cleanup-dev-reports',
      REPORT_PREFIX: 'reports/',
      MODELARTS_ENDPOINT: 'https://modelarts.cn-north-4.myhuaweicloud.com',
      CHUNK_SIZE: 100,
      MAX_IN_FLIGHT: 4,
      MAX_ATTEMPTS: 5,
      RETRY_BASE_MS: 200,
      RETRY_MAX_MS: 20_000,
      REQUEST_TIMEOUT_MS: 30_000,
      DEADLINE_MARGIN_MS: 15_000,
      S3_FORCE_PATH_STYLE: false,
    });
  });

  it('reads numbers and flags from their string values', () => {
    // Act
    const config = loadConfig({ ...REQUIRED, CHUNK_SIZE: '1000', MAX_IN_FLIGHT: '8', MAX_ATTEMPTS: '3', REPORT_PREFIX: 'out/', S3_FORCE_PATH_STYLE: 'true' });

    // Assess
    expect(config).toMatchObject({ CHUNK_SIZE: 1000, MAX_IN_FLIGHT: 8, MAX_ATTEMPTS: 3, REPORT_PREFIX: 'out/', S3_FORCE_PATH_STYLE: true });
  });

  it('ignores variables it does not know', () => {
    // Act
    const config = loadConfig({ ...REQUIRED, PATH: '/usr/bin', AWS_REGION: 'eu-west-1' });

    // Assess
    expect(config).not.toHaveProperty('PATH');
    expect(config.REPORT_BUCKET).toBe(REQUIRED.REPORT_BUCKET);
  });

  it('refuses a missing REPORT_BUCKET and names it', () => {
    // Act
    const error = refusal({ MODELARTS_ENDPOINT: REQUIRED.MODELARTS_ENDPOINT });

    // Assess
    expect(error.message).toContain('REPORT_BUCKET');
    expect(error.issues.map((issue) => issue.path)).toEqual(['REPORT_BUCKET']);
    expect(error.code).toBe('INVALID_CONFIG');
  });

  it('refuses a missing MODELARTS_ENDPOINT and names it', () => {
    // Act
    const error = refusal({ REPORT_BUCKET: REQUIRED.REPORT_BUCKET });

    // Assess
    expect(error.message).toContain('MODELARTS_ENDPOINT');
    expect(error.issues.map((issue) => issue.path)).toEqual(['MODELARTS_ENDPOINT']);
  });

  it('refuses an endpoint that is not a URL', () => {
    // Act
    const error = refusal({ ...REQUIRED, MODELARTS_ENDPOINT: 'modelarts.example' });

    // Assess
    expect(error.issues.map((issue) => issue.path)).toEqual(['MODELARTS_ENDPOINT']);
  });

  it('names both required variables when the environment is empty', () => {
    // Act
    const error = refusal({});

    // Assess
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['MODELARTS_ENDPOINT', 'REPORT_BUCKET']);
  });

  it('refuses CHUNK_SIZE=1001, over the hard bound', () => {
    // Act
    const error = refusal({ ...REQUIRED, CHUNK_SIZE: '1001' });

    // Assess
    expect(error.issues).toEqual([{ path: 'CHUNK_SIZE', message: 'expected at most 1000' }]);
    expect(error.message).toContain('CHUNK_SIZE');
  });

  it.each([
    { value: 'abc', message: 'expected a whole number' },
    { value: '2.5', message: 'expected a whole number' },
    { value: '0', message: 'expected a number above 0' },
    { value: '-3', message: 'expected a number above 0' },
  ])('refuses CHUNK_SIZE=$value', ({ value, message }) => {
    // Act
    const error = refusal({ ...REQUIRED, CHUNK_SIZE: value });

    // Assess
    expect(error.issues).toEqual([{ path: 'CHUNK_SIZE', message }]);
  });

  it('refuses MAX_IN_FLIGHT above 64', () => {
    // Act
    const error = refusal({ ...REQUIRED, MAX_IN_FLIGHT: '65' });

    // Assess
    expect(error.issues.map((issue) => issue.path)).toEqual(['MAX_IN_FLIGHT']);
  });

  it('refuses a REPORT_PREFIX that does not end in a slash', () => {
    // Act
    const error = refusal({ ...REQUIRED, REPORT_PREFIX: 'reports' });

    // Assess
    expect(error.issues.map((issue) => issue.path)).toEqual(['REPORT_PREFIX']);
  });

  it('refuses a flag that is not true or false', () => {
    // Act
    const error = refusal({ ...REQUIRED, S3_FORCE_PATH_STYLE: 'yes' });

    // Assess
    expect(error.issues).toEqual([{ path: 'S3_FORCE_PATH_STYLE', message: 'expected true or false' }]);
  });

  it('treats empty strings as unset: defaults apply', () => {
    // Act
    const config = loadConfig({ ...REQUIRED, CHUNK_SIZE: '', MAX_IN_FLIGHT: '', S3_FORCE_PATH_STYLE: '' });

    // Assess
    expect(config).toMatchObject({ CHUNK_SIZE: 100, MAX_IN_FLIGHT: 4, S3_FORCE_PATH_STYLE: false });
  });

  it('treats an empty required variable as missing', () => {
    // Act
    const error = refusal({ ...REQUIRED, REPORT_BUCKET: '' });

    // Assess
    expect(error.issues.map((issue) => issue.path)).toEqual(['REPORT_BUCKET']);
  });

  it('returns a frozen object', () => {
    // Prepare
    const config = loadConfig({ ...REQUIRED });

    // Act
    const change = () => {
      (config as { CHUNK_SIZE: number }).CHUNK_SIZE = 5;
    };

    // Assess
    expect(Object.isFrozen(config)).toBe(true);
    expect(change).toThrow(TypeError);
    expect(config.CHUNK_SIZE).toBe(100);
  });
});

// Issue 13: endpoints over TLS only, but for the local stack on this machine; extra error codes.
describe('loadConfig: endpoints and extra error codes', () => {
  it.each([
    'https://modelarts.cn-north-4.myhuaweicloud.com', 'https://modelarts.ap-southeast-1.myhuaweicloud.cn:443/',
    'http://127.0.0.1:8080', 'http://127.0.0.2:9', 'http://localhost:4566', 'http://LOCALHOST', 'http://[::1]:8080',
  ])('accepts %s as MODELARTS_ENDPOINT and MODELARTS_IAM_ENDPOINT', (url) => {
    // Act
    const config = loadConfig({ ...REQUIRED, MODELARTS_ENDPOINT: url, MODELARTS_IAM_ENDPOINT: url });

    // Assess
    expect(config.MODELARTS_ENDPOINT).toBe(url);
    expect(config.MODELARTS_IAM_ENDPOINT).toBe(url);
  });

  it.each([
    'http://modelarts.cn-north-4.myhuaweicloud.com', 'http://10.0.0.5:8080', 'http://localhost.example.com', 'http://127.0.0.1.nip.io',
    'http://[::2]', 'ftp://127.0.0.1', 'ws://localhost',
  ])('refuses %s with a message saying https only, loopback excepted', (url) => {
    // Act
    const error = refusal({ ...REQUIRED, MODELARTS_ENDPOINT: url, MODELARTS_IAM_ENDPOINT: url });

    // Assess
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['MODELARTS_ENDPOINT', 'MODELARTS_IAM_ENDPOINT']);
    expect(error.issues[0]?.message).toContain('https://');
    expect(error.issues[0]?.message).toContain('loopback');
  });

  it('reads EXTRA_ERROR_CODES into code → kind, none by default', () => {
    // Act
    const none = loadConfig({ ...REQUIRED });
    const some = loadConfig({ ...REQUIRED, EXTRA_ERROR_CODES: 'busy:ModelArts.4713, throttled:APIG.0309' });

    // Assess
    expect(none.EXTRA_ERROR_CODES.size).toBe(0);
    expect([...some.EXTRA_ERROR_CODES]).toEqual([['ModelArts.4713', 'busy'], ['APIG.0309', 'throttled']]);
  });

  it('refuses a malformed EXTRA_ERROR_CODES and names the item', () => {
    // Act
    const error = refusal({ ...REQUIRED, EXTRA_ERROR_CODES: 'retryable:ModelArts.1234' });

    // Assess
    expect(error.issues.map((issue) => issue.path)).toEqual(['EXTRA_ERROR_CODES']);
    expect(error.issues[0]?.message).toContain('"retryable:ModelArts.1234"');
  });
});
