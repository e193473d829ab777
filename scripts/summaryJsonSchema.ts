import { z } from 'zod';
import { jobSummarySchema, SUMMARY_FORMAT_VERSION } from '../lib/report/jobSummary.js';

/** The JSON Schema (draft 2020-12) of `summary.json`, as published in `schemas/summary.schema.json` (a build step, not part of the function). */
export function summaryJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(jobSummarySchema, { target: 'draft-2020-12' }),
    title: `image-cleanup summary.json, format version ${SUMMARY_FORMAT_VERSION}`,
  };
}
