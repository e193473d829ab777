import { CleanupError, JobValidationError } from '../../lib/core/errors.js';

/**
 * The exit codes of `image-cleanup` (docs/operators.md "Exit codes"). Distinct codes for the cases
 * a script acts on differently: a refusal is fixed by changing the job, an unconfirmed job by
 * confirming it, a missing job by another id; 1 is anything unexpected (S3, SQS or AWS errors).
 */
export const EXIT = {
  /** Done: the job was sent (or found complete), the status, report or list printed. */
  ok: 0,
  /** Something unexpected: an AWS or network error, a report that cannot be read. */
  error: 1,
  /** The command line is wrong (unknown option, missing argument); nothing was sent. */
  usage: 2,
  /** The preparing pass or a guard rail refused the job; nothing was sent, nothing deleted. */
  refused: 3,
  /** Not confirmed: the answer was not yes, or stdin is no terminal and `--yes` was not given; nothing sent. */
  notConfirmed: 4,
  /** No such job: no summary, progress, record or rejection under its id. */
  notFound: 5,
  /** `cancel`: the job had ended already (a final summary, or rejected); nothing was changed. */
  ended: 6,
} as const;

/** The codes of the `CleanupError`s the commands throw to stop with a given exit code. */
export const OPERATOR_STOP = { usage: 'CLI_USAGE', refused: 'CLI_REFUSED', notConfirmed: 'CLI_NOT_CONFIRMED', notFound: 'CLI_NOT_FOUND' } as const;

const BY_CODE: Record<string, number> = {
  [OPERATOR_STOP.usage]: EXIT.usage,
  [OPERATOR_STOP.refused]: EXIT.refused,
  [OPERATOR_STOP.notConfirmed]: EXIT.notConfirmed,
  [OPERATOR_STOP.notFound]: EXIT.notFound,
  // The deployment's settings do not parse (lib/config/config.ts): the environment named is wrong.
  INVALID_CONFIG: EXIT.usage,
};

/**
 * The exit code for an error a command ended with: a refusal of the job (any `JobValidationError`:
 * its shape, manifest, guard rails, a job id naming another job) is {@link EXIT.refused}; the
 * commands' own stops have theirs; anything else is {@link EXIT.error}.
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof JobValidationError) return EXIT.refused;
  if (error instanceof CleanupError) return BY_CODE[error.code] ?? EXIT.error;
  return EXIT.error;
}
