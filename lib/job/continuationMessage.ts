import { z } from 'zod';
import { jobIdSchema } from './jobIdentity.js';

/** Body of a continuation message on the work queue: the job `continueJob` goes on from its checkpoint. */
export const continuationMessageSchema = z.object({ continueJob: jobIdSchema }).strict();

/** A continuation message's body. */
export type ContinuationMessage = z.infer<typeof continuationMessageSchema>;
