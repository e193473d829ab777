import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCleanupJob } from '../../lib/job/runCleanupJob.js';
import type { JobSummary } from '../../lib/report/jobSummary.js';
import { summaryJsonSchema } from '../../scripts/summaryJsonSchema.js';
import { imageIds, readS3Text, stackDeps } from '../support/stackDeps.js';
import { useLocalStack } from '../support/useLocalStack.js';

// A real report, from a real run against the local stack, checked with an independent validator (ajv).
const stack = useLocalStack();

const published = async () => JSON.parse(await readFile(new URL('../../schemas/summary.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;

function validator(schema: Record<string, unknown>) {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

describe('schemas/summary.schema.json', () => {
  it('is what the zod schema generates (run `npm run schema` after changing lib/report/jobSummary.ts)', async () => {
    expect(await published()).toEqual(summaryJsonSchema());
  });

  it('accepts a real summary.json written by a job, and refuses one with a count missing', async () => {
    // Prepare
    const ids = imageIds('schema', 30);
    stack.emulator.seedLabellingJob('0123456789abcdef0123456789abcdef', '7', ids.slice(0, 25));
    const validate = validator(await published());

    // Act
    const { summary } = await runCleanupJob({ target: { projectId: '0123456789abcdef0123456789abcdef', dataAnnotationId: '7' }, imageIds: [...ids, 'bad', ids[0]] }, { type: 'manual' }, stackDeps(stack));
    const written = JSON.parse(await readS3Text(stack.s3, summary.report.summary)) as JobSummary;

    // Assess
    expect(validate(written), JSON.stringify(validate.errors)).toBe(true);
    expect(written.counts).toMatchObject({ received: 32, deleted: 25, already_deleted: 5, invalid: 1, duplicate: 1 });
    const { deleted: _dropped, ...withoutDeleted } = written.counts;
    expect(validate({ ...written, counts: withoutDeleted })).toBe(false);
  });
});
