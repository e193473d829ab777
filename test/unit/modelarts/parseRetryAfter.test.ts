import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../lib/modelarts/parseRetryAfter.js';

// Moved from classifyFailure.test.ts with the function.
describe('parseRetryAfter', () => {
  const NOW = Date.parse('2024-05-01T12:00:00Z');

  it.each([
    { header: '5', expected: 5000 },
    { header: ' 2 ', expected: 2000 },
    { header: '0', expected: 0 },
    { header: '1.5', expected: 1500 },
  ])('reads seconds: $header -> $expected ms', ({ header, expected }) => {
    // Act
    const ms = parseRetryAfter(header, NOW);

    // Assess
    expect(ms).toBe(expected);
  });

  it('reads an HTTP date as the milliseconds from now', () => {
    // Prepare
    const header = new Date(NOW + 30_000).toUTCString();

    // Act
    const ms = parseRetryAfter(header, NOW);

    // Assess
    expect(ms).toBe(30_000);
  });

  it('reads an HTTP date in the past as zero', () => {
    // Prepare
    const header = new Date(NOW - 60_000).toUTCString();

    // Act
    const ms = parseRetryAfter(header, NOW);

    // Assess
    expect(ms).toBe(0);
  });

  it.each([null, undefined, '', '   ', 'soon', 'in five minutes', '5 minutes'])('returns undefined for %j', (header) => {
    // Act
    const ms = parseRetryAfter(header, NOW);

    // Assess
    expect(ms).toBeUndefined();
  });
});
