import type { JobValidationError, ValidationIssue } from '../core/errors.js';

/** The answer to a trigger whose job (or event) was refused as a whole: nothing was deleted. */
export interface Rejection {
  status: 'rejected';
  error: { code: string; message: string; issues: readonly ValidationIssue[] };
}

/** The rejection answer for a validation error, with every issue found. */
export function rejection(error: JobValidationError): Rejection {
  return { status: 'rejected', error: { code: error.code, message: error.message, issues: error.issues } };
}
