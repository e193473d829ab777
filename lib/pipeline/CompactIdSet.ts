// At most 4 slots in 5 used: adding a new ID then probes about 13 slots (3–4 cache lines) against
// 2.5 at half, for 20 bytes an ID instead of up to 32.
const SLOTS_PER_ID = 5 / 4;

/**
 * A set of 128-bit IDs (32 hexadecimal characters) in 16 bytes each, for de-duplicating millions
 * of image IDs in bounded memory: a `Set<string>` of a million 32-character IDs costs about
 * 80 MB of heap; this costs 20 MB (16 bytes per slot, at most 80% of the slots used) and no
 * per-entry objects.
 *
 * Open addressing with linear probing over one `Uint32Array` of any size (not a power of two, so a
 * table sized for N IDs is 1.25 N slots, not up to twice that); it doubles when 80% full.
 */
export class CompactIdSet {
  /** Bytes the table holds per ID it was sized for (16 bytes a slot, at most 80% of the slots used). */
  public static readonly BYTES_PER_ID = 16 * SLOTS_PER_ID;

  private table: Uint32Array;
  private capacity: number;
  // The most IDs the table takes before it doubles.
  private limit: number;
  private count = 0;
  // The all-zero pattern marks an empty slot, so the all-zero ID is kept apart.
  private hasZeroId = false;

  /** @param expected - How many IDs to size the table for; it grows past that anyway. @default 1024 */
  public constructor(expected = 1024) {
    this.capacity = Math.max(16, Math.ceil(expected * SLOTS_PER_ID));
    this.limit = Math.floor(this.capacity / SLOTS_PER_ID);
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
    toWords(hexId);
    if (isZero()) {
      if (this.hasZeroId) return false;
      this.hasZeroId = true;
      this.count += 1;
      return true;
    }
    // Full: a repeat is answered without growing (the table holds what it was sized for exactly).
    if (this.count + 1 > this.limit) {
      if (this.holdsWords()) return false;
      this.grow();
    }
    const inserted = insert(this.table, this.capacity, WORDS);
    if (inserted) this.count += 1;
    return inserted;
  }

  /** Whether the set holds the ID. */
  public has(hexId: string): boolean {
    toWords(hexId);
    if (isZero()) return this.hasZeroId;
    return this.holdsWords();
  }

  // Whether the table holds WORDS (not all zero).
  private holdsWords(): boolean {
    for (let slot = hash(WORDS) % this.capacity; ; slot = slot + 1 === this.capacity ? 0 : slot + 1) {
      const at = slot * 4;
      if (isEmpty(this.table, at)) return false;
      if (equals(this.table, at, WORDS)) return true;
    }
  }

  private grow(): void {
    const old = this.table;
    const oldCapacity = this.capacity;
    this.capacity *= 2;
    this.limit = Math.floor(this.capacity / SLOTS_PER_ID);
    this.table = new Uint32Array(this.capacity * 4);
    // Not WORDS: that holds the ID being added.
    const moved = new Uint32Array(4);
    for (let slot = 0; slot < oldCapacity; slot += 1) {
      const at = slot * 4;
      if (isEmpty(old, at)) continue;
      moved.set(old.subarray(at, at + 4));
      insert(this.table, this.capacity, moved);
    }
  }
}

// The ID being added or looked up, as four 32-bit words: one buffer for every call, so adding an
// ID allocates nothing.
const WORDS = new Uint32Array(4);

// Parses the 32 hexadecimal characters into WORDS, without a regular expression or substrings.
function toWords(hexId: string): void {
  if (hexId.length !== 32) throw notAnId(hexId);
  for (let word = 0; word < 4; word += 1) {
    let value = 0;
    for (let i = word * 8, end = i + 8; i < end; i += 1) {
      const digit = hexDigit(hexId.charCodeAt(i));
      if (digit < 0) throw notAnId(hexId);
      value = (value << 4) | digit;
    }
    WORDS[word] = value >>> 0;
  }
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87; // a-f, A-F
  return -1;
}

function notAnId(hexId: string): RangeError {
  return new RangeError(`not a 32-character hexadecimal ID: ${JSON.stringify(hexId.slice(0, 40))}`);
}

function isZero(): boolean {
  return WORDS[0] === 0 && WORDS[1] === 0 && WORDS[2] === 0 && WORDS[3] === 0;
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

// Inserts `words` (not all zero); false when the table held them already.
function insert(table: Uint32Array, capacity: number, words: Uint32Array): boolean {
  for (let slot = hash(words) % capacity; ; slot = slot + 1 === capacity ? 0 : slot + 1) {
    const at = slot * 4;
    if (isEmpty(table, at)) {
      table.set(words, at);
      return true;
    }
    if (equals(table, at, words)) return false;
  }
}
