import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `osls package` runs offline: placeholder credentials only satisfy the CLI, nothing is called.
const root = new URL('../../', import.meta.url);
let dir: string;
let template: { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'image-cleanup-package-'));
  await promisify(execFile)('npx', ['osls', 'package', '--stage', 'ci', '--package', dir], {
    cwd: root,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'placeholder', AWS_SECRET_ACCESS_KEY: 'placeholder', SLS_TELEMETRY_DISABLED: '1' },
    timeout: 120_000,
  });
  template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 150_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('serverless.yml packaged by osls', () => {
  it('has the manual function on nodejs22.x, with its configuration', () => {
    const fn = template.Resources.ManualLambdaFunction;
    expect(fn?.Type).toBe('AWS::Lambda::Function');
    expect(fn?.Properties.Runtime).toBe('nodejs22.x');
    expect(fn?.Properties.Handler).toBe('handlers/manual.handler');
    expect(fn?.Properties.Environment.Variables).toMatchObject({ REPORT_BUCKET: 'image-cleanup-ci-eu-west-1-reports', REPORT_PREFIX: 'reports/', CHUNK_SIZE: '100' });
  });

  it('creates the report bucket encrypted, with public access blocked', () => {
    const bucket = template.Resources.ReportBucket;
    expect(bucket?.Properties.BucketName).toBe('image-cleanup-ci-eu-west-1-reports');
    expect(bucket?.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBeTruthy();
    expect(bucket?.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
  });

  it('grants S3 access to the report prefix only, never Resource "*"', () => {
    const statements = template.Resources.IamRoleLambdaExecution?.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement) ?? [];
    const s3 = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const statement of statements) expect([statement.Resource].flat()).not.toContain('*');
    expect(s3.flatMap((s: any) => [s.Resource].flat())).toEqual(['arn:aws:s3:::image-cleanup-ci-eu-west-1-reports/reports/*']);
  });

  it('bundles the handler into one small artifact', async () => {
    const zip = await stat(join(dir, 'image-cleanup.zip'));
    expect(zip.size).toBeLessThan(5 * 1024 * 1024);
  });
});
