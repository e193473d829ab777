import type { z } from 'zod';
import type { ValidationIssue } from './errors.js';

/** Turns zod's issues into our `ValidationIssue`s, with dotted paths a user can find in their input. */
export function toValidationIssues(error: z.ZodError, prefix = ''): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.'),
    message: issue.message,
  }));
}

/**
 * A custom message for "not an object at all" that keeps zod's own message for the object's other
 * issues — above all an unknown key, whose message names the key.
 */
export function onlyForWrongType(message: string): (issue: { code?: string }) => string | undefined {
  return (issue) => (issue.code === 'invalid_type' ? message : undefined);
}
