/**
 * The one error base class of image-cleanup. Every error the project throws on purpose is a
 * `CleanupError`, so callers can tell our failures (with their data) from bugs.
 */
export class CleanupError extends Error {
  /** A stable, machine-readable code, e.g. `INVALID_JOB`. */
  public readonly code: string;

  public constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found while validating input: where it is and what is wrong with it. */
export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `target.projectId` or `imageIds.3`. */
  path: string;
  /** What is wrong, in words a user can act on. */
  message: string;
}

/** A cleanup job (or trigger event) that fails validation as a whole: nothing is deleted. */
export class JobValidationError extends CleanupError {
  public readonly issues: readonly ValidationIssue[];

  /**
   * @param options - `code` and `lead` (the message's first words) are for subclasses: a refusal of
   *   a particular kind keeps this class, so every trigger's refusal path answers it. @default `{ code: 'INVALID_JOB', lead: 'Invalid cleanup job' }`
   */
  public constructor(issues: readonly ValidationIssue[], options: { cause?: unknown; code?: string; lead?: string } = {}) {
    super(options.code ?? 'INVALID_JOB', `${options.lead ?? 'Invalid cleanup job'}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.issues = issues;
  }
}

/**
 * A job id already names another job: its job record (lib/job/jobRecord.ts) says what that job
 * deletes and how, and this one differs. Refused before anything is deleted; one issue per field
 * that differs.
 */
export class JobIdConflictError extends JobValidationError {
  public readonly jobId: string;

  public constructor(jobId: string, issues: readonly ValidationIssue[]) {
    super(issues, { code: 'JOB_ID_CONFLICT', lead: `Job id ${jobId} names another job; send this one under another jobId` });
    this.jobId = jobId;
  }
}

/**
 * The manifest version a job is pinned to is no longer there (the manifest was replaced or
 * deleted): it is never read under the old identity. A job that had started ends with what it did;
 * one that had not is refused.
 */
export class ManifestChangedError extends JobValidationError {
  /** `s3://bucket/key` of the manifest. */
  public readonly manifest: string;

  public constructor(manifest: string, detail: string, options?: { cause?: unknown }) {
    super([{ path: 'manifest', message: `${manifest}: ${detail}` }], { code: 'MANIFEST_CHANGED', ...options });
    this.manifest = manifest;
  }
}

/** The environment does not hold a valid configuration; raised once, at cold start. */
export class ConfigError extends CleanupError {
  public readonly issues: readonly ValidationIssue[];

  public constructor(issues: readonly ValidationIssue[]) {
    super('INVALID_CONFIG', `Invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}

/** Writing the job's report to S3 failed; the job's outcomes are logged instead. */
export class ReportWriteError extends CleanupError {
  public constructor(location: string, cause: unknown) {
    super('REPORT_WRITE_FAILED', `Could not write the report to ${location}`, { cause });
  }
}

/**
 * The ModelArts credentials could not be loaded or were refused (IAM declined to issue a token,
 * the secret is missing or malformed). Never carries a secret: messages name fields and sources only.
 */
export class CredentialsError extends CleanupError {
  /** Whether trying again later may help (IAM or the secret store was unreachable), as opposed to a refusal. */
  public readonly retryable: boolean;
  /** HTTP status of the refusing answer, when there was one. */
  public readonly status: number | undefined;

  public constructor(code: 'CREDENTIALS_REFUSED' | 'CREDENTIALS_UNAVAILABLE' | 'INVALID_CREDENTIALS', message: string, options: { retryable?: boolean; status?: number; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.status = options.status;
  }
}

/** A queue message that is not a job, a manifest notification or an S3 test event; it fails alone. */
export class QueueMessageError extends CleanupError {
  /** The SQS message id of the record. */
  public readonly messageId: string;
  public readonly issues: readonly ValidationIssue[];

  public constructor(messageId: string, issues: readonly ValidationIssue[]) {
    super('INVALID_MESSAGE', `Invalid queue message ${messageId}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.messageId = messageId;
    this.issues = issues;
  }
}

/** Too little time is left in this invocation to start the work; it is handed back for redelivery. */
export class DeadlineReachedError extends CleanupError {
  public readonly remainingMs: number;

  public constructor(remainingMs: number) {
    super('DEADLINE_REACHED', `Not started: ${remainingMs} ms left in this invocation, under the deadline margin`);
    this.remainingMs = remainingMs;
  }
}

/** The same job is running elsewhere (its claim is live): try again later, when its report is complete. */
export class JobInProgressError extends CleanupError {
  public readonly jobId: string;

  public constructor(jobId: string) {
    super('JOB_IN_PROGRESS', `Job ${jobId} is already running in another invocation; its report will be complete when it ends`);
    this.jobId = jobId;
  }
}

/** Messages could not be put on the work queue (SendMessageBatch kept refusing some entries). */
export class QueueSendError extends CleanupError {
  public readonly queueUrl: string;
  /** Messages not sent. */
  public readonly unsent: number;

  public constructor(queueUrl: string, unsent: number, detail: string) {
    super('QUEUE_SEND_FAILED', `${unsent} message(s) could not be sent to ${queueUrl}: ${detail}`);
    this.queueUrl = queueUrl;
    this.unsent = unsent;
  }
}
