import type { z } from 'zod';
import type { ValidationIssue } from './errors.js';

/** Turns zod's issues into our `ValidationIssue`s, with dotted paths a user can find in their input. */
export function toValidationIssues(error: z.ZodError, prefix = ''): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.'),
    message: issue.message,
  }));
}
