import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A CloudFormation resource, typed only as far as a test looks into it. */
export type Resource<P = Record<string, unknown>> = { Type: string; Properties: P; DependsOn?: string | string[]; Condition?: string };
/** A packaged template: its resources and conditions. */
export type Template = { Resources: Record<string, Resource>; Conditions?: Record<string, unknown> };
/** One IAM statement. */
export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };
/** A policy document. */
export type PolicyDocument<S = Statement> = { Statement: S[] };

/** What `osls package` wrote for one stage and region. */
export interface Packaged {
  dir: string;
  template: Template;
  /** The template of the stack's first deployment (it creates the deployment bucket). */
  createTemplate: Template;
}

const root = new URL('../../', import.meta.url);

// serverless-esbuild builds in the service's own folder (.esbuild/), for `osls package` and
// `osls invoke local` alike: the test files that run them (in parallel) take turns.
const BUILD_LOCK = join(tmpdir(), 'image-cleanup-osls-build.lock');
const STALE_LOCK_MS = 10 * 60_000;

/**
 * Runs `run` while holding the lock of the service folder's build (a directory: mkdir is atomic
 * across processes). A lock left by a killed run is taken over once older than any build takes.
 */
export async function oneBuildAtATime<T>(run: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      await mkdir(BUILD_LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = await stat(BUILD_LOCK).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (since > STALE_LOCK_MS) await rm(BUILD_LOCK, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await run();
  } finally {
    await rm(BUILD_LOCK, { recursive: true, force: true });
  }
}

/**
 * Packages the service with `osls package`, offline: placeholder credentials only satisfy the CLI,
 * nothing is called. One at a time: serverless-esbuild builds in the service's own folder.
 *
 * @param args - More CLI arguments, e.g. `['--region', 'cn-north-1']` or `['--param=alarmTopicArn=…']`.
 */
export async function packageService(stage: string, args: readonly string[] = []): Promise<Packaged> {
  const dir = await mkdtemp(join(tmpdir(), `image-cleanup-package-${stage}-`));
  await oneBuildAtATime(() =>
    promisify(execFile)('npx', ['osls', 'package', '--stage', stage, '--package', dir, ...args], {
      cwd: root,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'placeholder', AWS_SECRET_ACCESS_KEY: 'placeholder', SLS_TELEMETRY_DISABLED: '1' },
      timeout: 120_000,
    }),
  );
  const read = async (name: string) => JSON.parse(await readFile(join(dir, name), 'utf8')) as Template;
  return { dir, template: await read('cloudformation-template-update-stack.json'), createTemplate: await read('cloudformation-template-create-stack.json') };
}

/** The pseudo parameters CloudFormation gives a stack in one region. */
export interface Pseudo {
  region: string;
  partition: string;
  accountId: string;
}

/** The pseudo parameters of a region: its partition is what AWS assigns (China: `aws-cn`). */
export function pseudoFor(region: string): Pseudo {
  return { region, partition: region.startsWith('cn-') ? 'aws-cn' : 'aws', accountId: '123456789012' };
}

/**
 * Resolves an ARN-valued template expression the way CloudFormation would in that region: `Fn::Sub`
 * of the pseudo parameters, `Fn::Join`; a reference to a resource stays symbolic
 * (`GetAtt:WorkQueue.Arn`, `Ref:ModelArtsCredentialsSecret`). Anything else fails the test.
 */
export function resolveArn(value: unknown, pseudo: Pseudo): string {
  if (typeof value === 'string') return value;
  const [[fn, arg]] = Object.entries(value as Record<string, unknown>) as [[string, unknown]];
  switch (fn) {
    case 'Fn::Sub':
      return (arg as string).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const known: Record<string, string> = { 'AWS::Partition': pseudo.partition, 'AWS::Region': pseudo.region, 'AWS::AccountId': pseudo.accountId };
        if (known[name] === undefined) throw new Error(`unexpected \${${name}} in ${arg as string}`);
        return known[name];
      });
    case 'Fn::Join': {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((part) => resolveArn(part, pseudo)).join(separator);
    }
    case 'Fn::GetAtt':
      return `GetAtt:${(arg as string[]).join('.')}`;
    case 'Ref':
      return arg === 'AWS::Partition' ? pseudo.partition : `Ref:${arg as string}`;
    default:
      throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  }
}

/** Evaluates a template condition built of `Fn::Not`, `Fn::Equals` and literals (all ours uses). */
export function evaluateCondition(template: Template, name: string): boolean {
  const evaluate = (expression: unknown): unknown => {
    if (typeof expression !== 'object' || expression === null) return expression;
    const [[fn, arg]] = Object.entries(expression) as [[string, unknown[]]];
    if (fn === 'Fn::Not') return !(evaluate(arg[0]) as boolean);
    if (fn === 'Fn::Equals') return evaluate(arg[0]) === evaluate(arg[1]);
    throw new Error(`cannot evaluate ${JSON.stringify(expression)}`);
  };
  const condition = template.Conditions?.[name];
  if (condition === undefined) throw new Error(`no condition ${name}`);
  return evaluate(condition) as boolean;
}

/** A property's value once its `Fn::If` is decided; `AWS::NoValue` is undefined (the property is left out). */
export function decideIf(template: Template, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('Fn::If' in value)) return value;
  const [condition, ifTrue, ifFalse] = (value as { 'Fn::If': [string, unknown, unknown] })['Fn::If'];
  const chosen = evaluateCondition(template, condition) ? ifTrue : ifFalse;
  return JSON.stringify(chosen) === JSON.stringify({ Ref: 'AWS::NoValue' }) ? undefined : chosen;
}

/**
 * The string an `Fn::Sub` of a template yields in a region: its pseudo parameters resolved, a
 * resource's `${Name}` and `${Name.Attribute}` kept symbolic (`Ref:Name`, `GetAtt:Name.Attribute`),
 * as {@link resolveArn} keeps them.
 */
export function substitute(value: unknown, pseudo: Pseudo): string {
  const text = (value as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  if (typeof text !== 'string') throw new Error(`expected an Fn::Sub of a string, got ${JSON.stringify(value)}`);
  const known: Record<string, string> = { 'AWS::Partition': pseudo.partition, 'AWS::Region': pseudo.region, 'AWS::AccountId': pseudo.accountId };
  return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
    if (name.startsWith('AWS::')) {
      if (known[name] === undefined) throw new Error(`unexpected \${${name}}`);
      return known[name];
    }
    return name.includes('.') ? `GetAtt:${name}` : `Ref:${name}`;
  });
}
