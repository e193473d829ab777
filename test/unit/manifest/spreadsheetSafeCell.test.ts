import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromSpreadsheetSafeCell, spreadsheetSafeCell } from '../../../lib/manifest/spreadsheetSafeCell.js';

describe('spreadsheetSafeCell', () => {
  it.each(['=HYPERLINK("http://x","y")', '+1+1', '-2', '@SUM(A1)', '\tx', '\rx', '\0x'])('puts a "\'" before a cell a spreadsheet would take for a formula (%j)', (text) => {
    // Act
    const cell = spreadsheetSafeCell(text);

    // Assess
    expect(cell).toBe(`'${text}`);
    expect(fromSpreadsheetSafeCell(cell)).toBe(text);
  });

  it.each(['0123456789abcdef0123456789abcdef', '', 'a=b', ' =x', "'plain", 'expected 32 hexadecimal characters, got 9'])('leaves any other cell as it is (%j)', (text) => {
    // Act and Assess
    expect(spreadsheetSafeCell(text)).toBe(text);
    expect(fromSpreadsheetSafeCell(text)).toBe(text);
  });

  it('reads back every text exactly, one that starts with "\'" and a formula character included, and never writes a formula', () => {
    // Prepare: texts made mostly of the characters that matter here
    const text = fc.string({ unit: fc.constantFrom("'", '=', '+', '-', '@', '\t', '\r', '\0', 'a', ' ', '"'), maxLength: 8 });

    // Act and Assess
    fc.assert(
      fc.property(text, (original) => {
        const cell = spreadsheetSafeCell(original);
        expect(fromSpreadsheetSafeCell(cell)).toBe(original);
        expect(cell).not.toMatch(/^[=+\-@\t\r\0]/);
      }),
      { numRuns: 2_000 },
    );
  });
});
