import { describe, expect, it } from 'vitest';
import { screenImageIds, type ScreenedEntry } from '../../lib/screenImageIds.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const C = 'cccccccccccccccccccccccccccccccc';

describe('screenImageIds', () => {
  it('yields valid IDs in input order with 1-based positions', () => {
    // Prepare
    const entries = [A, B, C];

    // Act
    const screened = [...screenImageIds(entries)];

    // Assess
    expect(screened).toEqual<ScreenedEntry[]>([
      { kind: 'valid', ref: { id: A, position: 1 } },
      { kind: 'valid', ref: { id: B, position: 2 } },
      { kind: 'valid', ref: { id: C, position: 3 } },
    ]);
  });

  it('settles repeats as duplicate, the first occurrence wins', () => {
    // Prepare
    const entries = [A, B, A, A, B];

    // Act
    const screened = [...screenImageIds(entries)];

    // Assess
    expect(screened).toEqual<ScreenedEntry[]>([
      { kind: 'valid', ref: { id: A, position: 1 } },
      { kind: 'valid', ref: { id: B, position: 2 } },
      { kind: 'settled', record: { imageId: A, position: 3, outcome: 'duplicate' } },
      { kind: 'settled', record: { imageId: A, position: 4, outcome: 'duplicate' } },
      { kind: 'settled', record: { imageId: B, position: 5, outcome: 'duplicate' } },
    ]);
  });

  it('settles invalid entries as invalid with INVALID_IMAGE_ID and the reason', () => {
    // Prepare
    const entries = [A, 'not-an-id', 7, null, { id: B }];

    // Act
    const screened = [...screenImageIds(entries)];

    // Assess
    expect(screened).toEqual<ScreenedEntry[]>([
      { kind: 'valid', ref: { id: A, position: 1 } },
      {
        kind: 'settled',
        record: { imageId: 'not-an-id', position: 2, outcome: 'invalid', errorCode: 'INVALID_IMAGE_ID', errorMessage: 'expected 32 hexadecimal characters, got 9' },
      },
      { kind: 'settled', record: { imageId: '7', position: 3, outcome: 'invalid', errorCode: 'INVALID_IMAGE_ID', errorMessage: 'expected a string, got a number' } },
      { kind: 'settled', record: { imageId: 'null', position: 4, outcome: 'invalid', errorCode: 'INVALID_IMAGE_ID', errorMessage: 'expected a string, got null' } },
      {
        kind: 'settled',
        record: { imageId: JSON.stringify({ id: B }), position: 5, outcome: 'invalid', errorCode: 'INVALID_IMAGE_ID', errorMessage: 'expected a string, got an object' },
      },
    ]);
  });

  it('keeps every entry, in order, with one result per entry', () => {
    // Prepare
    const entries = [B, 'x', A, B, 3, C];

    // Act
    const screened = [...screenImageIds(entries)];

    // Assess
    const positions = screened.map((entry) => (entry.kind === 'valid' ? entry.ref.position : entry.record.position));
    expect(positions).toEqual([1, 2, 3, 4, 5, 6]);
    expect(screened.map((entry) => (entry.kind === 'valid' ? 'valid' : entry.record.outcome))).toEqual(['valid', 'invalid', 'valid', 'duplicate', 'invalid', 'valid']);
  });

  it('shortens a long invalid entry to at most 80 characters for the report', () => {
    // Prepare
    const long = 'z'.repeat(500);

    // Act
    const [entry] = [...screenImageIds([long])];

    // Assess
    expect(entry?.kind).toBe('settled');
    const record = entry?.kind === 'settled' ? entry.record : undefined;
    expect(record?.imageId).toHaveLength(80);
    expect(record?.imageId.endsWith('...')).toBe(true);
  });

  it('is lazy: reads no further than the entries consumed', () => {
    // Prepare
    let read = 0;
    function* entries(): Generator<string> {
      for (const id of [A, B, C]) {
        read += 1;
        yield id;
      }
    }
    const screened = screenImageIds(entries());

    // Act
    const first = screened.next();

    // Assess
    expect(first.value).toEqual({ kind: 'valid', ref: { id: A, position: 1 } });
    expect(read).toBe(1);
  });
});
