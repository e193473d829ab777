import { describe, expect, it } from 'vitest';
import { wholeJobStop } from '../../../lib/job/wholeJobStop.js';
import { jobStopSchema } from '../../../lib/report/jobSummary.js';

describe('wholeJobStop', () => {
  it("states a job's own crossing with its figures, each kind in the summary's schema", () => {
    // Act
    const failure = wholeJobStop('failure_threshold', { kind: 'failure_threshold', crossing: '600 of the first 1000 IDs attempted failed', attempted: 1000, failed: 600 }, undefined);
    const notFound = wholeJobStop('not_found_threshold', { kind: 'not_found_threshold', crossing: '100 of the first 100 IDs attempted were not found', attempted: 100, notFound: 100 }, undefined);
    const refused = wholeJobStop('service_refused', { kind: 'service_refused', crossing: 'ModelArts.4204: API not subscribed', code: 'ModelArts.4204' }, undefined);

    // Assess
    expect(failure).toEqual({ kind: 'failure_threshold', reason: 'stopped at the failure threshold: 600 of the first 1000 IDs attempted failed; the IDs not attempted are skipped', crossing: '600 of the first 1000 IDs attempted failed', attempted: 1000, failed: 600 });
    expect(notFound).toMatchObject({ kind: 'not_found_threshold', attempted: 100, notFound: 100 });
    expect(refused).toEqual({ kind: 'service_refused', reason: 'stopped at once: the service refused the job as a whole: ModelArts.4204: API not subscribed; the IDs not attempted are skipped', crossing: 'ModelArts.4204: API not subscribed', code: 'ModelArts.4204' });
    for (const stop of [failure, notFound, refused]) expect(jobStopSchema.parse(stop)).toEqual(stop);
  });

  it('names the part of the split job that met it when the job crossed nothing itself, with the refusal code it read', () => {
    // Act
    const threshold = wholeJobStop('not_found_threshold', undefined, { crossing: '20 of the first 20 IDs attempted were not found', part: 1 });
    const refused = wholeJobStop('service_refused', undefined, { crossing: 'ModelArts.4204: API not subscribed', part: 2, code: 'ModelArts.4204' });

    // Assess
    expect(threshold).toEqual({ kind: 'not_found_threshold', reason: expect.stringContaining('part 1 of this job crossed it (20 of the first 20') as unknown, crossing: 'part 1 of this job crossed it (20 of the first 20 IDs attempted were not found)', part: 1 });
    expect(refused).toEqual({ kind: 'service_refused', reason: expect.stringContaining('part 2 of this job met it') as unknown, crossing: 'part 2 of this job met it (ModelArts.4204: API not subscribed)', code: 'ModelArts.4204', part: 2 });
  });
});
