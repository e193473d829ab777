import { describe, expect, it } from 'vitest';
import { readErrorBody } from '../../../lib/modelarts/readErrorBody.js';

// Moved from classifyFailure.test.ts with the function.
describe('readErrorBody', () => {
  it('reads the flat {error_code, error_msg} shape', () => {
    // Act
    const read = readErrorBody({ error_code: 'ModelArts.4420', error_msg: 'image not found' });

    // Assess
    expect(read).toEqual({ code: 'ModelArts.4420', message: 'image not found' });
  });

  it('reads the nested {error: {code, message}} shape', () => {
    // Act
    const read = readErrorBody({ error: { code: 'APIG.0308', message: 'too many requests' } });

    // Assess
    expect(read).toEqual({ code: 'APIG.0308', message: 'too many requests' });
  });

  it('reads a flat code without a message', () => {
    // Act
    const read = readErrorBody({ error_code: 'ModelArts.4352', error_msg: 42 });

    // Assess
    expect(read).toEqual({ code: 'ModelArts.4352' });
  });

  it.each([undefined, null, 'error', 42, [], {}, { error_code: 7 }, { error: 'x' }, { error: null }])('returns nothing from junk (%j)', (body) => {
    // Act
    const read = readErrorBody(body);

    // Assess
    expect(read).toEqual({});
  });
});
