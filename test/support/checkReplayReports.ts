import type { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { z } from 'zod';
import { listKeys } from '../../lib/aws/listKeys.js';
import { readS3Json } from '../../lib/aws/readS3Json.js';
import type { ManifestVersion } from '../../lib/job/jobRecord.js';
import { jobSummarySchema, type JobSummary } from '../../lib/report/jobSummary.js';
import type { LocalStack } from '../../local/stack/startLocalStack.js';
import { readResults, type ResultLine } from './readResults.js';

/** The two v1 labelling jobs of a replay run: A, where jobs delete, and B, the "other target" of a reused job id. */
export const REPLAY_TARGETS = { A: '710', B: '720' } as const;

/** One of {@link REPLAY_TARGETS}. */
export type TargetName = keyof typeof REPLAY_TARGETS;

/** One thing sent to the function in a replay run: a job (manual or queued), or a pending manifest's version. */
export interface Submission {
  label: string;
  via: 'manual' | 'queue' | 'pending';
  jobId: string;
  target: TargetName;
  dryRun: boolean;
  /** The IDs its summary may name, one list per version: a manifest job reads the version it finds at its first claim. */
  idLists: string[][];
  /** The manifest it points at, when it does. */
  manifestKey?: string;
  input?: Record<string, unknown>;
  /** The SQS message id it was sent with (queue jobs). */
  messageId?: string;
  /** The manual invocation's last answer (`completed`, `continuing`, `rejected`, …). */
  answer?: string;
  /** A pending manifest's version: replaced before any run claimed it, it is no job at all. */
  pending?: { key: string; version: ManifestVersion; replaced: boolean };
}

/** What a replay run did, as the check needs it. */
export interface ReplayRun {
  /** The run's REPORT_PREFIX (and MANIFEST_PREFIX). */
  prefix: string;
  store: (t: TargetName) => ReadonlySet<string>;
  /** Every ID ever put in a store, as `A:<id>` or `B:<id>`. */
  seeded: ReadonlySet<string>;
  /** IDs that left a store during an invocation that crashed or had a write fail: their outcomes may never have been saved. */
  lost: ReadonlySet<string>;
  submissions: readonly Submission[];
}

/** What the checked reports showed, added up over runs (printed by the property test). */
export interface ReplayCounts {
  summaries: number;
  manifestChanged: number;
  abandoned: number;
  conflicts: number;
  pendingDone: number;
}

// What the check reads of rejected.json: which trigger it answers.
const rejectionSchema = z.object({ trigger: z.object({ type: z.string(), source: z.string().optional() }), rejectedAt: z.string().optional(), error: z.object({ code: z.string() }).optional() });
// What the check reads of job.json: when the job was first claimed.
const recordSchema = z.object({ createdAt: z.string() });

/** Every key under `prefix` of `bucket`. */
export async function keysUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of listKeys(s3, bucket, prefix)) keys.push(key);
  return keys;
}

/**
 * The invariant, for every job of the run: its summary agrees with the store for every ID it names,
 * or it was refused with a report that deleted nothing; nothing the store lost is unexplained; no
 * job is left running (the drain delivered everything); no file is left in pending/.
 */
export async function checkReplayReports(stack: LocalStack, run: ReplayRun, counts: ReplayCounts): Promise<void> {
  const { prefix, store, seeded, lost, submissions } = run;
  const reportBucket = stack.env.REPORT_BUCKET!;
  const keys = new Set(await keysUnder(stack.s3, reportBucket, prefix));
  const summaries = new Map<string, { summary: JobSummary; lines: ResultLine[] }>();
  for (const key of [...keys].filter((k) => k.endsWith('/summary.json'))) {
    const summary = (await readS3Json(stack.s3, reportBucket, key, jobSummarySchema))!;
    summaries.set(key, { summary, lines: await readResults(stack.s3, summary.report.results) });
  }
  const topOf = (key: string) => key.slice(prefix.length).split('/')[0]!;
  const targetName = (summary: JobSummary): TargetName => (summary.target.api === 'v1' && summary.target.dataAnnotationId === REPLAY_TARGETS.B ? 'B' : 'A');
  // Which jobs reported each ID gone (deleted or already_deleted), by top-level job folder.
  const reportedGone = new Map<string, Set<string>>();
  for (const [key, { summary, lines }] of summaries) {
    for (const line of lines) {
      if (line.outcome !== 'deleted' && line.outcome !== 'already_deleted') continue;
      const id = `${targetName(summary)}:${line.image_id}`;
      reportedGone.set(id, (reportedGone.get(id) ?? new Set()).add(topOf(key)));
    }
  }
  const goneElsewhere = (id: string, top: string) => [...(reportedGone.get(id) ?? [])].some((other) => other !== top);

  for (const [key, { summary, lines }] of summaries) {
    counts.summaries += 1;
    if (summary.status === 'stopped_manifest_changed') counts.manifestChanged += 1;
    if (summary.status === 'stopped_abandoned') counts.abandoned += 1;
    const t = targetName(summary);
    for (const line of lines) {
      if (!/^[0-9a-f]{32}$/.test(line.image_id)) continue;
      const id = `${t}:${line.image_id}`;
      const present = store(t).has(line.image_id);
      const where = `${key} (target ${t}, status ${summary.status}, trigger ${summary.trigger.type} ${summary.trigger.source ?? ''}): ${line.image_id} line ${line.line} ${line.outcome} ${line.error_code ?? ''}`;
      if (line.outcome === 'deleted') expect(!present && seeded.has(id), `${where}, but the store ${present ? 'has it' : 'never had it'}`).toBe(true);
      else if (line.outcome === 'already_deleted') {
        expect(present, `${where}, but the store has it`).toBe(false);
        // Gone before the job — or deleted by another job, or by an invocation of this one that crashed before saving its outcome.
        if (seeded.has(id)) expect(lost.has(id) || goneElsewhere(id, topOf(key)), `${where}, but it was present and no crash or other job explains it`).toBe(true);
      } else if (!present && seeded.has(id)) expect(lost.has(id) || goneElsewhere(id, topOf(key)), `${where}, but the store lost it and no crash or other job explains it`).toBe(true);
    }
  }
  // Nothing lost from the store without a report saying so, or a crash that explains it.
  for (const t of ['A', 'B'] as const) {
    const missing = [...seeded].filter((id) => id.startsWith(`${t}:`) && !store(t).has(id.slice(2)) && !reportedGone.has(id) && !lost.has(id));
    expect(missing, 'IDs the store lost that no report names and no crash explains').toEqual([]);
  }
  // Every job ended with a report: no folder with a job record is left without a summary or rejected.json.
  const folders = new Set([...keys].filter((k) => k.endsWith('/job.json')).map((k) => k.slice(0, -'job.json'.length)));
  for (const folder of folders) expect(keys.has(`${folder}summary.json`) || keys.has(`${folder}rejected.json`), `${folder} has a job record but no report; it holds ${[...keys].filter((k) => k.startsWith(folder)).map((k) => k.slice(folder.length)).join(', ')}`).toBe(true);
  // One folder, one job's story: a refusal written after the job was claimed, in a folder that also
  // has its summary, would be a second report contradicting it (another job's refusal put there).
  for (const folder of folders) {
    if (!keys.has(`${folder}summary.json`) || !keys.has(`${folder}rejected.json`)) continue;
    const record = (await readS3Json(stack.s3, reportBucket, `${folder}job.json`, recordSchema))!;
    const rejected = (await readS3Json(stack.s3, reportBucket, `${folder}rejected.json`, rejectionSchema))!;
    // One written before (a message given up before any invocation took it up: it deleted nothing) answers that message only.
    expect((rejected.rejectedAt ?? '') <= record.createdAt, `${folder} has a summary and a rejected.json (${rejected.error?.code ?? '?'}, ${rejected.trigger.source ?? ''}) written after its job was claimed: two contradicting reports`).toBe(true);
  }
  // Every submission: its own summary (same target and dryRun, its entries and no others), or a refusal.
  for (const s of submissions) {
    const folder = `${prefix}${s.jobId}/`;
    const own = summaries.get(`${folder}summary.json`)?.summary;
    const named = new Set(summaries.get(`${folder}summary.json`)?.lines.map((line) => line.image_id));
    const matches = own !== undefined && targetName(own) === s.target && own.dryRun === s.dryRun && s.idLists.some((ids) => own.counts.received === ids.length && [...named].every((id) => ids.includes(id)));
    // A rejected.json in the job's folder answers this submission only if it is about it: its message, or its pending version.
    const rejection = keys.has(`${folder}rejected.json`) ? await readS3Json(stack.s3, reportBucket, `${folder}rejected.json`, rejectionSchema) : undefined;
    const ownRejection = rejection !== undefined && (s.via === 'pending' || (s.messageId !== undefined && rejection.trigger.source === s.messageId));
    const refused = s.answer === 'rejected' || (s.messageId !== undefined && keys.has(`${prefix}msg-${s.messageId}/rejected.json`)) || ownRejection;
    if (refused && s.via !== 'pending') counts.conflicts += 1;
    if (s.pending !== undefined && own !== undefined) counts.pendingDone += 1;
    // A version replaced before any run claimed it (no job record) never was a job: its IDs are checked above.
    const neverAJob = s.pending?.replaced === true && !keys.has(`${folder}job.json`);
    expect(matches || refused || neverAJob, `${s.label} (${s.jobId}): ${own === undefined ? 'no summary' : `the summary is of another job: ${targetName(own)} dryRun ${own.dryRun} received ${own.counts.received}, status ${own.status}`}, and no refusal (answer ${s.answer ?? 'none'})`).toBe(true);
  }
  expect(await keysUnder(stack.s3, stack.env.MANIFEST_BUCKET!, `${prefix}pending/`), 'files left in pending/').toEqual([]);
}
