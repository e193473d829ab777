import type { ManifestChangedError } from '../core/errors.js';
import type { OutcomeCounts } from '../pipeline/outcome.js';
import type { JobStop } from '../report/jobSummary.js';

/** What stops a whole job (every part of a split job): a threshold, or the service refusing the job as a whole. */
export const JOB_WIDE_STOPS = ['failure_threshold', 'not_found_threshold', 'service_refused'] as const;

/** One of {@link JOB_WIDE_STOPS}. */
export type JobWideStop = (typeof JOB_WIDE_STOPS)[number];

/** What a job itself crossed: which stop, in the threshold's (or the refusal's) own words, its figures, and the service's code for a refusal. */
export interface OwnCrossing {
  kind: JobWideStop;
  crossing: string;
  attempted?: number;
  failed?: number;
  notFound?: number;
  code?: string;
}

/** What another part of the same split job met (its `stop.json`). */
interface PartCrossing {
  crossing: string;
  part: number;
  code?: string;
}

/** How each job-wide stop reads in a stop reason ("stopped …"), for a job and for a split job's assembly. */
export const STOPPED_AT: Readonly<Record<JobWideStop, string>> = {
  failure_threshold: 'at the failure threshold',
  not_found_threshold: 'at the not-found threshold (a wrong target, or IDs deleted already)',
  service_refused: 'at once: the service refused the job as a whole',
};

/**
 * The stop of a job that a threshold or a refusal of the whole job ended: its own crossing, with
 * its figures, or — when it crossed nothing itself — the one another part of its split job met
 * (`part` names it).
 *
 * @param own - This job's own crossing of `kind`, if it crossed it.
 */
export function wholeJobStop(kind: JobWideStop, own: OwnCrossing | undefined, external: PartCrossing | undefined): JobStop {
  const fromPart = own === undefined && external !== undefined;
  const crossing = fromPart ? `part ${external.part} of this job ${kind === 'service_refused' ? 'met it' : 'crossed it'} (${external.crossing})` : (own?.crossing ?? '');
  const reason = `stopped ${STOPPED_AT[kind]}: ${crossing}; the IDs not attempted are skipped`;
  if (kind === 'service_refused') {
    const code = own?.code ?? external?.code;
    return { kind, reason, crossing, ...(code === undefined ? {} : { code }), ...(fromPart ? { part: external.part } : {}) };
  }
  if (fromPart) return { kind, reason, crossing, part: external.part };
  const attempted = own?.attempted ?? 0;
  return kind === 'failure_threshold' ? { kind, reason, crossing, attempted, failed: own?.failed ?? 0 } : { kind, reason, crossing, attempted, notFound: own?.notFound ?? 0 };
}

/**
 * How a job whose pinned manifest version is gone ends, whoever ends it (its run, or the
 * dead-letter handler giving it up): the counts of what was settled, and every entry never read
 * counted `skipped` (`MANIFEST_CHANGED`); its stop says from which line on nothing was read.
 *
 * @param unconfirmed - An invocation took the job up and saved nothing (it crashed after its
 *   record, before its first checkpoint): it may have deleted some of the entries not read, and
 *   which is unknown, so they are counted `failed` (`MANIFEST_CHANGED_UNCONFIRMED`: not confirmed
 *   either way), never `skipped` (not attempted), and the reason says so.
 */
export function manifestChangedEnding(error: ManifestChangedError, counts: Readonly<OutcomeCounts>, entries: number, resumeAfter: number, unconfirmed = false): { stop: Extract<JobStop, { kind: 'manifest_changed' }>; counts: OutcomeCounts } {
  const settled = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const notReached = Math.max(0, entries - settled);
  const lines = `${error.issues[0]?.message ?? error.message}; the lines after ${resumeAfter} were never read`;
  if (unconfirmed) {
    const reason = `${lines} by this invocation, and an earlier one that took the job up ended without saving what it did (a crash): some of these ${notReached} entries may have been deleted, none is confirmed: counted failed (MANIFEST_CHANGED_UNCONFIRMED), with no line in the report files (their IDs are in the version that is gone)`;
    return { stop: { kind: 'manifest_changed', reason, resumeAfter, notReached }, counts: { ...counts, failed: counts.failed + notReached } };
  }
  const reason = `${lines}: their ${notReached} entries are skipped (MANIFEST_CHANGED)`;
  return { stop: { kind: 'manifest_changed', reason, resumeAfter, notReached }, counts: { ...counts, skipped: counts.skipped + notReached } };
}
