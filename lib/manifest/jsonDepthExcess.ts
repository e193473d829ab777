/**
 * Where JSON text nests deeper than `maxDepth` arrays and objects: the offset of the first `[` or
 * `{` past it, or -1. A linear scan that holds nothing, so a bound can be checked before anything
 * recursive (`JSON.stringify`, an error-locating parser) meets the value; it does not check syntax.
 */
export function jsonDepthExcess(text: string, maxDepth: number): number {
  // Fewer characters than the bound cannot hold more openings than it.
  if (text.length <= maxDepth) return -1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i += 1; // backslash: the next character is escaped
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > maxDepth) return i;
    } else if (code === 0x5d || code === 0x7d) {
      depth -= 1;
    }
  }
  return -1;
}
