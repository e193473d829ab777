import { ERROR_CODE_KINDS, type ErrorCodeKind, type ExtraErrorCodes } from './classifyFailure.js';

// A service's error code: a namespace, a dot, a number or a name (ModelArts.4204, APIG.0308). Our
// own codes (TIME_BUDGET_SPENT, HTTP_503) have no dot, so a deployment cannot redefine them.
const CODE_PATTERN = /^[A-Za-z][A-Za-z0-9]*\.[A-Za-z0-9_]+$/;

/**
 * Parses `EXTRA_ERROR_CODES`: comma-separated `kind:code` pairs, e.g.
 * `busy:ModelArts.4713,throttled:APIG.0309`, where kind is one of {@link ERROR_CODE_KINDS}. Blanks
 * around items are ignored; an empty text adds nothing.
 *
 * @throws {Error} naming the first malformed item: an unknown kind, a code that is not
 *   `Namespace.code`, or a code given twice.
 */
export function parseExtraErrorCodes(text: string): ExtraErrorCodes {
  const codes = new Map<string, ErrorCodeKind>();
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const colon = item.indexOf(':');
    const kind = item.slice(0, colon).trim();
    const code = item.slice(colon + 1).trim();
    if (colon === -1 || !(ERROR_CODE_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`"${item}": expected kind:code with kind one of ${ERROR_CODE_KINDS.join(', ')}`);
    }
    if (!CODE_PATTERN.test(code)) throw new Error(`"${item}": expected a service error code such as ModelArts.4204`);
    if (codes.has(code)) throw new Error(`"${item}": ${code} is given twice`);
    codes.set(code, kind as ErrorCodeKind);
  }
  return codes;
}
