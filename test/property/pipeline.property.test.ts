import { Logger } from '@aws-lambda-powertools/logger';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.js';
import { createCleanupDeps } from '../../lib/deps/createCleanupDeps.js';
import { JobInProgressError, JobValidationError } from '../../lib/core/errors.js';
import type { JobSummary, TriggerInfo } from '../../lib/report/jobSummary.js';
import { createModelArtsClient } from '../../lib/modelarts/modelArtsClient.js';
import { continueCleanupJob, runCleanupJob } from '../../lib/job/runCleanupJob.js';
import { type CleanupResult } from '../../lib/job/types.js';
import type { EmulatorFault } from '../../local/emulator/modelArtsEmulator.js';
import { seededRandom } from '../../local/emulator/seededRandom.js';
import { clockedModelArts, type ClockedCall } from '../support/clockedModelArts.js';
import { failingS3 } from '../support/failingS3.js';
import { readResults } from '../support/readResults.js';
import { virtualClock } from '../support/virtualClock.js';
import { useLocalStack } from '../support/useLocalStack.js';
import { testBudget } from '../support/testBudget.js';

// Property test over the whole pipeline (runCleanupJob / continueCleanupJob) against the real local
// servers: fauxqs S3 and the ModelArts emulator over HTTP. Each run uses a fresh project, so runs
// never see each other's images or reports. Time is virtual (every request moves the clock by
// MS_PER_REQUEST; sleeps are instant), so deadlines cut jobs after a known number of requests and
// Retry-After costs no real time; the HTTP traffic, S3 and the emulator's store are real.
//
// Reproduce a failure with PROPERTY_SEED=<seed printed below> (and PROPERTY_RUNS to change the count).
const SEED = Number(process.env.PROPERTY_SEED ?? 20_261_128);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);
// fast-check's replay path of a counterexample (printed with the seed), to re-run just that case.
const PATH = process.env.PROPERTY_PATH;
const MS_PER_REQUEST = 10;
// Short, so injected hangs cost little real time; hangs are injected only into small jobs.
const REQUEST_TIMEOUT_MS = 100;
const MAX_INVOCATIONS = 400;

const stack = useLocalStack();
let runNumber = 0;

/** What one entry of a generated job is, so the oracle knows its outcome class without asking the pipeline. */
type EntryKind = 'present' | 'gone' | 'invalid' | 'duplicate';

interface Scenario {
  size: number;
  api: 'v1' | 'v2';
  mix: { gone: number; invalid: number; duplicate: number };
  keep: number;
  chunkSize: number;
  maxInFlight: number;
  faults: { rate: number; kinds: Array<'throttle' | 'server' | 'reset' | 'hang' | 'permanent'> };
  cuts: number;
  continueBy: 'continuation' | 'same_job';
  trigger: 'idempotency_key' | 'message_id' | 'content_hash';
  dryRun: boolean;
  threshold: { minAttempted: number; maxFailureRate: number } | undefined;
  uploadFailure: number | undefined;
  concurrentDuplicate: boolean;
  redeliveries: number;
  /** The job names a labelling job or dataset that does not exist: every request fails (the failure threshold's case). */
  wrongTarget: boolean;
  seed: number;
}

const sizeArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 60 }) },
  { weight: 4, arbitrary: fc.integer({ min: 61, max: 600 }) },
  { weight: 1, arbitrary: fc.integer({ min: 601, max: 3000 }) },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  size: sizeArb,
  api: fc.constantFrom('v1' as const, 'v2' as const),
  mix: fc.record({ gone: fc.double({ min: 0, max: 0.3, noNaN: true }), invalid: fc.double({ min: 0, max: 0.2, noNaN: true }), duplicate: fc.double({ min: 0, max: 0.3, noNaN: true }) }),
  keep: fc.integer({ min: 0, max: 20 }),
  chunkSize: fc.constantFrom(1, 3, 10, 37, 100, 250),
  maxInFlight: fc.integer({ min: 1, max: 4 }),
  faults: fc.record({
    rate: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.3, noNaN: true })),
    kinds: fc.subarray(['throttle', 'server', 'reset', 'hang', 'permanent'] as const, { minLength: 1 }).map((kinds) => [...kinds]),
  }),
  cuts: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  continueBy: fc.constantFrom('continuation' as const, 'same_job' as const),
  trigger: fc.constantFrom('idempotency_key' as const, 'message_id' as const, 'content_hash' as const),
  dryRun: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  threshold: fc.option(fc.record({ minAttempted: fc.integer({ min: 1, max: 60 }), maxFailureRate: fc.double({ min: 0, max: 0.5, noNaN: true }) }), { nil: undefined, freq: 3 }),
  uploadFailure: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined, freq: 2 }),
  concurrentDuplicate: fc.boolean(),
  redeliveries: fc.integer({ min: 1, max: 2 }),
  wrongTarget: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

const FAULTS: Record<Scenario['faults']['kinds'][number], EmulatorFault[]> = {
  throttle: [{ status: 429, retryAfterSeconds: 0 }, { status: 429, retryAfterSeconds: 1 }],
  server: [{ status: 500 }, { status: 503 }],
  reset: [{ action: 'reset' }],
  hang: [{ action: 'hang' }],
  permanent: [{ status: 403, errorCode: 'ModelArts.4803', errorMessage: 'The dataset has unfinished label tasks.' }],
};

interface GeneratedJob {
  entries: unknown[];
  kinds: EntryKind[];
  /** The canonical ID of each valid entry (present, gone, or a duplicate of one). */
  canonical: Array<string | undefined>;
  present: string[];
  keep: string[];
}

// The oracle's reading of an entry: the same normalisation the README documents (trim, lower-case hex).
function canonicalOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  const lowered = /^[0-9a-fA-F]{32}$/.test(trimmed) ? trimmed.toLowerCase() : trimmed;
  return /^[0-9a-f]{32}$/.test(lowered) ? lowered : undefined;
}

const INVALID_POOL: unknown[] = ['', 'xyz', 'not-an-image-id', '0123456789abcdef0123456789abcdeg', '0123456789abcdef0123456789abcdef0', 42, null, { id: 1 }, ['a'], '  ', 'ü'.repeat(32)];

function generateJob(scenario: Scenario, project: string): GeneratedJob {
  const random = seededRandom(scenario.seed);
  const id = (label: string, i: number) => createHash('md5').update(`${project}:${label}:${i}`).digest('hex');
  const entries: unknown[] = [];
  const kinds: EntryKind[] = [];
  const canonical: Array<string | undefined> = [];
  const present: string[] = [];
  const seenInvalid = new Set<string>();
  for (let i = 0; i < scenario.size; i += 1) {
    const draw = random();
    const { gone, invalid, duplicate } = scenario.mix;
    if (draw < duplicate && entries.length > 0) {
      // A repeat of an earlier entry: as it was, or an equivalent spelling (upper case, padded).
      const earlier = entries[Math.floor(random() * entries.length)];
      const earlierId = canonicalOf(earlier);
      const variant = earlierId === undefined ? earlier : [earlierId, earlierId.toUpperCase(), ` ${earlierId}\t`][Math.floor(random() * 3)];
      entries.push(variant);
      kinds.push(earlierId === undefined ? 'invalid' : 'duplicate');
      canonical.push(earlierId);
    } else if (draw < duplicate + invalid) {
      entries.push(INVALID_POOL[Math.floor(random() * INVALID_POOL.length)]);
      kinds.push('invalid');
      canonical.push(undefined);
    } else if (draw < duplicate + invalid + gone) {
      const gid = id('gone', i);
      entries.push(gid);
      kinds.push('gone');
      canonical.push(gid);
    } else {
      const pid = id('present', i);
      present.push(pid);
      entries.push(random() < 0.1 ? pid.toUpperCase() : pid);
      kinds.push('present');
      canonical.push(pid);
    }
  }
  // Invalid entries repeated verbatim are reported as duplicates; mark them so.
  for (const [index, kind] of kinds.entries()) {
    if (kind !== 'invalid') continue;
    const key = typeof entries[index] === 'string' ? `s:${entries[index]}` : `j:${JSON.stringify(entries[index])}`;
    if (seenInvalid.has(key)) kinds[index] = 'duplicate';
    seenInvalid.add(key);
  }
  const keep = Array.from({ length: scenario.keep }, (_, i) => id('keep', i));
  return { entries, kinds, canonical, present, keep };
}

interface RunOutcome {
  summary: JobSummary | undefined;
  invocations: number;
  /** IDs the emulator deleted during invocations that threw: their outcomes were never saved. */
  deletedByThrown: Set<string>;
  stuck: boolean;
}

function targetOf(scenario: Scenario, project: string) {
  const suffix = scenario.wrongTarget ? '-missing' : '';
  return scenario.api === 'v1' ? { projectId: project, dataAnnotationId: `282${suffix}` } : { projectId: project, datasetId: `ds-prop${suffix}` };
}

function storeOf(scenario: Scenario, project: string): ReadonlySet<string> {
  return scenario.api === 'v1' ? stack.emulator.labellingJobImages(project, '282') : stack.emulator.datasetSamples(project, 'ds-prop');
}

async function listReportKeys(jobId: string): Promise<string[]> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.env.REPORT_BUCKET, Prefix: `reports/${jobId}/` }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '');
}

/** The trace of the run being checked, printed when it fails. */
let trace: string[] = [];

async function checkRun(scenario: Scenario): Promise<void> {
  runNumber += 1;
  const project = `prop${SEED}r${runNumber}`;
  const job = generateJob(scenario, project);
  const target = targetOf(scenario, project);
  if (scenario.api === 'v1') stack.emulator.seedLabellingJob(project, '282', [...job.present, ...job.keep]);
  else stack.emulator.seedDataset(project, 'ds-prop', [...job.present, ...job.keep]);
  const before = new Set(storeOf(scenario, project));

  const faults = scenario.faults.kinds.filter((kind) => kind !== 'hang' || scenario.size <= 80).flatMap((kind) => FAULTS[kind]);
  stack.emulator.settings.randomFaults = scenario.faults.rate > 0 && faults.length > 0 ? { rate: scenario.faults.rate, random: seededRandom(scenario.seed ^ 0x5bd1e995), faults } : undefined;

  const clock = virtualClock({ start: 1_900_000_000_000, random: seededRandom(scenario.seed ^ 0x2545f491), sleeps: 'advance' });
  const config = loadConfig({
    ...stack.env,
    RETRY_BASE_MS: '5',
    RETRY_MAX_MS: '2000',
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    MAX_ATTEMPTS: '5',
  });
  const calls: ClockedCall[] = [];
  const modelArts = clockedModelArts(createModelArtsClient({ endpoint: config.MODELARTS_ENDPOINT, requestTimeoutMs: REQUEST_TIMEOUT_MS, now: () => clock.now() }), clock, MS_PER_REQUEST, calls);
  const s3 = failingS3(stack.s3, 'reports/');
  const deps = createCleanupDeps(config, { s3: s3.s3, sqs: stack.sqs, clock, modelArts, logger: new Logger({ logLevel: 'SILENT' }) });
  // No EMF lines: they would drown the output of hundreds of runs.
  delete deps.metrics;

  // A wrong target always runs with a threshold low enough to be reached, so its stop is checked.
  const threshold = scenario.threshold ?? (scenario.wrongTarget ? { minAttempted: 5, maxFailureRate: 0.5 } : undefined);
  const options = {
    chunkSize: scenario.chunkSize,
    maxInFlight: scenario.maxInFlight,
    ...(scenario.dryRun ? { dryRun: true } : {}),
    ...(threshold === undefined ? {} : { failureThreshold: threshold }),
  };
  const input = { target, imageIds: job.entries, options, ...(scenario.trigger === 'idempotency_key' ? { jobId: `prop-${SEED}-${runNumber}` } : {}) };
  const trigger: TriggerInfo = scenario.trigger === 'message_id' ? { type: 'queue', source: randomUUID() } : { type: 'manual' };

  // A job of zero entries is refused as a whole: nothing is sent.
  if (scenario.size === 0) {
    await expect(runCleanupJob(input, trigger, deps)).rejects.toBeInstanceOf(JobValidationError);
    expect(calls).toHaveLength(0);
    return;
  }

  // Deadlines: an invocation may start chunks for `budget` virtual ms, i.e. about budget / MS_PER_REQUEST requests.
  const validCount = job.kinds.filter((kind) => kind === 'present' || kind === 'gone').length;
  const expectedRequests = Math.max(1, Math.ceil(validCount / scenario.chunkSize));
  const budget = scenario.cuts === 0 ? undefined : Math.max(1, Math.floor(expectedRequests / (scenario.cuts + 1))) * MS_PER_REQUEST;
  const deadlineViolations: string[] = [];

  const invoke = async (first: boolean, jobId: string | undefined): Promise<CleanupResult> => {
    const stopStartingAt = budget === undefined ? undefined : clock.now() + budget;
    const limits = testBudget(stopStartingAt === undefined ? {} : { stopStartingAt }, clock.now());
    const from = calls.length;
    const result = first || scenario.continueBy === 'same_job' || jobId === undefined ? await runCleanupJob(input, trigger, deps, limits, { continuation: false }) : await continueCleanupJob(jobId, deps, limits, { continuation: false });
    // No chunk starts once the invocation's deadline passed, except those already in progress (at most 2 × maxInFlight).
    if (stopStartingAt !== undefined) {
      const seen = new Set<string>();
      let lateChunks = 0;
      for (const call of calls.slice(from)) {
        const head = call.ids[0] ?? '';
        if (!seen.has(head) && call.at >= stopStartingAt) lateChunks += 1;
        for (const id of call.ids) seen.add(id);
      }
      if (lateChunks > 2 * scenario.maxInFlight) deadlineViolations.push(`${lateChunks} chunks started after stopStartingAt (bound ${2 * scenario.maxInFlight})`);
    }
    return result;
  };

  trace = [];
  const outcome: RunOutcome = { summary: undefined, invocations: 0, deletedByThrown: new Set(), stuck: false };
  let jobId: string | undefined;
  let consecutiveThrows = 0;
  if (scenario.uploadFailure !== undefined) s3.failWrite(scenario.uploadFailure);
  let first = true;
  while (outcome.summary === undefined && outcome.invocations < MAX_INVOCATIONS) {
    outcome.invocations += 1;
    const storeBefore = new Set(storeOf(scenario, project));
    let results: Array<PromiseSettledResult<CleanupResult>>;
    if (first && scenario.concurrentDuplicate) {
      // The same delivery twice at once: at most one of them may run the job.
      results = await Promise.allSettled([invoke(true, undefined), invoke(true, undefined)]);
    } else {
      results = await Promise.allSettled([invoke(first, jobId)]);
    }
    first = false;
    const storeAfter = storeOf(scenario, project);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    const done = results.filter((r): r is PromiseFulfilledResult<CleanupResult> => r.status === 'fulfilled').map((r) => r.value);
    for (const result of done) jobId = result.summary.jobId;
    trace.push(`invocation ${outcome.invocations}: ${results.map((r) => (r.status === 'fulfilled' ? `${r.value.summary.status}${r.value.reused ? ' (reused)' : ''} resumeAfter=${r.value.summary.continuation?.resumeAfter ?? '-'} settled=${r.value.summary.settled}` : `threw ${(r.reason as Error).name}: ${(r.reason as Error).message}`)).join(' | ')}; store ${storeBefore.size} -> ${storeAfter.size}; failed write: ${s3.failed ?? 'none'}`);
    const unexpected = failures.filter((error) => !(error instanceof JobInProgressError));
    if (unexpected.length > 0) {
      // Only the injected S3 failure may make an invocation throw.
      expect(s3.failed, `unexpected error: ${String(unexpected[0])}`).toBeDefined();
      for (const id of storeBefore) if (!storeAfter.has(id)) outcome.deletedByThrown.add(id);
      consecutiveThrows += 1;
    } else consecutiveThrows = 0;
    if (failures.some((error) => error instanceof JobInProgressError)) coverage.claimConflicts += 1;
    if (failures.some((error) => error instanceof JobInProgressError) && done.length === 0) {
      // A claim left behind by an invocation that threw: it is taken over once it expires.
      clock.advance(20 * 60_000);
    }
    const finished = done.find((result) => result.summary.status !== 'continuing');
    if (finished !== undefined) outcome.summary = finished.summary;
    if (consecutiveThrows >= 4) {
      outcome.stuck = true;
      break;
    }
  }
  expect(deadlineViolations).toEqual([]);
  expect(outcome.invocations, 'the job never finished').toBeLessThan(MAX_INVOCATIONS);

  coverage.runs += 1;
  coverage.requests += calls.length;
  if (s3.failed !== undefined) coverage.uploadFailures += 1;
  if (outcome.stuck) {
    // It may throw for ever, but never leave a report that is wrong: no summary may exist.
    const keys = jobId === undefined ? [] : await listReportKeys(jobId);
    expect(keys.filter((key) => key.endsWith('summary.json'))).toEqual([]);
    stuckRuns.push({ runNumber, failed: s3.failed ?? '' });
    return;
  }
  const summary = outcome.summary!;
  const after = storeOf(scenario, project);

  // Every entry in exactly one outcome: one results line per distinct entry, each position once;
  // repeats (after normalising, as the pipeline does) are counted in the summary only.
  const lines = await readResults(stack.s3, summary.report.results);
  const repeats = repeatPositions(job.entries);
  expect(lines.map((line) => line.line).sort((a, b) => a - b)).toEqual(job.entries.map((_, i) => i + 1).filter((position) => !repeats.has(position)));
  const counts = Object.fromEntries(['deleted', 'already_deleted', 'failed', 'invalid', 'duplicate', 'skipped', 'would_delete'].map((o) => [o, lines.filter((l) => l.outcome === o).length]));
  counts.duplicate = repeats.size;
  expect(summary.counts).toEqual({ received: job.entries.length, ...counts });
  expect(summary.settled).toBe(job.entries.length);

  const byOutcome = (name: string) => new Set(lines.filter((line) => line.outcome === name).map((line) => line.image_id));
  const deleted = byOutcome('deleted');
  const alreadyDeleted = byOutcome('already_deleted');
  const emulatorDeleted = new Set([...before].filter((id) => !after.has(id)));

  for (const line of lines) {
    const index = line.line - 1;
    const kind = job.kinds[index];
    const allowed: Record<EntryKind, string[]> = scenario.dryRun
      ? { present: ['would_delete'], gone: ['would_delete'], invalid: ['invalid'], duplicate: ['duplicate'] }
      : scenario.wrongTarget
        ? { present: ['failed', 'skipped'], gone: ['failed', 'skipped'], invalid: ['invalid'], duplicate: ['duplicate'] }
        : { present: ['deleted', 'failed', 'skipped', 'already_deleted'], gone: ['already_deleted', 'failed', 'skipped'], invalid: ['invalid'], duplicate: ['duplicate'] };
    expect(allowed[kind!], `line ${line.line} (${kind}) ended ${line.outcome}`).toContain(line.outcome);
    if (kind === 'present' || kind === 'gone') expect(line.image_id).toBe(job.canonical[index]);
  }
  // already_deleted IDs were really gone before the job — or deleted by an invocation of this job
  // that threw before its outcomes were saved (the re-run finds them gone; see the report).
  // A request the client gave up on (TIMEOUT) is ambiguous: the emulator may still have done it
  // (it does not stop when the client leaves, as a real server would not), and the retry then finds
  // the IDs gone. Resets and hangs injected by the emulator never delete, so they are not ambiguous.
  const ambiguous = new Set(calls.filter((call) => call.timedOut === true).flatMap((call) => call.ids));
  if (ambiguous.size > 0) coverage.ambiguousRuns += 1;
  const explained = (id: string) => outcome.deletedByThrown.has(id) || ambiguous.has(id);
  for (const id of alreadyDeleted) expect(!before.has(id) || explained(id), `${id} reported already_deleted but was present`).toBe(true);
  // No ID reported deleted that was not; the emulator deleted exactly the report's deleted set
  // (plus, after a thrown invocation, the IDs it deleted).
  expect([...deleted].filter((id) => !emulatorDeleted.has(id))).toEqual([]);
  // An invocation that throws (its report write failed) saves no outcome: the IDs it deleted are
  // found gone by the re-run (already_deleted), or refused by a fault then (failed); likewise the
  // IDs of a request that timed out.
  const unexplained = [...emulatorDeleted].filter((id) => !deleted.has(id) && !explained(id));
  expect(unexplained.map((id) => `${id}: ${lines.filter((line) => line.image_id === id).map((line) => `${line.outcome} ${line.error_code ?? ''}`).join(', ')}; failed S3 write: ${s3.failed ?? 'none'}`)).toEqual([]);
  for (const id of job.keep) expect(after.has(id)).toBe(true);
  if (scenario.dryRun) expect(calls).toHaveLength(0);
  if (counts.skipped! > 0) expect(summary.status).toBe('stopped_failure_threshold');
  // A target that fails every request stops at the threshold: at most the chunks in progress beyond it are attempted.
  const thresholdMin = threshold?.minAttempted ?? 1000;
  if (scenario.wrongTarget && !scenario.dryRun && validCount > thresholdMin + 2 * scenario.maxInFlight * scenario.chunkSize) {
    expect(summary.status).toBe('stopped_failure_threshold');
    expect(counts.failed!).toBeLessThanOrEqual(thresholdMin + 2 * scenario.maxInFlight * scenario.chunkSize);
  }
  if (summary.invocations > 1) coverage.cutJobs += 1;
  if (scenario.wrongTarget) coverage.wrongTargets += 1;
  coverage.maxInvocations = Math.max(coverage.maxInvocations, summary.invocations);
  if (summary.status === 'stopped_failure_threshold') coverage.thresholdStops += 1;
  if (scenario.dryRun) coverage.dryRuns += 1;
  if (counts.already_deleted! > 0) coverage.alreadyDeleted += 1;
  if (counts.failed! > 0) coverage.failed += 1;
  coverage.redeliveries += scenario.redeliveries;

  // A redelivered completed job makes no API call and gets the same summary back.
  for (let i = 0; i < scenario.redeliveries; i += 1) {
    const sent = stack.emulator.requests.length;
    const again = i % 2 === 0 || jobId === undefined ? await runCleanupJob(input, trigger, deps, testBudget({}, clock.now()), { continuation: false }) : await continueCleanupJob(jobId, deps, testBudget({}, clock.now()), { continuation: false });
    expect(again.reused).toBe(true);
    expect(again.summary).toEqual(summary);
    expect(stack.emulator.requests.length).toBe(sent);
  }
}

const stuckRuns: Array<{ runNumber: number; failed: string }> = [];
// What the runs exercised, printed at the end: a property that never cuts a job or fails an upload proves little.
const coverage = { runs: 0, cutJobs: 0, maxInvocations: 0, uploadFailures: 0, claimConflicts: 0, thresholdStops: 0, dryRuns: 0, alreadyDeleted: 0, failed: 0, redeliveries: 0, requests: 0, ambiguousRuns: 0, wrongTargets: 0 };

describe('the whole pipeline under random jobs, faults, deadlines and redeliveries', () => {
  it('settles every entry exactly once and reports exactly what the emulator did', async () => {
    // Prepare
    console.info(`pipeline property: seed ${SEED}, ${RUNS} runs (PROPERTY_SEED / PROPERTY_RUNS to change)`);
    stack.emulator.requests.length = 0;

    // Act and Assess: each run checks its own invariants.
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        stack.emulator.requests.length = 0;
        try {
          await checkRun(scenario);
        } catch (error) {
          console.error(`run ${runNumber} failed; its invocations:\n${trace.join('\n')}`);
          throw error;
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, ...(PATH === undefined ? {} : { path: PATH }) },
    );
    console.info(`pipeline property: runs that exercised each path: ${JSON.stringify(coverage)}`);
    console.info(`pipeline property: ${stuckRuns.length} runs whose report upload failed and could not be completed by re-running: ${JSON.stringify(stuckRuns.slice(0, 5))}`);
  }, 600_000);
});

// 1-based positions of entries that repeat an earlier one, normalised as the pipeline does
// (trimmed, upper-case hex lowered; non-strings compared by their JSON).
function repeatPositions(entries: readonly unknown[]): Set<number> {
  const seen = new Set<string>();
  const repeats = new Set<number>();
  entries.forEach((entry, index) => {
    const text = typeof entry === 'string' ? entry.trim() : undefined;
    const key = text === undefined ? `j:${JSON.stringify(entry)}` : /^[0-9a-fA-F]{32}$/.test(text) ? `s:${text.toLowerCase()}` : `s:${text}`;
    if (seen.has(key)) repeats.add(index + 1);
    seen.add(key);
  });
  return repeats;
}
