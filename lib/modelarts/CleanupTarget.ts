import { z } from 'zod';
import { onlyForWrongType } from '../core/zodIssues.js';

// Project, labelling-job and dataset IDs go into the request path: refuse anything that could
// change the path (`/`, `..`, `%`) instead of trusting the exact formats, which are only inferred.
const pathSegment = (what: string) =>
  z
    .string({ error: `expected ${what} as a string` })
    .regex(/^[A-Za-z0-9_-]{1,64}$/, `expected ${what}: 1 to 64 letters, digits, "-" or "_"`);

const targetInputSchema = z
  .object({
    projectId: pathSegment('the ModelArts project ID'),
    dataAnnotationId: pathSegment('the v1 labelling job ID (data_annotation_id)').optional(),
    datasetId: pathSegment('the v2 dataset ID').optional(),
    deleteSource: z.boolean({ error: 'expected true or false' }).optional(),
  }, { error: onlyForWrongType('expected an object with projectId and either dataAnnotationId (v1) or datasetId (v2)') })
  .strict()
  .superRefine((target, ctx) => {
    const has = (key: 'dataAnnotationId' | 'datasetId') => target[key] !== undefined;
    if (has('dataAnnotationId') === has('datasetId')) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of dataAnnotationId (v1 labelling job) or datasetId (v2 dataset)' });
    }
    if (has('dataAnnotationId') && target.deleteSource !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['deleteSource'], message: 'deleteSource applies to v2 datasets only' });
    }
  });

/** A v1 labelling job: `POST /v1/{projectId}/data-annotations/{dataAnnotationId}/images/delete`. */
export interface LabellingJobTarget {
  api: 'v1';
  projectId: string;
  dataAnnotationId: string;
}

/** A v2 dataset: `POST /v2/{projectId}/datasets/{datasetId}/data-annotations/samples/delete`. */
export interface DatasetTarget {
  api: 'v2';
  projectId: string;
  datasetId: string;
  /** Also delete the source files in object storage. @default false */
  deleteSource: boolean;
}

/** Where a job deletes from. */
export type CleanupTarget = LabellingJobTarget | DatasetTarget;

/** Schema of a job's target, as a user writes it; parses to a tagged {@link CleanupTarget}. */
export const targetSchema = targetInputSchema.transform((target): CleanupTarget =>
  target.datasetId !== undefined
    ? { api: 'v2', projectId: target.projectId, datasetId: target.datasetId, deleteSource: target.deleteSource ?? false }
    : { api: 'v1', projectId: target.projectId, dataAnnotationId: target.dataAnnotationId as string },
);
