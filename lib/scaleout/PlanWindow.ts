/**
 * One planning window's part-manifest lines, in bounded memory: every line goes, in the order it
 * was read, into one buffer of `capacity` bytes (plus one line), with its hash slot; at the end of
 * the window {@link segments} hands each slot's lines out as one contiguous block, in line order —
 * the slot's segment object for this window. A window holds bytes, never one string per line
 * (a JavaScript string costs about twice its text, and one per line makes that many objects).
 */
export class PlanWindow {
  private readonly buffer: Buffer;
  private length = 0;
  private lines = 0;
  // Where each line starts, and its slot; grown by doubling, kept between windows.
  private starts = new Uint32Array(1024);
  private lineSlots = new Uint32Array(1024);
  private readonly slotBytes: Float64Array;

  /**
   * @param capacity - The window's bytes: it is {@link full} once it holds this many.
   * @param slots - Hash slots of the plan.
   * @param maxLineBytes - The longest line {@link add} is given.
   */
  public constructor(private readonly capacity: number, private readonly slots: number, maxLineBytes = 256) {
    this.buffer = Buffer.allocUnsafe(capacity + maxLineBytes);
    this.slotBytes = new Float64Array(slots);
  }

  /** Bytes held. */
  public get bytes(): number {
    return this.length;
  }

  /** Whether the window holds its capacity's worth. */
  public get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Appends one line (ASCII: an ID and a line number) to a slot. */
  public add(slot: number, line: string): void {
    if (this.lines === this.starts.length) {
      this.starts = grown(this.starts);
      this.lineSlots = grown(this.lineSlots);
    }
    this.starts[this.lines] = this.length;
    this.lineSlots[this.lines] = slot;
    this.lines += 1;
    const written = this.buffer.write(line, this.length, 'latin1');
    this.length += written;
    this.slotBytes[slot]! += written;
  }

  /**
   * Each slot that got lines in this window, in slot order, with its lines in the order they were
   * added. A block is a new Buffer (the caller may send it while the next is built); the window
   * is emptied by {@link clear}.
   */
  public *segments(): Generator<{ slot: number; bytes: Buffer; lines: number }> {
    // A counting sort of the lines by slot, stable: each slot's lines stay in read order.
    const counts = new Uint32Array(this.slots + 1);
    for (let i = 0; i < this.lines; i += 1) counts[this.lineSlots[i]! + 1]! += 1;
    for (let s = 1; s <= this.slots; s += 1) counts[s]! += counts[s - 1]!;
    const order = new Uint32Array(this.lines);
    const next = counts.slice(0, this.slots);
    for (let i = 0; i < this.lines; i += 1) order[next[this.lineSlots[i]!]!++] = i;
    for (let slot = 0; slot < this.slots; slot += 1) {
      const size = this.slotBytes[slot]!;
      if (size === 0) continue;
      const bytes = Buffer.allocUnsafe(size);
      let at = 0;
      for (let k = counts[slot]!; k < counts[slot + 1]!; k += 1) {
        const i = order[k]!;
        const end = i + 1 < this.lines ? this.starts[i + 1]! : this.length;
        at += this.buffer.copy(bytes, at, this.starts[i], end);
      }
      yield { slot, bytes, lines: counts[slot + 1]! - counts[slot]! };
    }
  }

  /** Empties the window for the next one. */
  public clear(): void {
    this.length = 0;
    this.lines = 0;
    this.slotBytes.fill(0);
  }
}

function grown(array: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const bigger = new Uint32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
