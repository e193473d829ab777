import { EntryScreen } from '../pipeline/EntryScreen.js';
import { s3Uri } from '../aws/s3Uri.js';
import { checkImageId } from '../pipeline/imageId.js';
import type { OutcomeRecord } from '../pipeline/outcome.js';
import { OutcomeTally } from '../pipeline/OutcomeTally.js';
import { readS3Json } from '../aws/readS3Json.js';
import { ReportStreams } from '../report/ReportStreams.js';
import type { CleanupDeps, PlanningPaused, PreparedJob } from '../job/types.js';
import type { SummaryFacts } from '../report/buildJobSummary.js';
import { cancelRequestKey, type CancelRequest } from '../job/cancelRequest.js';
import { CancelWatch } from '../job/CancelWatch.js';
import type { ScaleOutLayout } from './scaleOutLayout.js';
import type { ScaleOutPlan } from './scaleOutPlanSchema.js';
import { writePlanningProgress } from './writeJobProgress.js';
import { writeS3Json } from '../aws/writeS3Json.js';
import { planCheckpointSchema, type PlanCheckpoint } from './planCheckpointSchema.js';
import { PLAN_PARTITION, planSlot, planSlots } from './planPartition.js';
import { PlanWindow } from './PlanWindow.js';
import { deleteKeys } from './deleteKeys.js';
import { putSegments } from './putSegments.js';
import { writeScreenedReport } from './writeScreenedReport.js';
import { planningFacts } from './planFacts.js';

/**
 * The bytes of part-manifest lines (about 52 an ID) the planner gathers before it writes them out
 * as one segment per hash slot: the planner's one big buffer, and what sets the number of PUTs —
 * `parts × windows`, a window per 64 MiB of lines. 64 MiB: at 50,000,000 IDs (about 2.6 GB of
 * lines), 40 windows and, in 500 parts, about 20,000 segment PUTs (≈ $0.10 at $0.005 per 1,000);
 * 32 MiB would double the PUTs and the time they take for 32 MiB less memory, where the planner has
 * about 250 MiB to spare (its functions have 512 MB; it peaked at 229–253 MiB, under tsx, planning
 * 10M and 50M entries in `npm run bench:huge`; nothing else it holds grows with the job). A
 * window is also the unit of a planning checkpoint: at ~200,000 entries/s one is read in ~6 s,
 * far within the `REQUEST_TIMEOUT_MS` between `stopStartingAt` and the end of the budget.
 */
export const PLAN_WINDOW_BYTES = 64 * 1024 * 1024;

/** What a caller may tune of the planner: tests and benchmarks only (windows of a few lines). */
export interface PlanTuning {
  /** @default {@link PLAN_WINDOW_BYTES} */
  windowBytes?: number;
}


/** A plan a cancel request stopped: what the planner had settled when it stopped (its last window), and the request. */
export interface PlanningCancelled {
  kind: 'planning_cancelled';
  request: CancelRequest;
  /** The job's facts: `counts` what the windows written settled (their lines are in part 0's window files, `screenedWindows`). */
  facts: SummaryFacts;
  screenedWindows: readonly number[];
}

/** What {@link planManifest} ends with: the plan, planning paused at the deadline, or cancelled. */
export type PlanOutcome = { kind: 'planned'; plan: ScaleOutPlan } | PlanningPaused | PlanningCancelled;

// Entries read between two looks at the clock for the cancel request (a look is one S3 GET, at most every CANCEL_CHECK_MS).
const CANCEL_POLL_ENTRIES = 4096;

// What a part-0 record (an invalid entry and its rendering) costs while its window lasts, for the window's bound.
const RECORD_BYTES = 256;

/**
 * Reads a split job's manifest in windows from its planning checkpoint (if any) on
 * (docs/scale-out.md "Planning"): each window's valid IDs go to their hash slots' segments, its
 * invalid entries to part 0's window files, then the checkpoint. After a window that ends at or
 * after `stopStartingAt` it pauses; seeing the job's cancel request (before it reads, and every
 * `CANCEL_CHECK_MS` while it does) it stops where it is; at the manifest's end it writes `plan.json` (not yet queued),
 * part 0's report, and deletes the checkpoint. Resumed from the checkpoint, it makes the plan an
 * uncut run makes: the same parts, the same segments' bytes.
 *
 * @param partSize - Used only for a plan begun now; a plan under way keeps its own.
 */
export async function planManifest(run: PreparedJob, deps: CleanupDeps, layout: ScaleOutLayout, partSize: number, stopStartingAt: number, windowBytes: number): Promise<PlanOutcome> {
  const { source, location, identity } = run;
  const { s3, clock, logger } = deps;
  const { bucket } = location;
  // A plan under way keeps the shape it was begun with (slots, part size, window): a continuation
  // asked with another part size resumes it as begun, so its segments stay one plan's.
  const state = (await readS3Json(s3, bucket, layout.planCheckpointKey, planCheckpointSchema)) ?? newCheckpoint(run, planSlots(source.entryCount, partSize), partSize, windowBytes, clock.now());
  state.invocations += 1;
  const { slots } = state;
  const tally = new OutcomeTally(state.counts);
  // Invalid entries only: its set of valid IDs stays empty (the parts de-duplicate those); its set
  // of invalid entries is rebuilt from the lines before the checkpoint, so a repeat of one stays a repeat.
  const screen = new EntryScreen();
  const window = new PlanWindow(state.windowBytes, slots);
  let records: OutcomeRecord[] = [];
  let last = state.lineReached;
  let read = state.entriesRead;
  let windowNormalized = 0;
  const flush = async (): Promise<void> => {
    const w = state.windows + 1;
    await putSegments(s3, bucket, window.segments(), (slot) => layout.segmentKey(slot + 1, w));
    if (records.length > 0) {
      const streams = new ReportStreams(s3, { bucket, ...layout.screenedWindow(w) }, source.target);
      try {
        await streams.write(records);
      } finally {
        await streams.close();
      }
      state.screenedWindows.push(w);
    }
    window.clear();
    records = [];
    state.windows = w;
    state.lineReached = last;
    state.entriesRead = read;
    state.counts = { ...tally.counts };
    state.normalized += windowNormalized;
    windowNormalized = 0;
    state.updatedAt = new Date(clock.now()).toISOString();
    await writeS3Json(s3, bucket, layout.planCheckpointKey, state);
    await writePlanningProgress(s3, layout, { jobId: identity.jobId, entries: source.entryCount, read, counts: tally.counts, slots, startedAt: state.startedAt }, clock).catch((error: unknown) => {
      logger.warn('planning progress not written', { error: error as Error });
    });
  };

  const facts = (): SummaryFacts => planningFacts(run, state, clock.now());
  const cancel = new CancelWatch({ s3, clock, logger }, { bucket, key: cancelRequestKey(location) }, deps.config.CANCEL_CHECK_MS);
  const cancelled = (request: CancelRequest): PlanningCancelled => {
    logger.warn('planning cancelled', { lineReached: state.lineReached, entries: source.entryCount, windows: state.windows, requestedAt: request.requestedAt });
    return { kind: 'planning_cancelled', request, facts: facts(), screenedWindows: [...state.screenedWindows] };
  };
  const asked = await cancel.look();
  if (asked !== undefined) return cancelled(asked);

  if (state.lineReached > 0) logger.info('planning continues', { lineReached: state.lineReached, windows: state.windows, invocation: state.invocations });
  let paused = false;
  let sinceLook = 0;
  for await (const entry of source.entries()) {
    if ((sinceLook += 1) === CANCEL_POLL_ENTRIES) {
      sinceLook = 0;
      cancel.poll();
      // What this window gathered is dropped: the plan ends here, nothing of it is sent.
      if (cancel.requested !== undefined) break;
    }
    const candidate = typeof entry.value === 'string' ? normalise(entry.value) : entry.value;
    const check = checkImageId(candidate);
    if (entry.position <= state.lineReached) {
      if (!check.ok) screen.screen(entry.value, entry.position);
      continue;
    }
    read += 1;
    last = entry.position;
    if (check.ok) {
      if (candidate !== entry.value) windowNormalized += 1;
      const slot = planSlot(check.id, slots);
      // IDs are 32 hex characters: no escaping needed.
      window.add(slot, `{"image_id":"${check.id}","line":${entry.position}}\n`);
      if (state.slotEntries[slot] === 0) state.slotFirstLine[slot] = entry.position;
      state.slotEntries[slot]! += 1;
      state.slotLastLine[slot] = entry.position;
    } else {
      const before = screen.normalized;
      const screened = screen.screen(entry.value, entry.position);
      windowNormalized += screen.normalized - before;
      if (screened.kind === 'settled') {
        tally.record(screened.record);
        records.push(screened.record);
      }
    }
    if (window.bytes + records.length * RECORD_BYTES >= state.windowBytes) {
      await flush();
      if (clock.now() >= stopStartingAt) {
        paused = true;
        break;
      }
    }
  }
  await cancel.settle();
  if (cancel.requested !== undefined) return cancelled(cancel.requested);
  if (paused) {
    logger.info('planning paused at the deadline', { lineReached: state.lineReached, entries: source.entryCount, windows: state.windows, invocation: state.invocations });
    return { kind: 'planning_paused', resumeAfter: state.lineReached, checkpoint: s3Uri(bucket, layout.planCheckpointKey), facts: facts() };
  }
  if (window.bytes > 0 || records.length > 0) await flush();

  const parts: ScaleOutPlan['parts'] = [];
  for (let slot = 0; slot < slots; slot += 1) {
    const entries = state.slotEntries[slot]!;
    if (entries === 0) continue; // an empty slot makes no part: parts are numbered without gaps
    const part = parts.length + 1;
    parts.push({ part, key: layout.partManifestKey(part), entries, firstLine: state.slotFirstLine[slot]!, lastLine: state.slotLastLine[slot]!, slot: slot + 1 });
  }
  await writeScreenedReport(s3, layout, state.screenedWindows, source);
  const plan: ScaleOutPlan = {
    formatVersion: 1,
    jobId: identity.jobId,
    jobIdSource: identity.source,
    trigger: state.trigger,
    target: source.target,
    manifest: source.manifest ?? '',
    ...(source.manifestETag === undefined ? {} : { manifestETag: source.manifestETag }),
    entries: source.entryCount,
    partSize: state.partSize,
    parts,
    windows: state.windows,
    screened: { counts: { ...tally.counts }, normalized: state.normalized },
    options: run.options,
    startedAt: new Date(state.startedAt).toISOString(),
    plannedAt: new Date(clock.now()).toISOString(),
    queued: false,
  };
  await writeS3Json(s3, bucket, layout.planKey, plan);
  // plan.json wins over the checkpoint from now on; the window files are in part 0's report.
  await deleteKeys(s3, bucket, [layout.planCheckpointKey, ...state.screenedWindows.flatMap((w) => Object.values(layout.screenedWindow(w)))]).catch((error: unknown) => {
    logger.warn('planning checkpoint and window files not deleted', { error: error as Error });
  });
  logger.info('job planned', { entries: source.entryCount, parts: parts.length, slots, windows: state.windows, planningInvocations: state.invocations });
  return { kind: 'planned', plan };
}

function newCheckpoint(run: PreparedJob, slots: number, partSize: number, windowBytes: number, now: number): PlanCheckpoint {
  const { identity, source } = run;
  const zeros = (): number[] => new Array<number>(slots).fill(0);
  return {
    formatVersion: 1,
    jobId: identity.jobId,
    jobIdSource: identity.source,
    job: run.input,
    trigger: { ...run.trigger, manifest: source.manifest },
    ...(source.manifestETag === undefined ? {} : { manifestETag: source.manifestETag }),
    manifest: source.manifest ?? '',
    partition: PLAN_PARTITION,
    slots,
    partSize,
    windowBytes,
    lineReached: 0,
    entriesRead: 0,
    windows: 0,
    screenedWindows: [],
    counts: { ...new OutcomeTally().counts },
    normalized: 0,
    slotEntries: zeros(),
    slotFirstLine: zeros(),
    slotLastLine: zeros(),
    invocations: 0,
    startedAt: run.startedAt,
    updatedAt: new Date(now).toISOString(),
  };
}

// As lib/pipeline/EntryScreen.ts normalises: trimmed, and an otherwise valid ID in upper case lower-cased.
function normalise(value: string): string {
  const trimmed = value.trim();
  return /^[0-9a-fA-F]{32}$/.test(trimmed) ? trimmed.toLowerCase() : trimmed;
}
