/** An image (v1) or sample (v2) ID as the annotation service writes it: 32 lowercase hex characters. */
export type ImageId = string;

/** The shape every known image ID has (inferred from the documentation's examples; see docs/limits.md). */
export const IMAGE_ID_PATTERN = /^[0-9a-f]{32}$/;

/** Result of checking one candidate ID: the ID, or why it was refused. */
export type ImageIdCheck = { ok: true; id: ImageId } | { ok: false; reason: string };

/**
 * Checks one candidate image ID and says precisely what is wrong with it, so a user can fix the
 * input. Never throws.
 *
 * @param candidate - Anything found where an image ID was expected.
 */
export function checkImageId(candidate: unknown): ImageIdCheck {
  if (typeof candidate !== 'string') {
    return { ok: false, reason: `expected a string, got ${describeType(candidate)}` };
  }
  if (IMAGE_ID_PATTERN.test(candidate)) return { ok: true, id: candidate };
  if (candidate.length === 0) return { ok: false, reason: 'empty string' };
  if (candidate.trim() !== candidate) return { ok: false, reason: 'has leading or trailing whitespace' };
  if (candidate.length !== 32) {
    return { ok: false, reason: `expected 32 hexadecimal characters, got ${candidate.length}` };
  }
  if (/^[0-9a-fA-F]{32}$/.test(candidate)) return { ok: false, reason: 'contains upper-case hexadecimal characters' };
  const bad = [...candidate].find((ch) => !/[0-9a-f]/.test(ch));
  return { ok: false, reason: `contains a character that is not hexadecimal: ${JSON.stringify(bad)}` };
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
