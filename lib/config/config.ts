import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { toValidationIssues } from '../core/zodIssues.js';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE } from '../modelarts/limits.js';
import { parseExtraErrorCodes } from '../modelarts/parseExtraErrorCodes.js';
import type { QueueAddress } from '../aws/resolveQueueUrl.js';
import { TargetAllowList } from './TargetAllowList.js';

const positiveInt = (fallback: number, max?: number) => {
  let schema = z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').positive('expected a number above 0');
  if (max !== undefined) schema = schema.max(max, `expected at most ${max}`);
  return schema.default(fallback);
};

// Credentials and deletes go over TLS only; plain http only to this machine (the local stack's emulator).
const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;
const serviceEndpoint = (what: string, example: string) =>
  z
    .url({ error: `expected the ${what} endpoint URL, e.g. ${example}` })
    .refine((url) => {
      // zod runs this after a failed URL check too: that one already says what is wrong.
      if (!URL.canParse(url)) return true;
      const { protocol, hostname } = new URL(url);
      return protocol === 'https:' || (protocol === 'http:' && LOOPBACK_HOSTS.test(hostname));
    }, `expected an https:// ${what} endpoint (http:// only for a loopback address: 127.0.0.1, ::1, localhost), e.g. ${example}`);

const booleanFlag = z
  .enum(['true', 'false', '1', '0'], { error: 'expected true or false' })
  .default('false')
  .transform((value) => value === 'true' || value === '1');

/** The environment variables image-cleanup reads, with their defaults. Documented in docs/configuration.md. */
export const configSchema = z.object({
  REPORT_BUCKET: z.string({ error: 'expected the name of the S3 bucket for reports' }).min(3, 'expected the name of the S3 bucket for reports'),
  REPORT_PREFIX: z
    .string()
    .default('reports/')
    .refine((prefix) => prefix.endsWith('/'), 'expected a key prefix ending in "/"'),
  MODELARTS_ENDPOINT: serviceEndpoint('ModelArts', 'https://modelarts.cn-north-4.myhuaweicloud.com'),
  CHUNK_SIZE: positiveInt(DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE),
  MAX_IN_FLIGHT: positiveInt(4, 64),
  // The adaptive limiter's floor and start (lib/modelarts/adaptiveLimiter.ts); MAX_IN_FLIGHT is its ceiling. Both yield to the ceiling.
  LIMITER_MIN: positiveInt(1, 64),
  LIMITER_INITIAL: positiveInt(2, 64),
  MAX_ATTEMPTS: positiveInt(5, 20),
  // The bisection budget of a v1 chunk (docs/report-format.md): refused requests beyond the IDs it deleted.
  BISECT_MAX_REFUSALS: positiveInt(32, 10_000),
  RETRY_BASE_MS: positiveInt(200),
  RETRY_MAX_MS: positiveInt(20_000),
  REQUEST_TIMEOUT_MS: positiveInt(30_000),
  // How often a running job looks for its cancel request (lib/job/CancelWatch.ts): one S3 GET each time.
  CANCEL_CHECK_MS: positiveInt(2_000, 60_000),
  // Error codes this deployment adds to the classifier's table (lib/modelarts/classifyFailure.ts): `kind:code,…`.
  EXTRA_ERROR_CODES: z
    .string()
    .default('')
    .transform((list, ctx) => {
      try {
        return parseExtraErrorCodes(list);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `expected comma-separated kind:code pairs: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
  DEADLINE_MARGIN_MS: positiveInt(15_000),
  S3_FORCE_PATH_STYLE: booleanFlag,
  // Powertools Metrics' own switch (the local demo, tests and benchmarks set it).
  POWERTOOLS_METRICS_DISABLED: booleanFlag,
  // Authentication towards ModelArts (docs/configuration.md "Authentication"); cross-field rules in lib/deps/createAuthFromConfig.ts.
  MODELARTS_AUTH: z.enum(['none', 'aksk', 'token'], { error: 'expected none, aksk or token' }).default('none'),
  MODELARTS_IAM_ENDPOINT: serviceEndpoint('IAM', 'https://iam.cn-north-4.myhuaweicloud.com').optional(),
  MODELARTS_CREDENTIALS_SECRET_ARN: z.string().min(1).optional(),
  MODELARTS_CREDENTIALS_PARAMETER: z.string().min(1).optional(),
  MODELARTS_CREDENTIALS_MAX_AGE_S: positiveInt(300, 86_400),
  // Guard rails for an irreversible delete (docs/safety.md).
  ALLOWED_TARGETS: z
    .string()
    .default('')
    .transform((list, ctx) => {
      try {
        return TargetAllowList.parse(list);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of projectId, projectId/dataAnnotationId or projectId/dataset:datasetId (or *), each optionally ending in +deleteSource: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
  MAX_IDS_PER_JOB: positiveInt(100_000),
  // Bounds on reading a manifest (docs/manifests.md "Bounds"): the longest line (and CSV record), in bytes.
  MANIFEST_MAX_LINE_BYTES: positiveInt(8_192, 1_048_576),
  // Most columns in a CSV manifest's header.
  MANIFEST_MAX_COLUMNS: positiveInt(256, 10_000),
  // Deepest nesting of a JSON entry (a JSON Lines line, an item of a .json's imageIds).
  MANIFEST_MAX_DEPTH: positiveInt(16, 256),
  // Decompressed bytes a manifest may hold per entry the job may hold (MAX_IDS_PER_JOB, or its options.confirmEntries).
  MANIFEST_BYTES_PER_ENTRY: positiveInt(1_024, 1_048_576),
  FAILURE_THRESHOLD_MIN_ATTEMPTED: positiveInt(1_000),
  FAILURE_THRESHOLD_RATE: z.coerce.number({ error: 'expected a number between 0 and 1' }).min(0, 'expected a number between 0 and 1').max(1, 'expected a number between 0 and 1').default(0.5),
  // The not-found threshold (docs/safety.md): judged once this many IDs were attempted...
  NOT_FOUND_THRESHOLD_MIN_ATTEMPTED: positiveInt(100),
  // ...it stops a job when more than this share of them were not found (1: never).
  NOT_FOUND_THRESHOLD_RATE: z.coerce.number({ error: 'expected a number between 0 and 1' }).min(0, 'expected a number between 0 and 1').max(1, 'expected a number between 0 and 1').default(0.9),
  // Scale-out (docs/scale-out.md): a manifest job with more entries than this is split into parts of SCALE_OUT_PART_SIZE, run by the queue's workers.
  SCALE_OUT_THRESHOLD: positiveInt(500_000),
  SCALE_OUT_PART_SIZE: positiveInt(100_000, 10_000_000),
  // Set by Lambda (MiB): how many entries an unsplit job may hold (lib/job/unsplitCapacity.ts); unset off Lambda: no bound.
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: z.coerce.number({ error: 'expected the memory size in MB' }).int('expected a whole number').positive('expected a number above 0').optional(),
  // Where a job cut by the Lambda deadline sends its continuation (and a split job its parts); unset: re-invoke the same job to resume.
  WORK_QUEUE_URL: z.url({ error: 'expected the work queue URL' }).optional(),
  // The same queue by name, its URL looked up at the first send (lib/aws/resolveQueueUrl.ts): what serverless.yml sets,
  // since a name is known offline and the URL (it holds the account id) is not. WORK_QUEUE_URL wins when both are set.
  WORK_QUEUE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,80}$/, 'expected an SQS queue name: up to 80 letters, digits, hyphens and underscores')
    .optional(),
  // Manifests are read from this bucket only (safety for an irreversible delete); unset: no manifests.
  MANIFEST_BUCKET: z.string().min(3, 'expected the name of the S3 bucket for manifests').optional(),
  // Unset means the whole bucket; `pending/`, `done/`, `failed/` and `claims/` live under it.
  MANIFEST_PREFIX: z
    .string()
    .refine((prefix) => (prefix === '' || prefix.endsWith('/')) && !prefix.split('/').includes('..'), 'expected an empty prefix or one ending in "/", without ".."')
    .optional(),
  // A pending manifest whose job failed this many times (errors and crashes) is moved to failed/ with rejected.json instead of being retried (docs/triggers.md).
  PENDING_MAX_FAILURES: positiveInt(3, 100),
});

/** The parsed, frozen configuration of one Lambda container. */
export type Config = Readonly<z.output<typeof configSchema>>;

/**
 * Parses the configuration from an environment, once, at cold start.
 *
 * @param env - The environment, `process.env` by default.
 * @throws {ConfigError} naming each variable that is missing or malformed and what it expected.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset" for our purposes: serverless.yml writes `''` for unused settings.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) throw new ConfigError(toValidationIssues(parsed.error));
  return Object.freeze(parsed.data);
}

/**
 * The work queue of this configuration: `WORK_QUEUE_URL`, else `WORK_QUEUE_NAME` (its URL looked up
 * at the first send), else none (continuations and splits are off).
 */
export function workQueueAddress(config: Pick<Config, 'WORK_QUEUE_URL' | 'WORK_QUEUE_NAME'>): QueueAddress | undefined {
  if (config.WORK_QUEUE_URL !== undefined) return config.WORK_QUEUE_URL;
  return config.WORK_QUEUE_NAME === undefined ? undefined : { queueName: config.WORK_QUEUE_NAME };
}
