/**
 * A sortable, collision-resistant job id: the UTC time to the second plus 32 random bits, e.g.
 * `20261128T170127Z-cf4e4401`.
 *
 * @param random - A draw in [0, 1), injected (lib/core/clock.ts).
 */
export function newJobId(now: number, random: () => number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const suffix = Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0');
  return `${stamp}-${suffix}`;
}
