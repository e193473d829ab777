import { describe, expect, it } from 'vitest';
import { EntryScreen } from '../../../lib/pipeline/EntryScreen.js';

const A = '0123456789abcdef0123456789abcdef';

describe('EntryScreen', () => {
  it('normalises whitespace and upper case, counting them, and dedupes after normalising', () => {
    // Prepare
    const screen = new EntryScreen();

    // Act
    const out = [`  ${A}\t`, A.toUpperCase(), A].map((value, i) => screen.screen(value, i + 1));

    // Assess
    expect(out[0]).toEqual({ kind: 'valid', ref: { id: A, position: 1 } });
    expect(out[1]).toEqual({ kind: 'settled', record: { imageId: A, position: 2, outcome: 'duplicate' } });
    expect(out[2]).toEqual({ kind: 'settled', record: { imageId: A, position: 3, outcome: 'duplicate' } });
    expect(screen.normalized).toBe(2);
  });

  it('settles invalid entries with their reason, once; a repeat of an invalid entry is a duplicate', () => {
    // Prepare
    const screen = new EntryScreen();

    // Act
    const out = ['xyz', 42, 'xyz', '42', null, { id: 1 }].map((value, i) => screen.screen(value, i + 1));

    // Assess
    expect(out.map((e) => (e.kind === 'settled' ? e.record.outcome : 'valid'))).toEqual(['invalid', 'invalid', 'duplicate', 'invalid', 'invalid', 'invalid']);
    expect(out[0]).toEqual({ kind: 'settled', record: { imageId: 'xyz', position: 1, outcome: 'invalid', errorCode: 'INVALID_IMAGE_ID', errorMessage: 'expected 32 hexadecimal characters, got 3' } });
    expect(out[1]?.kind === 'settled' && out[1].record.errorMessage).toBe('expected a string, got a number');
  });

  it('renders long or multi-line invalid entries on one bounded line', () => {
    const out = new EntryScreen().screen(`a\nb${'c'.repeat(200)}`, 1);
    expect(out.kind === 'settled' && out.record.imageId).toMatch(/^a bc+\.\.\.$/);
    expect(out.kind === 'settled' && out.record.imageId.length).toBe(80);
  });
});
