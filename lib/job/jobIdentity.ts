import { createHash } from 'node:crypto';
import { z } from 'zod';
import { entryText } from '../pipeline/imageId.js';
import type { jobIdSourceSchema } from '../report/jobSummary.js';

/** Where a job's id came from, most explicit first. */
export type JobIdSource = z.infer<typeof jobIdSourceSchema>;

/**
 * A job id as a user may give it (`jobId`), and as every id we derive is: it names an S3 folder,
 * so 1 to 128 letters, digits, `.`, `_` or `-`, starting with a letter or digit.
 */
export const jobIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit');

/** A job's id and where it came from. */
export interface JobIdentity {
  jobId: string;
  source: JobIdSource;
}

/**
 * Derives a job's id, so a repeated delivery of the same job maps to the same id (and so to the
 * same report and claim): an explicit idempotency key in the job wins; else the SQS message id;
 * else a hash of the job's content (its target and ID list, options included), so the same
 * manual event sent twice is recognised too.
 *
 * @param content - The job as received; hashed in a canonical form (object keys sorted).
 */
export function deriveJobIdentity(input: { idempotencyKey?: string | undefined; messageId?: string | undefined; content: unknown }): JobIdentity {
  if (input.idempotencyKey !== undefined) return { jobId: input.idempotencyKey, source: 'idempotency_key' };
  if (input.messageId !== undefined) return { jobId: `msg-${input.messageId.replace(/[^A-Za-z0-9._-]/g, '-')}`, source: 'message_id' };
  const digest = createHash('sha256').update(canonicalJson(input.content)).digest('hex');
  return { jobId: `sha-${digest.slice(0, 32)}`, source: 'content_hash' };
}

const MAX_CANONICAL_DEPTH = 64;

/** JSON with object keys sorted at every level, so equal content hashes equally. */
export function canonicalJson(value: unknown, depth = 0): string {
  // Past this depth (junk, not a job) entryText takes over: it renders any nesting without
  // recursion (JSON.stringify overflows the stack on deep input too), and the same input still
  // hashes the same.
  if (depth > MAX_CANONICAL_DEPTH) return entryText(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null, depth + 1)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
