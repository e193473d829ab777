// A cell a spreadsheet would take for a formula: one that starts with =, +, -, @, a tab, a CR or a
// NUL (OWASP's CSV injection guidance; ASVS 1.2.10 adds NUL) — after any number of "'" already
// there, so that a value which itself starts with "'" and a formula character still reads back whole.
const FORMULA_START = /^'*[=+\-@\t\r\0]/;
const PROTECTED = /^'+[=+\-@\t\r\0]/;

/**
 * A text as `failed.csv` writes it: a `'` before a cell a spreadsheet would run as a formula
 * (`=HYPERLINK(…)`, `@SUM(…)`), which spreadsheets show as text. {@link fromSpreadsheetSafeCell}
 * undoes it exactly, so a re-run of `failed.csv` reads the entries that failed.
 */
export function spreadsheetSafeCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/**
 * The value of a CSV cell {@link spreadsheetSafeCell} may have protected: one `'` goes when a
 * formula character follows it (after any further `'`); every other cell is unchanged.
 */
export function fromSpreadsheetSafeCell(cell: string): string {
  // Most cells do not start with "'": one character compare, no regular expression, for them.
  return cell.charCodeAt(0) === 0x27 && PROTECTED.test(cell) ? cell.slice(1) : cell;
}
