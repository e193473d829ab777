import { describe, expect, it } from 'vitest';
import { jsonDepthExcess } from '../../../lib/manifest/jsonDepthExcess.js';

describe('jsonDepthExcess', () => {
  it('finds the first opening past the bound, of arrays and objects alike', () => {
    // Act and Assess
    expect(jsonDepthExcess('[[1],[[2]]]', 3)).toBe(-1);
    expect(jsonDepthExcess('[[1],[[2]]]', 2)).toBe(6);
    expect(jsonDepthExcess('{"a":{"b":[{}]}}', 3)).toBe(11);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    // Act and Assess
    expect(jsonDepthExcess('["[[[[", "\\"[[[[", {"k{{{": "]]]"}]', 2)).toBe(-1);
    expect(jsonDepthExcess('["\\\\", [[1]]]', 2)).toBe(8);
  });

  it('scans 200,000 unclosed "[" without recursing, and stops at the bound', () => {
    // Act and Assess
    expect(jsonDepthExcess('['.repeat(200_000), 16)).toBe(16);
    expect(jsonDepthExcess(`${'['.repeat(200_000)}${']'.repeat(200_000)}`, 200_000)).toBe(-1);
  });
});
