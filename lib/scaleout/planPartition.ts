/**
 * The partition a split job's planner uses (lib/scaleout/planScaleOut.ts), recorded in its
 * planning checkpoint: a plan resumed with another partition would send a repeat to another part.
 * Change it only under a new name.
 */
export const PLAN_PARTITION = 'fnv1a32-fmix32-mod';

/**
 * How many hash slots a job is split into: one per `partSize` entries the preparing pass counted
 * (invalid entries and repeats included, so a part holds `partSize` IDs or fewer on average),
 * at least one. A slot that ends empty makes no part.
 */
export function planSlots(entries: number, partSize: number): number {
  return Math.max(1, Math.ceil(entries / partSize));
}

/**
 * The hash slot (0-based, below `slots`) of a valid image ID: every occurrence of an ID lands in
 * the same slot, so the part made of it sees all its repeats and de-duplicates them exactly.
 *
 * FNV-1a over the ID's characters, then MurmurHash3's 32-bit finaliser, so IDs alike but for a few
 * characters (sequential IDs, a shared prefix) still spread evenly; `mod slots` of a 32-bit value
 * is biased by under `slots / 2^32`. Stable: no seed, no platform dependence (Math.imul is 32-bit).
 */
export function planSlot(id: string, slots: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % slots;
}
