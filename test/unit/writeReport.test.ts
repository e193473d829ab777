import { describe, expect, it } from 'vitest';
import type { OutcomeRecord } from '../../lib/outcome.js';
import { FAILED_CSV_COLUMNS, renderFailedCsv } from '../../lib/writeReport.js';

// writeReport itself talks to S3 and is covered by the integration tests against the local emulator.
describe('renderFailedCsv', () => {
  it('writes only the header when there are no failures', () => {
    // Act
    const csv = renderFailedCsv([]);

    // Assess
    expect(csv).toBe('image_id,outcome,error_code,error_message,position\n');
    expect([...FAILED_CSV_COLUMNS]).toEqual(['image_id', 'outcome', 'error_code', 'error_message', 'position']);
  });

  it('writes one row per record, with empty cells for a missing code or message', () => {
    // Prepare
    const failures: OutcomeRecord[] = [
      { imageId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', position: 3, outcome: 'failed', errorCode: 'ModelArts.0104', errorMessage: 'invalid parameter' },
      { imageId: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', position: 12, outcome: 'failed' },
    ];

    // Act
    const csv = renderFailedCsv(failures);

    // Assess
    expect(csv).toBe(
      'image_id,outcome,error_code,error_message,position\n'
        + 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,failed,ModelArts.0104,invalid parameter,3\n'
        + 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,failed,,,12\n',
    );
  });

  it('quotes commas, quotes and newlines so each record stays one CSV row', () => {
    // Prepare
    const failures: OutcomeRecord[] = [
      { imageId: 'x,y', position: 1, outcome: 'invalid', errorCode: 'INVALID_IMAGE_ID', errorMessage: 'contains a character that is not hexadecimal: ","' },
      { imageId: 'cccccccccccccccccccccccccccccccc', position: 2, outcome: 'failed', errorCode: 'HTTP_502', errorMessage: 'bad gateway\nupstream said "no"' },
    ];

    // Act
    const csv = renderFailedCsv(failures);

    // Assess
    expect(csv).toBe(
      'image_id,outcome,error_code,error_message,position\n'
        + '"x,y",invalid,INVALID_IMAGE_ID,"contains a character that is not hexadecimal: "",""",1\n'
        + 'cccccccccccccccccccccccccccccccc,failed,HTTP_502,"bad gateway\nupstream said ""no""",2\n',
    );
  });
});
