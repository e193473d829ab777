/** One entry of a job: a candidate ID and its 1-based line (manifest) or place (inline list). */
export interface JobEntry {
  position: number;
  value: unknown;
}
