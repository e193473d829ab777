import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { CleanupError } from '../../lib/core/errors.js';
import { isS3NotFound } from '../../lib/aws/isS3NotFound.js';
import { jobIdSchema } from '../../lib/job/jobIdentity.js';
import { manifestLayout } from '../../lib/manifest/manifestLocation.js';
import { OPERATOR_STOP } from './exitCodes.js';
import type { OperatorEnvironment } from './operatorEnvironment.js';
import type { OperatorIo } from './operatorIo.js';
import { previewJob } from './previewJob.js';

/** What `image-cleanup submit` is given. */
export interface SubmitOptions {
  /** A local manifest file (any format, by its extension), or `s3://bucket/key` of one in the manifest bucket. */
  source?: string;
  /** The IDs, inline, instead of a manifest. */
  ids?: string[];
  /** `projectId/dataAnnotationId` (v1) or `projectId/dataset:datasetId` (v2), as ALLOWED_TARGETS writes them. */
  target?: string;
  deleteSource?: boolean;
  jobId?: string;
  dryRun?: boolean;
  /** `options.confirmEntries`: needed above MAX_IDS_PER_JOB. */
  confirm?: number;
  /** `options.scaleOut: { partSize }`: split the manifest job into parts of this many IDs. */
  partSize?: number;
  yes?: boolean;
  /** `queue`: a message on the work queue; `manual`: the manual function (in this process on the local stack, an asynchronous invocation on AWS). */
  via: 'queue' | 'manual';
}

const usage = (message: string): never => {
  throw new CleanupError(OPERATOR_STOP.usage, message);
};

/**
 * `image-cleanup submit`: builds the job (uploading a local manifest to the manifest bucket's
 * `uploads/{jobId}/`), shows what the preparing pass says of it, asks for confirmation on a
 * terminal (refuses without `--yes` when stdin is none; a dry run deletes nothing and needs none),
 * sends it and returns its id. Every job gets an explicit id (`--job-id`, or one made here), so the
 * preview, the report folder and `status` name the same job, and sending it again is idempotent.
 *
 * @throws {CleanupError} `CLI_USAGE`, `CLI_NOT_CONFIRMED`; a `JobValidationError` when refused.
 */
export async function submitJob(options: SubmitOptions, where: OperatorEnvironment, io: OperatorIo): Promise<{ jobId: string; sent: boolean }> {
  if ((options.source === undefined) === (options.ids === undefined || options.ids.length === 0)) usage('give either a manifest (a file or s3:// URI) or --ids, not both and not neither');
  const jobId = options.jobId ?? `cli-${new Date(io.now()).toISOString().replace(/[-:]|\.\d+Z$/g, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`;
  if (!jobIdSchema.safeParse(jobId).success) usage(`--job-id: ${jobIdSchema.safeParse(jobId).error?.issues[0]?.message ?? 'invalid'}; got "${jobId}"`);
  const job: Record<string, unknown> & { jobId: string } = { jobId };
  if (options.target !== undefined) job.target = parseTarget(options.target, options.deleteSource ?? false);
  if (options.ids !== undefined && options.ids.length > 0) job.imageIds = options.ids;
  else job.manifest = await manifestUri(options.source as string, jobId, where, io);
  const jobOptions: Record<string, unknown> = {};
  if (options.dryRun === true) jobOptions.dryRun = true;
  if (options.confirm !== undefined) jobOptions.confirmEntries = options.confirm;
  if (options.partSize !== undefined) jobOptions.scaleOut = { partSize: options.partSize };
  if (Object.keys(jobOptions).length > 0) job.options = jobOptions;

  io.err(`preparing pass on ${where.describe}:`);
  const preview = await previewJob(job, where);
  for (const line of preview.lines) io.err(line);
  if (preview.kind === 'complete') {
    io.out(jobId);
    return { jobId, sent: false };
  }
  if (!preview.dryRun && options.yes !== true) {
    if (!io.isTTY) throw new CleanupError(OPERATOR_STOP.notConfirmed, 'not sent: stdin is not a terminal, so nobody can confirm; pass --yes to send without asking');
    const answer = await io.ask(`Delete up to ${preview.entries.toLocaleString('en')} images from ${preview.targetText}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CleanupError(OPERATOR_STOP.notConfirmed, 'not sent: not confirmed');
  }
  await send(job, options.via, where, io);
  io.err(`follow it: image-cleanup status ${jobId} --watch; then: image-cleanup report ${jobId}`);
  io.out(jobId);
  return { jobId, sent: true };
}

// ALLOWED_TARGETS' syntax (lib/config/TargetAllowList.ts): projectId/dataAnnotationId, projectId/dataset:datasetId.
function parseTarget(text: string, deleteSource: boolean): Record<string, unknown> {
  const [projectId, rest, extra] = text.split('/');
  if (projectId === undefined || projectId === '' || rest === undefined || rest === '' || extra !== undefined) usage(`--target: expected projectId/dataAnnotationId or projectId/dataset:datasetId, got "${text}"`);
  if (rest!.startsWith('dataset:')) return { projectId, datasetId: rest!.slice('dataset:'.length), deleteSource };
  if (deleteSource) usage('--delete-source is for a v2 dataset target (projectId/dataset:datasetId)');
  return { projectId, dataAnnotationId: rest };
}

// An s3:// URI is used as it is (the preparing pass checks where it is); a local file goes to uploads/{jobId}/.
async function manifestUri(source: string, jobId: string, where: OperatorEnvironment, io: OperatorIo): Promise<string> {
  if (source.startsWith('s3://')) return source;
  const bucket = where.env.MANIFEST_BUCKET;
  if (bucket === undefined) usage('this deployment has no manifest bucket (MANIFEST_BUCKET): give the IDs with --ids');
  const size = await stat(source).then((s) => (s.isFile() ? s.size : usage(`${source}: not a file`)), (error: Error) => usage(`${source}: ${error.message}`));
  const key = `${manifestLayout({ MANIFEST_PREFIX: where.env.MANIFEST_PREFIX }).root}uploads/${jobId}/${basename(source)}`;
  const md5 = await fileMd5(source);
  // Sent again under the same id: the same bytes are there already; writing them again would make a new version, which the job's record would call a changed manifest.
  if (await holdsBytes(where, bucket!, key, md5)) {
    io.err(`manifest s3://${bucket}/${key} holds this file already`);
  } else {
    await where.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(source), ContentLength: size, ContentMD5: Buffer.from(md5, 'hex').toString('base64'), Metadata: { md5 } }));
    io.err(`uploaded ${source} (${size.toLocaleString('en')} bytes) to s3://${bucket}/${key}`);
  }
  return `s3://${bucket}/${key}`;
}

async function fileMd5(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// Our own metadata says which bytes we uploaded (an ETag is their MD5 only for a single-part upload without SSE-KMS).
async function holdsBytes(where: OperatorEnvironment, bucket: string, key: string, md5: string): Promise<boolean> {
  try {
    const head = await where.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata?.md5 === md5 || head.ETag === `"${md5}"`;
  } catch (error) {
    if (isS3NotFound(error)) return false;
    throw error;
  }
}

async function send(job: Record<string, unknown> & { jobId: string }, via: SubmitOptions['via'], where: OperatorEnvironment, io: OperatorIo): Promise<void> {
  if (via === 'queue') {
    const queueUrl = where.env.WORK_QUEUE_URL;
    if (queueUrl === undefined) usage('this deployment has no work queue (WORK_QUEUE_URL): use --via manual');
    const { MessageId } = await where.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(job) }));
    io.err(`sent job ${job.jobId} to the work queue ${queueUrl} (message ${MessageId})`);
    return;
  }
  if (where.manual !== undefined) {
    // Asynchronous: the call returns at once; a job the deadline cuts continues on the work queue.
    await where.manual.lambda.send(new InvokeCommand({ FunctionName: where.manual.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(job)) }));
    io.err(`invoked ${where.manual.functionName} asynchronously with job ${job.jobId}`);
    return;
  }
  if (!where.local) usage('--via manual on AWS needs --stack (the manual function is found through it)');
  // The local stack: the manual handler in this process, as `npm run invoke` runs it; continuations go to the stack's poller.
  const { invoke } = await import('./invokeEvent.js');
  Object.assign(process.env, where.env);
  // stdout is for the job id: the handler's structured logs only for warnings and errors, no EMF lines (as `npm run invoke`).
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const output = await invoke(job, { handler: 'manual', follow: false, log: (line) => io.err(line) });
  io.err(`the manual handler answered: ${(output.result as { status?: string } | undefined)?.status ?? JSON.stringify(output.result)}`);
}
