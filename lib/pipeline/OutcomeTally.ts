import { DELETE_OUTCOMES, type OutcomeCounts, type OutcomeRecord } from './outcome.js';

/** Counts a job's outcomes, in constant memory (the records themselves stream to the report). */
export class OutcomeTally {
  public readonly counts: OutcomeCounts;

  /** @param initial - Counts of earlier invocations of the same job. */
  public constructor(initial?: OutcomeCounts) {
    this.counts = Object.fromEntries(DELETE_OUTCOMES.map((outcome) => [outcome, initial?.[outcome] ?? 0])) as OutcomeCounts;
  }

  /** Adds one record. */
  public record(record: OutcomeRecord): void {
    this.counts[record.outcome] += 1;
  }

  /** Adds many records. */
  public recordAll(records: Iterable<OutcomeRecord>): void {
    for (const record of records) this.record(record);
  }

  /** Entries settled so far. */
  public get total(): number {
    return DELETE_OUTCOMES.reduce((sum, outcome) => sum + this.counts[outcome], 0);
  }
}
