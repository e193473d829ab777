import { EntryScreen, type ScreenedEntry } from '../pipeline/EntryScreen.js';

/**
 * The entry screen of one invocation of a job that may be resumed: screens as {@link EntryScreen}
 * does, and keeps the lines of the entries it normalised after `resumeAfter`, so each normalised
 * entry is counted once across invocations. Entries up to `resumeAfter` are screened again (to know
 * repeats) but were counted by the invocation that settled them; those after the pass's
 * `settledThrough` will be by the next one. Costs 8 bytes per normalised entry.
 */
export class ResumedScreen extends EntryScreen {
  private readonly normalizedAt: number[] = [];

  /**
   * @param expectedEntries - The job's entries (see {@link EntryScreen}).
   * @param resumeAfter - The line up to which earlier invocations settled the entries.
   */
  public constructor(expectedEntries: number, private readonly resumeAfter: number) {
    super(expectedEntries);
  }

  public override screen(value: unknown, position: number): ScreenedEntry {
    const before = this.normalized;
    const screened = super.screen(value, position);
    if (this.normalized > before && position > this.resumeAfter) this.normalizedAt.push(position);
    return screened;
  }

  /** Entries normalised after `resumeAfter` and up to `settledThrough`: the ones this invocation settled. */
  public normalizedThrough(settledThrough: number): number {
    // Entries are screened in the order of their lines: the ones past settledThrough are the last.
    let count = this.normalizedAt.length;
    while (count > 0 && this.normalizedAt[count - 1]! > settledThrough) count -= 1;
    return count;
  }
}
