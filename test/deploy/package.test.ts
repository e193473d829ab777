import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import { emitJobMetrics } from '../../lib/report/emitJobMetrics.js';
import { triggerInfoSchema, type JobSummary } from '../../lib/report/jobSummary.js';
import { LAMBDA_PROCESS_ENV } from '../../local/stack/lambdaNodeOptions.js';
import { decideIf, packageService, pseudoFor, resolveArn, substitute, type Packaged, type PolicyDocument, type Resource, type Statement, type Template } from './template.js';

// The properties these tests read, by resource type: a template is typed only as far as a test looks into it.
type RoleProperties = { AssumeRolePolicyDocument: PolicyDocument; Policies?: Array<{ PolicyDocument: PolicyDocument }> };
type PolicyProperties = { PolicyDocument: PolicyDocument };
type FunctionProperties = { Runtime: string; Handler: string; Timeout: number; Role: unknown; ReservedConcurrentExecutions?: number; Environment: { Variables: Record<string, unknown> } };
type QueueProperties = { RedrivePolicy: { maxReceiveCount: number }; VisibilityTimeout: number; MaximumMessageSize?: number };
type EventSourceMappingProperties = { EventSourceArn: unknown; BatchSize: number; ScalingConfig: { MaximumConcurrency: number } };
type BucketProperties = {
  BucketEncryption: { ServerSideEncryptionConfiguration: Array<{ ServerSideEncryptionByDefault: { SSEAlgorithm: string } }> };
  PublicAccessBlockConfiguration: unknown;
  VersioningConfiguration?: { Status: string };
  LifecycleConfiguration: { Rules: Array<{ Status: string; ExpirationInDays?: number; NoncurrentVersionExpiration?: { NoncurrentDays: number } }> };
  NotificationConfiguration: { QueueConfigurations: unknown[] };
};
type BucketPolicyProperties = { Bucket: unknown; PolicyDocument: PolicyDocument };
type AlarmProperties = { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }>; Threshold: number; ComparisonOperator: string; AlarmActions?: unknown };

const FUNCTIONS = ['manual', 'queue', 'schedule', 'deadLetter'] as const;
const logicalId = (name: string) => `${name[0]!.toUpperCase()}${name.slice(1)}`;
const ALARM_TOPIC = 'arn:aws-cn:sns:cn-north-1:123456789012:image-cleanup-alarms';

const dirs: string[] = [];
let ci: Packaged;
let template: Template;
let prod: Template;
// The ci stage in Beijing (partition aws-cn), with the alarms' topic set.
let china: Template;

beforeAll(async () => {
  const keep = (packaged: Packaged) => (dirs.push(packaged.dir), packaged);
  ci = keep(await packageService('ci'));
  template = ci.template;
  prod = keep(await packageService('prod')).template;
  china = keep(await packageService('ci', ['--region', 'cn-north-1', `--param=alarmTopicArn=${ALARM_TOPIC}`])).template;
}, 360_000);

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const resource = <P = Record<string, unknown>>(name: string, t: Template = template): Resource<P> => {
  const found = t.Resources[name];
  expect(found, `resource ${name}`).toBeDefined();
  return found as Resource<P>;
};
const ofType = <P = Record<string, unknown>>(t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type) as Array<[string, Resource<P>]>;

// Every IAM statement of the template: the roles' and any other policy's.
function iamStatements(t: Template): Statement[] {
  return Object.values(t.Resources).flatMap((r) => {
    if (r.Type === 'AWS::IAM::Role') return ((r as Resource<RoleProperties>).Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement);
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') return (r as Resource<PolicyProperties>).Properties.PolicyDocument.Statement;
    return [];
  });
}

const actions = (statement: { Action: string | string[] }) => [statement.Action].flat();
const resources = (statement: { Resource: unknown }) => [statement.Resource].flat();

/** What a role grants: resolved resource → its allowed actions, sorted. Every statement must allow. */
function grants(t: Template, role: string, region = 'eu-west-1'): Record<string, string[]> {
  const granted: Record<string, Set<string>> = {};
  for (const policy of resource<RoleProperties>(role, t).Properties.Policies ?? []) {
    for (const statement of policy.PolicyDocument.Statement) {
      expect(statement.Effect).toBe('Allow');
      for (const target of resources(statement)) {
        const arn = resolveArn(target, pseudoFor(region));
        for (const action of actions(statement)) (granted[arn] ??= new Set()).add(action);
      }
    }
  }
  return Object.fromEntries(Object.entries(granted).map(([arn, set]) => [arn, [...set].sort()]));
}

describe('serverless.yml packaged by osls', () => {
  it('has the manual, queue, schedule and deadLetter functions on nodejs22.x, with their configuration', () => {
    for (const name of FUNCTIONS) {
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
        // What the benchmarks run the job with (local/stack/lambdaNodeOptions.ts): NODE_OPTIONS and glibc's thresholds.
        ...LAMBDA_PROCESS_ENV,
        // Empty unless a stage sets it: the deployed functions refuse every target until then.
        ALLOWED_TARGETS: '',
        MAX_IDS_PER_JOB: '100000',
      });
    }
  });

  it('puts V8 in its optimise-for-size mode in every handler, before the deps are built (what bench:manifest measures)', async () => {
    for (const name of FUNCTIONS) {
      const source = await readFile(join('handlers', `${name}.ts`), 'utf8');
      const at = source.indexOf('\noptimizeHeapForSize();');
      expect(at, `handlers/${name}.ts`).toBeGreaterThan(0);
      expect(at, `handlers/${name}.ts`).toBeLessThan(source.indexOf('createCleanupDeps(loadConfig())'));
    }
  });

  it('sets no environment value `serverless invoke local` cannot resolve offline (no Ref, GetAtt or other intrinsic)', () => {
    for (const name of FUNCTIONS) {
      const variables = resource<FunctionProperties>(`${logicalId(name)}LambdaFunction`).Properties.Environment.Variables;
      for (const [key, value] of Object.entries(variables)) expect(typeof value, key).toBe('string');
      // The work queue by name (its URL looked up at the first send): the queue's own name.
      expect(variables.WORK_QUEUE_NAME).toBe(resource('WorkQueue').Properties.QueueName);
      expect(variables).not.toHaveProperty('WORK_QUEUE_URL');
    }
  });

  it('gives the work queue a dead-letter queue with a redrive policy', () => {
    const queue = resource<QueueProperties>('WorkQueue');
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] }, maxReceiveCount: expect.any(Number) as unknown });
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(1);
    expect(resource('DeadLetterQueue').Type).toBe('AWS::SQS::Queue');
  });

  it.each([
    ['WorkQueue', 'QueueLambdaFunction'],
    ['DeadLetterQueue', 'DeadLetterLambdaFunction'],
  ])('keeps the visibility timeout of %s at least 6 times the timeout of %s, which reads it', (queue, fn) => {
    const timeout = resource<FunctionProperties>(fn).Properties.Timeout;
    expect(timeout).toBeGreaterThan(0);
    expect(resource<QueueProperties>(queue).Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('sets MaximumMessageSize on both queues, the dead-letter queue holding whatever the work queue accepts', () => {
    const size = (name: string) => resource<QueueProperties>(name).Properties.MaximumMessageSize;
    // 256 KiB: the long-standing SQS ceiling, valid in every region (a hostile body is refused by SQS).
    expect(size('WorkQueue')).toBeGreaterThanOrEqual(1024);
    expect(size('WorkQueue')).toBeLessThanOrEqual(262_144);
    expect(size('DeadLetterQueue')).toBeGreaterThanOrEqual(size('WorkQueue')!);
    expect(size('DeadLetterQueue')).toBeLessThanOrEqual(262_144);
  });

  it('maps the dead-letter queue to the deadLetter function, one message at a time', () => {
    const mappings = ofType<EventSourceMappingProperties>(template, 'AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties);
    expect(mappings).toContainEqual(
      expect.objectContaining({ EventSourceArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] }, FunctionName: { 'Fn::GetAtt': ['DeadLetterLambdaFunction', 'Arn'] }, BatchSize: 1 }),
    );
    expect(mappings).toHaveLength(2);
  });

  it('maps the queue with ReportBatchItemFailures, a batch size and maximumConcurrency', () => {
    const mapping = ofType<EventSourceMappingProperties>(template, 'AWS::Lambda::EventSourceMapping')
      .map(([, r]) => r)
      .find((r) => JSON.stringify(r.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': ['WorkQueue', 'Arn'] }));
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

  it('keeps versions in the manifest bucket (a job pins the version it reads), and expires the noncurrent ones', () => {
    const bucket = resource<BucketProperties>('ManifestBucket').Properties;
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const noncurrent = bucket.LifecycleConfiguration.Rules.filter((rule) => rule.Status === 'Enabled' && rule.NoncurrentVersionExpiration !== undefined);
    expect(noncurrent).toHaveLength(1);
    expect(noncurrent[0]).not.toHaveProperty('Prefix');
    expect(noncurrent[0]!.NoncurrentVersionExpiration!.NoncurrentDays).toBeGreaterThan(0);
  });

  it.each([
    ['ReportBucket', 'image-cleanup-ci-eu-west-1-reports'],
    ['ManifestBucket', 'image-cleanup-ci-eu-west-1-manifests'],
  ])('denies every request to %s not sent over TLS', (name, bucketName) => {
    const policies = ofType<BucketPolicyProperties>(template, 'AWS::S3::BucketPolicy').filter(([, r]) => JSON.stringify(r.Properties.Bucket) === JSON.stringify({ Ref: name }));
    expect(policies).toHaveLength(1);
    const [statement, ...others] = policies[0]![1].Properties.PolicyDocument.Statement;
    expect(others).toEqual([]);
    expect(statement).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(resources(statement!).map((r) => resolveArn(r, pseudoFor('eu-west-1')))).toEqual([`arn:aws:s3:::${bucketName}`, `arn:aws:s3:::${bucketName}/*`]);
  });

  it.each(['cloudformation-template-update-stack.json', 'cloudformation-template-create-stack.json'])(
    "blocks public access to the framework's deployment bucket where %s creates it",
    (file) => {
      const t = file.includes('create') ? ci.createTemplate : ci.template;
      const bucket = t.Resources.ServerlessDeploymentBucket as Resource<BucketProperties> | undefined;
      if (bucket === undefined) return; // a named, existing deployment bucket is not ours to configure
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    },
  );

  it('notifies the work queue of manifests created under pending/, and lets only that bucket send', () => {
    const bucket = resource<BucketProperties>('ManifestBucket');
    expect(bucket.Properties.NotificationConfiguration.QueueConfigurations).toEqual([
      { Event: 's3:ObjectCreated:*', Queue: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] }, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'pending/' }] } } },
    ]);
    expect([bucket.DependsOn].flat()).toContain('WorkQueuePolicy');
    const [statement, ...others] = resource<PolicyProperties>('WorkQueuePolicy').Properties.PolicyDocument.Statement;
    expect(others).toEqual([]);
    expect(statement).toMatchObject({ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] } });
    expect(resolveArn(statement!.Condition!.ArnLike!['aws:SourceArn'], pseudoFor('eu-west-1'))).toBe('arn:aws:s3:::image-cleanup-ci-eu-west-1-manifests');
  });

  it('reserves concurrency for manual and schedule, so the capacity formula of docs/deployment.md holds', () => {
    const reserved = (name: string, t: Template = template) => resource<FunctionProperties>(`${logicalId(name)}LambdaFunction`, t).Properties.ReservedConcurrentExecutions;
    for (const t of [template, prod]) {
      expect(reserved('manual', t)).toBe(2);
      expect(reserved('schedule', t)).toBe(1);
      // The queue's workers are bounded by the event source mapping's maximumConcurrency instead.
      expect(reserved('queue', t)).toBeUndefined();
    }
  });

  it('bundles each handler into its own small artifact', async () => {
    for (const name of FUNCTIONS) {
      const zip = await stat(join(ci.dir, `${name}.zip`));
      expect(zip.size).toBeLessThan(5 * 1024 * 1024);
    }
  });
});

// What each function's code path uses (docs/deployment.md "Roles"): resource → actions.
const R = 'arn:aws:s3:::image-cleanup-ci-eu-west-1-reports';
const M = 'arn:aws:s3:::image-cleanup-ci-eu-west-1-manifests';
const logs = (fn: string) => ({ [`GetAtt:${logicalId(fn)}LogGroup.Arn`]: ['logs:CreateLogStream', 'logs:PutLogEvents'] });
const reports = { [`${R}/reports/*`]: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'], [R]: ['s3:ListBucket'] };
const readManifests = { [`${M}/*`]: ['s3:GetObject', 's3:GetObjectVersion'], [M]: ['s3:ListBucket'] };
const pendingFlow = {
  [M]: ['s3:ListBucket'],
  [`${M}/pending/*`]: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObject', 's3:GetObjectTagging', 's3:GetObjectVersion', 's3:GetObjectVersionTagging'],
  [`${M}/done/*`]: ['s3:PutObject', 's3:PutObjectTagging'],
  [`${M}/failed/*`]: ['s3:PutObject', 's3:PutObjectTagging'],
  [`${M}/claims/*`]: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
};
const runsJobs = { 'GetAtt:WorkQueue.Arn': ['sqs:GetQueueUrl', 'sqs:SendMessage'], 'Ref:ModelArtsCredentialsSecret': ['secretsmanager:GetSecretValue'] };
const consumes = (queue: string) => ({ [`GetAtt:${queue}.Arn`]: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'] });
const EXPECTED: Record<(typeof FUNCTIONS)[number], Record<string, string[]>> = {
  manual: { ...logs('manual'), ...reports, ...readManifests, ...runsJobs },
  schedule: { ...logs('schedule'), ...reports, ...pendingFlow, ...runsJobs },
  queue: {
    ...logs('queue'),
    ...reports,
    ...readManifests,
    ...pendingFlow,
    ...runsJobs,
    'GetAtt:WorkQueue.Arn': ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
  },
  // Reports, and a dead-lettered notification's pending manifest moved as the schedule moves it;
  // no ModelArts credentials and no work queue (lib/triggers/processDeadLetters.ts).
  deadLetter: { ...logs('deadLetter'), ...reports, ...readManifests, ...pendingFlow, ...consumes('DeadLetterQueue') },
};

describe('IAM: one role per function, with only what it uses', () => {
  it('gives each function its own role, trusted by Lambda only, and no shared framework role', () => {
    expect(template.Resources).not.toHaveProperty('IamRoleLambdaExecution');
    const roles = FUNCTIONS.map((name) => resource<FunctionProperties>(`${logicalId(name)}LambdaFunction`).Properties.Role);
    expect(roles).toEqual(FUNCTIONS.map((name) => ({ 'Fn::GetAtt': [`${logicalId(name)}Role`, 'Arn'] })));
    expect(ofType(template, 'AWS::IAM::Role').map(([name]) => name).sort()).toEqual(FUNCTIONS.map((name) => `${logicalId(name)}Role`).sort());
    for (const [, role] of ofType<RoleProperties>(template, 'AWS::IAM::Role')) {
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    }
  });

  it.each(FUNCTIONS)('grants the %s role exactly the actions its code path uses', (name) => {
    expect(grants(template, `${logicalId(name)}Role`)).toEqual(EXPECTED[name]);
  });

  it('never grants Resource "*", a wildcard action, or a bucket outside this stage', () => {
    const statements = iamStatements(template);
    expect(statements.length).toBeGreaterThanOrEqual(20);
    for (const statement of statements) {
      expect(actions(statement).every((a) => !a.includes('*'))).toBe(true);
      for (const target of resources(statement).map((r) => resolveArn(r, pseudoFor('eu-west-1')))) {
        expect(target).toMatch(/^(arn:aws:s3:::image-cleanup-ci-eu-west-1-(reports|manifests)(\/[a-z]+\/\*|\/\*)?|(GetAtt|Ref):[A-Za-z]+(\.Arn)?)$/);
      }
    }
  });
});

describe('partitions: no arn:aws: literal, so the China regions work', () => {
  it.each([
    ['ci', () => template],
    ['prod', () => prod],
    ['ci in cn-north-1', () => china],
  ])('writes no ARN with a literal partition in the %s template (only the alarm topic given as a parameter)', (_, t) => {
    const literals = JSON.stringify(t()).match(/arn:aws[a-z-]*:[^"]*/g) ?? [];
    expect(literals.filter((arn) => arn !== ALARM_TOPIC)).toEqual([]);
  });

  it('resolves every ARN of the cn-north-1 package in the aws-cn partition', () => {
    const china1 = pseudoFor('cn-north-1');
    expect(china1.partition).toBe('aws-cn');
    const arns = [
      ...iamStatements(china).flatMap(resources),
      ...ofType<BucketPolicyProperties>(china, 'AWS::S3::BucketPolicy').flatMap(([, r]) => r.Properties.PolicyDocument.Statement.flatMap(resources)),
      ...resource<PolicyProperties>('WorkQueuePolicy', china).Properties.PolicyDocument.Statement.map((s) => s.Condition!.ArnLike!['aws:SourceArn']),
    ]
      .map((r) => resolveArn(r, china1))
      .filter((arn) => arn.startsWith('arn:'));
    expect(arns.length).toBeGreaterThanOrEqual(20);
    // Our buckets, and the framework's deployment bucket (its own TLS-only policy, built with the partition too).
    for (const arn of arns) expect(arn).toMatch(/^arn:aws-cn:s3:::(image-cleanup-ci-cn-north-1-(reports|manifests)|Ref:ServerlessDeploymentBucket)(\/|$)/);
    // The same grants as in eu-west-1, in the other partition and region.
    const inChina = (grantsOf: Record<string, string[]>) => Object.fromEntries(Object.entries(grantsOf).map(([arn, a]) => [arn.replace('arn:aws:s3:::image-cleanup-ci-eu-west-1-', 'arn:aws-cn:s3:::image-cleanup-ci-cn-north-1-'), a]));
    for (const name of FUNCTIONS) expect(grants(china, `${logicalId(name)}Role`, 'cn-north-1')).toEqual(inChina(EXPECTED[name]));
  });
});

describe('alarms', () => {
  const alarms = (t: Template) => ofType<AlarmProperties>(t, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
  const on = (namespace: string, metric: string, dimension: unknown) => (a: AlarmProperties) =>
    a.Namespace === namespace && a.MetricName === metric && JSON.stringify(a.Dimensions.map((d) => d.Value)) === JSON.stringify([dimension]);
  const firesAboveZero = (a: AlarmProperties | undefined) => expect(a).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });

  it('alarms when the dead-letter queue is not empty, and on every message that reaches it', () => {
    firesAboveZero(alarms(template).find(on('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] })));
    // The deadLetter function drains the queue at once: its invocations count what arrived.
    firesAboveZero(alarms(template).find(on('AWS/Lambda', 'Invocations', { Ref: 'DeadLetterLambdaFunction' })));
  });

  it.each(FUNCTIONS)('alarms on errors of the %s function', (name) => {
    firesAboveZero(alarms(template).find(on('AWS/Lambda', 'Errors', { Ref: `${logicalId(name)}LambdaFunction` })));
  });

  it('notifies the alarmTopicArn topic when the stage sets one, and nothing otherwise', () => {
    expect(alarms(template)).toHaveLength(6);
    for (const alarm of alarms(template)) expect(decideIf(template, alarm.AlarmActions)).toBeUndefined();
    expect(alarms(china)).toHaveLength(6);
    for (const alarm of alarms(china)) expect(decideIf(china, alarm.AlarmActions)).toEqual([ALARM_TOPIC]);
  });
});

// What the code emits as EMF: each job's metrics from the functions' own Metrics instance
// (lib/deps/createCleanupDeps.ts), for every trigger type, read from the lines it writes.
type EmfLine = { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> }; [key: string]: unknown };
const metricKey = (namespace: string, name: string, dimensions: Record<string, unknown>) =>
  `${namespace}|${name}|${Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${String(v)}`).join(',')}`;

function emittedMetrics(): Set<string> {
  const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_METRICS_DISABLED; // vitest.config.ts turns metrics off for every test
  try {
    const lines: EmfLine[] = [];
    for (const type of triggerInfoSchema.shape.type.options) {
      const { metrics } = createCleanupDeps(loadConfig({ REPORT_BUCKET: 'reports', MODELARTS_ENDPOINT: 'http://127.0.0.1:1' }));
      Object.assign(metrics as unknown as { console: unknown }, { console: { log: (line: string) => lines.push(JSON.parse(line) as EmfLine), warn: () => undefined } });
      const summary = { trigger: { type }, counts: { deleted: 1, already_deleted: 1, failed: 1, invalid: 1 }, requests: 1, throttled: 1 } as unknown as JobSummary;
      emitJobMetrics(metrics as Metrics, summary, [12]);
    }
    const keys = new Set<string>();
    for (const line of lines) {
      for (const { Namespace, Dimensions, Metrics: names } of line._aws.CloudWatchMetrics) {
        for (const set of Dimensions) for (const { Name } of names) keys.add(metricKey(Namespace, Name, Object.fromEntries(set.map((d) => [d, line[d]]))));
      }
    }
    return keys;
  } finally {
    if (disabled !== undefined) process.env.POWERTOOLS_METRICS_DISABLED = disabled;
  }
}

type Widget = { type: string; properties: { region: string; stat?: string; metrics: unknown[][] } };
type MetricLine = { key: string; namespace: string; name: string; dimensions: Record<string, string>; stat: string | undefined };

describe('dashboard', () => {
  const widgets = (t: Template, region = 'eu-west-1') => {
    const [dashboard] = ofType<{ DashboardName: string; DashboardBody: unknown }>(t, 'AWS::CloudWatch::Dashboard');
    return (JSON.parse(substitute(dashboard![1].Properties.DashboardBody, pseudoFor(region))) as { widgets: Widget[] }).widgets;
  };
  // Every metric line of every widget ([namespace, name, dimension, value, …, options?]); expressions left out.
  const lines = (t: Template, region?: string): MetricLine[] =>
    widgets(t, region).flatMap((widget) =>
      widget.properties.metrics
        .filter((line) => typeof line[0] === 'string')
        .map((line) => {
          const options = (typeof line.at(-1) === 'object' ? line.at(-1) : {}) as { stat?: string };
          const [namespace, name, ...rest] = line.filter((part): part is string => typeof part === 'string');
          const dimensions = Object.fromEntries(Array.from({ length: rest.length / 2 }, (_, i) => [rest[2 * i]!, rest[2 * i + 1]!]));
          return { key: metricKey(namespace!, name!, dimensions), namespace: namespace!, name: name!, dimensions, stat: options.stat ?? widget.properties.stat };
        }),
    );

  it('is one CloudWatch dashboard named after the stage, its name and URL exported', () => {
    const dashboards = ofType<{ DashboardName: string }>(template, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]![1].Properties.DashboardName).toBe('image-cleanup-ci');
    const outputs = (template as unknown as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    expect(outputs.DashboardName!.Value).toEqual({ Ref: dashboards[0]![0] });
    expect(JSON.stringify(outputs.DashboardUrl!.Value)).toContain('#dashboards/dashboard/${Dashboard}');
    for (const widget of widgets(template)) expect(widget.properties.region).toBe('eu-west-1');
    for (const widget of widgets(china, 'cn-north-1')) expect(widget.properties.region).toBe('cn-north-1');
  });

  it('charts only metrics the code emits, with its namespace and dimensions, and every one it emits', () => {
    const emitted = emittedMetrics();
    const own = lines(template).filter((line) => !line.namespace.startsWith('AWS/'));
    expect(own.length).toBeGreaterThan(0);
    for (const line of own) expect(emitted, line.key).toContain(line.key);
    expect(new Set(own.map((line) => line.key))).toEqual(emitted);
  });

  it('charts the chunk latency at p50 and p99 for every trigger', () => {
    for (const type of triggerInfoSchema.shape.type.options) {
      const stats = lines(template).filter((line) => line.name === 'ChunkLatency' && line.dimensions.trigger === type).map((line) => line.stat);
      expect(stats.sort()).toEqual(['p50', 'p99']);
    }
  });

  it("charts the depth of the work queue and of the dead-letter queue, by the queues' own names", () => {
    const depth = lines(template).filter((line) => line.namespace === 'AWS/SQS' && line.name === 'ApproximateNumberOfMessagesVisible');
    expect(depth.map((line) => line.dimensions)).toEqual([{ QueueName: 'GetAtt:WorkQueue.QueueName' }, { QueueName: 'GetAtt:DeadLetterQueue.QueueName' }]);
    for (const line of lines(template).filter((l) => l.namespace === 'AWS/SQS')) expect(template.Resources[line.dimensions.QueueName!.split(':')[1]!.split('.')[0]!]?.Type).toBe('AWS::SQS::Queue');
  });

  it.each(FUNCTIONS)('charts the errors, throttles and duration of the %s function', (name) => {
    const of = lines(template).filter((line) => line.namespace === 'AWS/Lambda' && line.dimensions.FunctionName === `Ref:${logicalId(name)}LambdaFunction`);
    expect(new Set(of.map((line) => line.name))).toEqual(new Set(['Errors', 'Throttles', 'Duration']));
  });

  it('sums per outcome only metrics the widget has, by their ids', () => {
    for (const widget of widgets(template)) {
      const ids = new Set(widget.properties.metrics.map((line) => (line.at(-1) as { id?: string }).id).filter((id) => id !== undefined));
      for (const line of widget.properties.metrics) {
        const expression = (line[0] as { expression?: string }).expression;
        if (expression === undefined) continue;
        for (const id of expression.match(/[a-z][a-z_]*(?=[,\]])/g) ?? []) expect(ids, `${expression}: ${id}`).toContain(id);
      }
    }
  });
});
