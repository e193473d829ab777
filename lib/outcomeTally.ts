import { DELETE_OUTCOMES, type OutcomeCounts, type OutcomeRecord } from './outcome.js';

/** Collects a job's outcomes: counts for all, and the records that belong in `failed.csv`. */
export class OutcomeTally {
  public readonly counts: OutcomeCounts = Object.fromEntries(DELETE_OUTCOMES.map((outcome) => [outcome, 0])) as OutcomeCounts;
  /** Records whose outcome is `failed` or `invalid`, in the order they were settled. */
  public readonly failures: OutcomeRecord[] = [];

  /** Adds one record. */
  public record(record: OutcomeRecord): void {
    this.counts[record.outcome] += 1;
    if (record.outcome === 'failed' || record.outcome === 'invalid') this.failures.push(record);
  }

  /** Adds many records. */
  public recordAll(records: Iterable<OutcomeRecord>): void {
    for (const record of records) this.record(record);
  }

  /** Entries settled so far; equals the entries received once the job is done. */
  public get total(): number {
    return DELETE_OUTCOMES.reduce((sum, outcome) => sum + this.counts[outcome], 0);
  }
}
