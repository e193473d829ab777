import { z } from 'zod';
import { JobValidationError } from '../core/errors.js';
import { targetSchema } from '../modelarts/CleanupTarget.js';
import { jobIdSchema } from './jobIdentity.js';
import { MAX_CHUNK_SIZE } from '../modelarts/limits.js';
import { onlyForWrongType, toValidationIssues } from '../core/zodIssues.js';

/** Most IDs a job may carry inline; larger lists belong in a manifest. */
export const MAX_INLINE_IDS = 100_000;

/** Per-job options; each overrides the deployment's default from the environment. */
export const jobOptionsSchema = z
  .object({
    chunkSize: z.number().int().min(1).max(MAX_CHUNK_SIZE, `expected at most ${MAX_CHUNK_SIZE} IDs per request (hard upper bound)`).optional(),
    maxInFlight: z.number().int().min(1).max(64).optional(),
    /** Everything but the delete calls: the report lists what would be deleted. @default false */
    dryRun: z.boolean({ error: 'expected true or false' }).optional(),
    /** A job with more entries than MAX_IDS_PER_JOB runs only when this equals its number of entries. */
    confirmEntries: z.number({ error: 'expected the number of entries in the job' }).int().min(1).optional(),
    /**
     * Scale-out of a manifest job over the work queue's workers (docs/scale-out.md): `true` splits it
     * whatever its size, `false` never; `partSize` overrides SCALE_OUT_PART_SIZE. @default by SCALE_OUT_THRESHOLD
     */
    scaleOut: z
      .union([z.boolean(), z.object({ partSize: z.number().int().min(1).max(10_000_000) }).strict()], { error: 'expected true, false or { "partSize": n }' })
      .optional(),
    /** Overrides the deployment's failure threshold for this job. */
    failureThreshold: z
      .object({ minAttempted: z.number().int().min(1), maxFailureRate: z.number().min(0).max(1) })
      .strict()
      .optional(),
    /** Makes the deployment's not-found threshold stricter for this job (judged sooner, or at a lower rate), never looser. */
    notFoundThreshold: z
      .object({ minAttempted: z.number().int().min(1).optional(), maxNotFoundRate: z.number().min(0).max(1).optional() })
      .strict()
      .optional(),
  })
  .strict();

/** Schema of a cleanup job: a target, the image IDs inline or a manifest in S3, and options. */
export const cleanupJobSchema = z
  .object({
    jobId: jobIdSchema.optional(),
    // Optional only for a manifest that names its own target (a JSON job file, or the key convention).
    target: targetSchema.optional(),
    // Items stay `unknown` here: each ID is checked on its own, so one bad ID is reported with its
    // reason instead of failing the whole job.
    imageIds: z
      .array(z.unknown(), { error: 'expected an array of image IDs' })
      .min(1, 'expected at least one image ID')
      .max(MAX_INLINE_IDS, `expected at most ${MAX_INLINE_IDS} inline IDs; put larger lists in a manifest`)
      .optional(),
    // Where the IDs are instead of `imageIds`; which buckets and keys are allowed is checked against
    // the configuration when the job runs (lib/manifest/manifestLocation.ts).
    manifest: z
      .string({ error: 'expected the manifest as "s3://bucket/key"' })
      .regex(/^s3:\/\/[^/]+\/.+$/, 'expected the manifest as "s3://bucket/key"')
      .optional(),
    options: jobOptionsSchema.default({}),
  }, { error: onlyForWrongType('expected a cleanup job object with target and imageIds') })
  .strict()
  .superRefine((job, ctx) => {
    if ((job.imageIds === undefined) === (job.manifest === undefined)) {
      ctx.addIssue({ code: 'custom', path: job.imageIds === undefined ? ['imageIds'] : ['manifest'], message: 'expected exactly one of imageIds (the IDs inline) or manifest ("s3://bucket/key")' });
    }
    if (job.imageIds !== undefined && job.target === undefined) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: 'expected an object with projectId and either dataAnnotationId (v1) or datasetId (v2)' });
    }
  });

/** A validated cleanup job. */
export type CleanupJob = z.output<typeof cleanupJobSchema>;

/**
 * Validates a cleanup job as a whole (its shape, target and options; not yet each ID).
 *
 * @throws {JobValidationError} with one issue per wrong field; nothing may be deleted then.
 */
export function parseCleanupJob(input: unknown): CleanupJob {
  const parsed = cleanupJobSchema.safeParse(input);
  if (!parsed.success) throw new JobValidationError(toValidationIssues(parsed.error));
  return parsed.data;
}
