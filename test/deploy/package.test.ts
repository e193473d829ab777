import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_NODE_OPTIONS } from '../../local/stack/lambdaNodeOptions.js';

// `osls package` runs offline: placeholder credentials only satisfy the CLI, nothing is called.
const root = new URL('../../', import.meta.url);
type Resource<P = Record<string, unknown>> = { Type: string; Properties: P; DependsOn?: string | string[] };
type Template = { Resources: Record<string, Resource> };
// The properties these tests read, by resource type: a template is typed only as far as a test looks into it.
type Statement = { Action: string | string[]; Resource: unknown };
type PolicyDocument<S = Statement> = { Statement: S[] };
type RoleProperties = { Policies?: Array<{ PolicyDocument: PolicyDocument }> };
type PolicyProperties = { PolicyDocument: PolicyDocument };
type FunctionProperties = { Runtime: string; Handler: string; Environment: { Variables: Record<string, unknown> } };
type QueueProperties = { RedrivePolicy: { maxReceiveCount: number } };
type EventSourceMappingProperties = { BatchSize: number; ScalingConfig: { MaximumConcurrency: number } };
type BucketProperties = {
  BucketEncryption: { ServerSideEncryptionConfiguration: Array<{ ServerSideEncryptionByDefault: { SSEAlgorithm: string } }> };
  PublicAccessBlockConfiguration: unknown;
  LifecycleConfiguration: { Rules: Array<{ Status: string; ExpirationInDays?: number }> };
  NotificationConfiguration: { QueueConfigurations: unknown[] };
};
type QueuePolicyProperties = { PolicyDocument: PolicyDocument<Statement & { Condition: { ArnLike: Record<string, string> } }> };
const dirs: string[] = [];

async function packageStage(stage: string): Promise<{ dir: string; template: Template }> {
  const dir = await mkdtemp(join(tmpdir(), `image-cleanup-package-${stage}-`));
  dirs.push(dir);
  await promisify(execFile)('npx', ['osls', 'package', '--stage', stage, '--package', dir], {
    cwd: root,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'placeholder', AWS_SECRET_ACCESS_KEY: 'placeholder', SLS_TELEMETRY_DISABLED: '1' },
    timeout: 120_000,
  });
  return { dir, template: JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template };
}

let dir: string;
let template: Template;
let prod: Template;

beforeAll(async () => {
  ({ dir, template } = await packageStage('ci'));
  ({ template: prod } = await packageStage('prod'));
}, 240_000);

afterAll(async () => {
  await Promise.all(dirs.map((path) => rm(path, { recursive: true, force: true })));
});

const resource = <P = Record<string, unknown>>(name: string): Resource<P> => {
  const found = template.Resources[name];
  expect(found, `resource ${name}`).toBeDefined();
  return found as Resource<P>;
};

// Every IAM statement of the template: the function role's and any other policy's.
function iamStatements(t: Template): Statement[] {
  return Object.values(t.Resources).flatMap((r) => {
    if (r.Type === 'AWS::IAM::Role') return ((r as Resource<RoleProperties>).Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement);
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') return (r as Resource<PolicyProperties>).Properties.PolicyDocument.Statement;
    return [];
  });
}

const actions = (statement: { Action: string | string[] }) => [statement.Action].flat();
const resources = (statement: { Resource: unknown }) => [statement.Resource].flat();

describe('serverless.yml packaged by osls', () => {
  it('has the manual, queue and schedule functions on nodejs22.x, with their configuration', () => {
    for (const name of ['manual', 'queue', 'schedule']) {
      const fn = resource<FunctionProperties>(`${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`);
      expect(fn.Type).toBe('AWS::Lambda::Function');
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Handler).toBe(`handlers/${name}.handler`);
      expect(fn.Properties.Environment.Variables).toMatchObject({
        REPORT_BUCKET: 'image-cleanup-ci-eu-west-1-reports',
        REPORT_PREFIX: 'reports/',
        MANIFEST_BUCKET: 'image-cleanup-ci-eu-west-1-manifests',
        MODELARTS_CREDENTIALS_SECRET_ARN: resource('ModelArtsCredentialsSecret').Properties.Name,
        CHUNK_SIZE: '100',
        // What the benchmarks run the job with (local/stack/lambdaNodeOptions.ts).
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
        // Empty unless a stage sets it: the deployed functions refuse every target until then.
        ALLOWED_TARGETS: '',
        MAX_IDS_PER_JOB: '100000',
      });
    }
  });

  it('gives the work queue a dead-letter queue with a redrive policy', () => {
    const queue = resource<QueueProperties>('WorkQueue');
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] }, maxReceiveCount: expect.any(Number) as unknown });
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(1);
    expect(resource('DeadLetterQueue').Type).toBe('AWS::SQS::Queue');
  });

  it('keeps the visibility timeout at least 6 times the queue function timeout', () => {
    const timeout = resource('QueueLambdaFunction').Properties.Timeout as number;
    expect(timeout).toBeGreaterThan(0);
    expect(resource('WorkQueue').Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('maps the queue with ReportBatchItemFailures, a batch size and maximumConcurrency', () => {
    const mapping = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping') as Resource<EventSourceMappingProperties> | undefined;
    expect(mapping?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['QueueLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(mapping?.Properties.BatchSize).toBeGreaterThanOrEqual(1);
    expect(mapping?.Properties.ScalingConfig.MaximumConcurrency).toBeGreaterThanOrEqual(2);
    expect(mapping?.Properties.ScalingConfig.MaximumConcurrency).toBeLessThanOrEqual(1000);
  });

  it('schedules the schedule function, disabled outside prod and enabled in prod', () => {
    const rule = (t: Template) => Object.values(t.Resources).find((r) => r.Type === 'AWS::Events::Rule');
    expect(rule(template)?.Properties).toMatchObject({ ScheduleExpression: expect.stringMatching(/^(rate|cron)\(/) as unknown, State: 'DISABLED' });
    expect(rule(prod)?.Properties.State).toBe('ENABLED');
  });

  it.each(['ReportBucket', 'ManifestBucket'])('creates %s encrypted, with public access blocked and lifecycle rules', (name) => {
    const bucket = resource<BucketProperties>(name);
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]!.ServerSideEncryptionByDefault.SSEAlgorithm).toBeTruthy();
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.LifecycleConfiguration.Rules.filter((rule) => rule.Status === 'Enabled' && (rule.ExpirationInDays ?? 0) > 0).length).toBeGreaterThan(0);
  });

  it('expires old reports', () => {
    expect(resource<BucketProperties>('ReportBucket').Properties.LifecycleConfiguration.Rules).toContainEqual(expect.objectContaining({ Prefix: 'reports/', ExpirationInDays: 90 }));
  });

  it('notifies the work queue of manifests created under pending/, and lets only that bucket send', () => {
    const bucket = resource<BucketProperties>('ManifestBucket');
    expect(bucket.Properties.NotificationConfiguration.QueueConfigurations).toEqual([
      { Event: 's3:ObjectCreated:*', Queue: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] }, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'pending/' }] } } },
    ]);
    expect([bucket.DependsOn].flat()).toContain('WorkQueuePolicy');
    const [statement, ...others] = resource<QueuePolicyProperties>('WorkQueuePolicy').Properties.PolicyDocument.Statement;
    expect(others).toEqual([]);
    expect(statement).toMatchObject({ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] } });
    expect(statement!.Condition.ArnLike['aws:SourceArn']).toBe('arn:aws:s3:::image-cleanup-ci-eu-west-1-manifests');
  });

  it('grants GetSecretValue on the ModelArts credentials secret only', () => {
    const secret = iamStatements(template).filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:')));
    expect(secret).toEqual([expect.objectContaining({ Action: ['secretsmanager:GetSecretValue'], Resource: { Ref: 'ModelArtsCredentialsSecret' } })]);
  });

  it('never grants Resource "*" (or a whole service) for S3, SQS or the secret', () => {
    const scoped = iamStatements(template).filter((s) => actions(s).some((a) => /^(s3|sqs|secretsmanager):/.test(a)));
    expect(scoped.length).toBeGreaterThanOrEqual(5);
    for (const statement of scoped) {
      expect(actions(statement).every((a) => !a.endsWith('*'))).toBe(true);
      for (const target of resources(statement)) {
        expect(target).not.toBe('*');
        if (typeof target === 'string') expect(target).toMatch(/^arn:aws:s3:::image-cleanup-ci-eu-west-1-(reports|manifests)(\/[a-z]+\/\*|\/\*)?$/);
        else expect(Object.keys(target as object)).toEqual([expect.stringMatching(/^(Ref|Fn::GetAtt)$/)]);
      }
    }
  });

  it('scopes S3 writes to their prefixes: reports/, and pending/, done/, failed/, claims/ of the manifest bucket', () => {
    const writes = iamStatements(template).filter((s) => actions(s).some((a) => a === 's3:PutObject' || a === 's3:DeleteObject'));
    expect(writes.flatMap(resources).sort()).toEqual([
      'arn:aws:s3:::image-cleanup-ci-eu-west-1-manifests/claims/*',
      'arn:aws:s3:::image-cleanup-ci-eu-west-1-manifests/done/*',
      'arn:aws:s3:::image-cleanup-ci-eu-west-1-manifests/failed/*',
      'arn:aws:s3:::image-cleanup-ci-eu-west-1-manifests/pending/*',
      'arn:aws:s3:::image-cleanup-ci-eu-west-1-reports/reports/*',
    ]);
  });

  it('bundles each handler into its own small artifact', async () => {
    for (const name of ['manual', 'queue', 'schedule']) {
      const zip = await stat(join(dir, `${name}.zip`));
      expect(zip.size).toBeLessThan(5 * 1024 * 1024);
    }
  });
});
