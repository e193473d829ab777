import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CleanupError } from '../../lib/core/errors.js';
import { OPERATOR_STOP } from './exitCodes.js';
import { invocationEndpoints } from './invocationEndpoints.js';

/** Where the commands act, as the global options say it. */
export interface WhereOptions {
  /** A deployed stage's CloudFormation stack (`image-cleanup-dev`): its outputs and its functions' settings. */
  stack?: string;
  region?: string;
  reportBucket?: string;
  manifestBucket?: string;
  queueUrl?: string;
}

/** A deployment (the local stack, or a stage on AWS), as the commands reach it. */
export interface OperatorEnvironment {
  /** In words, for the lines the commands print before acting. */
  describe: string;
  /** The deployment's settings as its functions see them: what lib/config/config.ts parses. */
  env: Record<string, string>;
  s3: S3Client;
  sqs: SQSClient;
  /** On AWS with `--stack`: the manual function, and a client to invoke it. */
  manual?: { lambda: LambdaClient; functionName: string };
  /** Every endpoint is on this machine: the local stack. */
  local: boolean;
  destroy(): void;
}

const NO_DEPLOYMENT = 'no deployment named: pass --stack NAME (a stage on AWS, e.g. image-cleanup-dev), or point the environment at the local stack (npm run --silent stack > .stack.env; set -a; . ./.stack.env; set +a)';

/**
 * The deployment the commands act on. With `--stack`, a stage on AWS: its buckets and work queue
 * from the stack's outputs (CloudFormation DescribeStacks), and its settings — the guard rails the
 * preparing pass applies — from the manual function's own environment (Lambda
 * GetFunctionConfiguration), so a preview refuses what the deployment would. Without it, the
 * environment: the local stack's (`npm run stack` prints it), or a deployment's variables set by
 * hand. Flags override single values. Credentials: the AWS SDK's default chain.
 *
 * @throws {CleanupError} `CLI_USAGE` when nothing names a deployment, or the stack lacks an output.
 */
export async function operatorEnvironment(options: WhereOptions, processEnv: NodeJS.ProcessEnv = process.env): Promise<OperatorEnvironment> {
  const region = options.region ?? processEnv.AWS_REGION ?? processEnv.AWS_DEFAULT_REGION;
  const flags = {
    ...(options.reportBucket === undefined ? {} : { REPORT_BUCKET: options.reportBucket }),
    ...(options.manifestBucket === undefined ? {} : { MANIFEST_BUCKET: options.manifestBucket }),
    ...(options.queueUrl === undefined ? {} : { WORK_QUEUE_URL: options.queueUrl }),
  };
  const clientConfig = region === undefined ? {} : { region };
  if (options.stack !== undefined) {
    const stage = await describeStage(options.stack, clientConfig);
    const env = { ...stage.env, ...flags };
    return withClients(env, `the AWS stack ${options.stack} (${region ?? 'the default region'})`, false, clientConfig, { lambda: stage.lambda, functionName: stage.manualFunction });
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(processEnv)) if (value !== undefined && value !== '') env[key] = value;
  Object.assign(env, flags);
  if (env.REPORT_BUCKET === undefined) throw new CleanupError(OPERATOR_STOP.usage, NO_DEPLOYMENT);
  const local = invocationEndpoints(env).every((endpoint) => endpoint.loopback);
  const describe = local ? `the local stack (S3 ${env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL}, ModelArts ${env.MODELARTS_ENDPOINT})` : `AWS from the environment (${region ?? 'the default region'}; the guard rails from this shell's variables: --stack reads the stage's own)`;
  return withClients(env, describe, local, { ...clientConfig, ...fromEnvironment(env) }, undefined);
}

// The endpoints and keys the environment names, as the SDK would read them from process.env: the
// environment given is the one that counts (a caller may pass another than the process's).
function fromEnvironment(env: Record<string, string>): { s3Endpoint?: string; sqsEndpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } } {
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const sqsEndpoint = env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  return {
    ...(s3Endpoint === undefined ? {} : { s3Endpoint }),
    ...(sqsEndpoint === undefined ? {} : { sqsEndpoint }),
    ...(accessKeyId === undefined || secretAccessKey === undefined ? {} : { credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) } }),
  };
}

type ClientSettings = { region?: string } & ReturnType<typeof fromEnvironment>;

function withClients(env: Record<string, string>, describe: string, local: boolean, settings: ClientSettings, manual: OperatorEnvironment['manual']): OperatorEnvironment {
  const { s3Endpoint, sqsEndpoint, ...common } = settings;
  const s3 = new S3Client({ ...common, ...(s3Endpoint === undefined ? {} : { endpoint: s3Endpoint }), forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true' || env.S3_FORCE_PATH_STYLE === '1' });
  // As the handlers' client (lib/deps/createCleanupDeps.ts): the configured endpoint, not the queue URL's host.
  const sqs = new SQSClient({ ...common, ...(sqsEndpoint === undefined ? {} : { endpoint: sqsEndpoint }), useQueueUrlAsEndpoint: false });
  return {
    describe,
    env,
    s3,
    sqs,
    ...(manual === undefined ? {} : { manual }),
    local,
    destroy() {
      s3.destroy();
      sqs.destroy();
      manual?.lambda.destroy();
    },
  };
}

// serverless.yml's outputs, and the one the framework adds for each function (versioned functions).
const OUTPUTS = { REPORT_BUCKET: 'ReportBucketName', MANIFEST_BUCKET: 'ManifestBucketName', WORK_QUEUE_URL: 'WorkQueueUrl' } as const;
const MANUAL_FUNCTION_OUTPUT = 'ManualLambdaFunctionQualifiedArn';

async function describeStage(stackName: string, clientConfig: { region?: string }): Promise<{ env: Record<string, string>; manualFunction: string; lambda: LambdaClient }> {
  const cloudFormation = new CloudFormationClient(clientConfig);
  let outputs: Record<string, string>;
  try {
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Object.fromEntries((Stacks[0]?.Outputs ?? []).flatMap((output) => (output.OutputKey === undefined || output.OutputValue === undefined ? [] : [[output.OutputKey, output.OutputValue]])));
  } finally {
    cloudFormation.destroy();
  }
  const missing = Object.values(OUTPUTS).filter((key) => outputs[key] === undefined);
  if (missing.length > 0) throw new CleanupError(OPERATOR_STOP.usage, `the stack ${stackName} has no output ${missing.join(', ')}: is it an image-cleanup stage (serverless.yml)?`);
  // The qualified ARN names a version; its configuration is the one that runs. Without it, the framework's own name.
  const manualFunction = outputs[MANUAL_FUNCTION_OUTPUT] ?? `${stackName}-manual`;
  const lambda = new LambdaClient(clientConfig);
  let variables: Record<string, string> | undefined;
  try {
    variables = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: manualFunction }))).Environment?.Variables;
  } catch (error) {
    lambda.destroy();
    throw new CleanupError('CLI_STAGE_SETTINGS', `cannot read the settings of ${manualFunction} (lambda:GetFunctionConfiguration), which the preview needs for the stage's guard rails: ${(error as Error).message}`, { cause: error });
  }
  const env: Record<string, string> = { ...variables };
  for (const [name, output] of Object.entries(OUTPUTS)) env[name] = outputs[output] as string;
  return { env, manualFunction, lambda };
}
