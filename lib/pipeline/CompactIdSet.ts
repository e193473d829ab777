/**
 * A set of 128-bit IDs (32 hexadecimal characters) in 16 bytes each, for de-duplicating millions
 * of image IDs in bounded memory: a `Set<string>` of a million 32-character IDs costs about
 * 80 MB of heap; this costs 32 MB at worst (load factor ½) and no per-entry objects.
 *
 * Open addressing with linear probing over one `Uint32Array`; the table doubles when half full.
 */
export class CompactIdSet {
  private table: Uint32Array;
  private capacity: number;
  private count = 0;
  // The all-zero pattern marks an empty slot, so the all-zero ID is kept apart.
  private hasZeroId = false;

  /** @param expected - How many IDs to size the table for; it grows past that anyway. @default 1024 */
  public constructor(expected = 1024) {
    this.capacity = nextPowerOfTwo(Math.max(16, expected * 2));
    this.table = new Uint32Array(this.capacity * 4);
  }

  /** Number of IDs held. */
  public get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  public get byteLength(): number {
    return this.table.byteLength;
  }

  /**
   * Adds an ID; returns `true` if it was not there yet.
   *
   * @param hexId - Exactly 32 hexadecimal characters (either case; compared case-insensitively).
   * @throws {RangeError} when `hexId` is not 32 hexadecimal characters.
   */
  public add(hexId: string): boolean {
    const words = toWords(hexId);
    if (isZero(words)) {
      if (this.hasZeroId) return false;
      this.hasZeroId = true;
      this.count += 1;
      return true;
    }
    if (this.count + 1 > this.capacity / 2) this.grow();
    const inserted = insert(this.table, this.capacity, words);
    if (inserted) this.count += 1;
    return inserted;
  }

  /** Whether the set holds the ID. */
  public has(hexId: string): boolean {
    const words = toWords(hexId);
    if (isZero(words)) return this.hasZeroId;
    const mask = this.capacity - 1;
    for (let slot = hash(words) & mask; ; slot = (slot + 1) & mask) {
      const at = slot * 4;
      if (isEmpty(this.table, at)) return false;
      if (equals(this.table, at, words)) return true;
    }
  }

  private grow(): void {
    const old = this.table;
    const oldCapacity = this.capacity;
    this.capacity *= 2;
    this.table = new Uint32Array(this.capacity * 4);
    const words = new Uint32Array(4);
    for (let slot = 0; slot < oldCapacity; slot += 1) {
      const at = slot * 4;
      if (isEmpty(old, at)) continue;
      words.set(old.subarray(at, at + 4));
      insert(this.table, this.capacity, words);
    }
  }
}

function toWords(hexId: string): Uint32Array {
  if (!/^[0-9a-fA-F]{32}$/.test(hexId)) throw new RangeError(`not a 32-character hexadecimal ID: ${JSON.stringify(hexId.slice(0, 40))}`);
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i += 1) words[i] = Number.parseInt(hexId.slice(i * 8, i * 8 + 8), 16);
  return words;
}

function isZero(words: Uint32Array): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0;
}

function hash(words: Uint32Array): number {
  // The IDs are MD5-like, so their bits are already well mixed; fold them and scramble once.
  let h = (words[0]! ^ Math.imul(words[1]!, 0x85ebca6b) ^ Math.imul(words[2]!, 0xc2b2ae35) ^ words[3]!) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

function isEmpty(table: Uint32Array, at: number): boolean {
  return table[at] === 0 && table[at + 1] === 0 && table[at + 2] === 0 && table[at + 3] === 0;
}

function equals(table: Uint32Array, at: number, words: Uint32Array): boolean {
  return table[at] === words[0] && table[at + 1] === words[1] && table[at + 2] === words[2] && table[at + 3] === words[3];
}

function insert(table: Uint32Array, capacity: number, words: Uint32Array): boolean {
  const mask = capacity - 1;
  for (let slot = hash(words) & mask; ; slot = (slot + 1) & mask) {
    const at = slot * 4;
    if (isEmpty(table, at)) {
      table.set(words, at);
      return true;
    }
    if (equals(table, at, words)) return false;
  }
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}
