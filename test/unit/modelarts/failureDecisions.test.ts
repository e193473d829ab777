import { describe, expect, it } from 'vitest';
import { classifyResponse, isAlreadyGone, isBisectable, isRenewable, isRetryable, type FailureClass, type ServiceFailure } from '../../../lib/modelarts/classifyFailure.js';
import { createAuthorizer } from '../../../lib/modelarts/createAuthorizer.js';
import type { IamTokenProvider } from '../../../lib/modelarts/iamTokenProvider.js';
import { TIME_BUDGET_SPENT, UNCONFIRMED_RESULTS } from '../../../lib/modelarts/classifyFailure.js';
import type { ModelArtsClient } from '../../../lib/modelarts/modelArtsClient.js';
import type { CleanupTarget } from '../../../lib/modelarts/CleanupTarget.js';
import { createChunkDeleter } from '../../../lib/pipeline/deleteChunk.js';
import { createJobStats } from '../../../lib/pipeline/jobStats.js';
import type { OutcomeRecord } from '../../../lib/pipeline/outcome.js';

// Pins every decision taken about a failed request, for every code and status we know of, through
// the code that acts on it (classifyResponse, the authorizer's renewCredentials, the chunk
// deleter), so the decisions stay exactly as they were when the code tables are moved. Changed on
// purpose since (issue 13): ModelArts.4204, 4712 and 72060075 are known now, and UNCONFIRMED_RESULTS is new.

const CLASSES: readonly FailureClass[] = ['throttled', 'transient', 'credentials_expired', 'already_gone', 'permanent'];
const STATUSES: ReadonlyArray<number | undefined> = [undefined, 200, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504];

/** The decisions for one code, on a realistic failure: status 400, class as `classifyResponse(400, code)` gives it. */
interface CodeRow {
  code: string;
  failureClass: FailureClass;
  /** The chunk deleter repeats the request. */
  retry: boolean;
  /** One more attempt with a new token (token mode). */
  renewToken: boolean;
  /** One more attempt with a fresh signature date (AK/SK mode). */
  renewAksk: boolean;
  /** A failed v1 batch of several IDs is split in halves. */
  bisect: boolean;
  outcome: OutcomeRecord['outcome'];
  /** The class comes from the code whatever the status; false: the status decides. */
  codeWins: boolean;
}

const row = (code: string, failureClass: FailureClass, retry: boolean, renewToken: boolean, renewAksk: boolean, bisect: boolean, outcome: OutcomeRecord['outcome'], codeWins: boolean): CodeRow =>
  ({ code, failureClass, retry, renewToken, renewAksk, bisect, outcome, codeWins });

//               code                        class at 400           retry  token  aksk   bisect outcome            code wins
const CODE_ROWS: CodeRow[] = [
  row('ModelArts.4420', /*                 */ 'already_gone', /*     */ false, false, false, true, 'already_deleted', true),
  row('ModelArts.4395', /*                 */ 'throttled', /*        */ true, false, false, false, 'failed', true),
  row('ModelArts.4206', /*                 */ 'throttled', /*        */ true, false, false, false, 'failed', true),
  row('ModelArts.6101', /*                 */ 'throttled', /*        */ true, false, false, false, 'failed', true),
  row('APIG.0308', /*                      */ 'throttled', /*        */ true, false, false, false, 'failed', true),
  row('APIGW.0308', /*                     */ 'throttled', /*        */ true, false, false, false, 'failed', true),
  row('ModelArts.0114', /*                 */ 'throttled', /*        */ true, false, false, false, 'failed', true),
  row('ModelArts.72060075', /*             */ 'throttled', /*        */ true, false, false, false, 'failed', true),
  row('APIG.0301', /*                      */ 'credentials_expired', false, true, false, false, 'failed', true),
  row('APIGW.0301', /*                     */ 'credentials_expired', false, true, false, false, 'failed', true),
  row('APIG.0303', /*                      */ 'credentials_expired', false, false, true, false, 'failed', true),
  row('APIG.0307', /*                      */ 'credentials_expired', false, true, false, false, 'failed', true),
  row('ModelArts.4504', /*                 */ 'credentials_expired', false, true, false, false, 'failed', true),
  row('ModelArts.0202', /*                 */ 'credentials_expired', false, true, false, false, 'failed', true),
  row('ModelArts.0203', /*                 */ 'credentials_expired', false, true, false, false, 'failed', true),
  row('ModelArts.4424', /*                 */ 'transient', /*        */ true, false, false, false, 'failed', true),
  // A busy dataset: retried (after a long wait), never bisected.
  row('ModelArts.4712', /*                 */ 'transient', /*        */ true, false, false, false, 'failed', true),
  // A v2 answer that confirms nothing per sample: sent again (a re-check), never bisected.
  row(UNCONFIRMED_RESULTS, /*              */ 'transient', /*        */ true, false, false, false, 'failed', true),
  // API not subscribed: permanent whatever the status, about the whole request.
  row('ModelArts.4204', /*                 */ 'permanent', /*        */ false, false, false, false, 'failed', true),
  // About the target or the credentials, not an ID: never bisected; the class is the status's.
  row('ModelArts.4352', /*                 */ 'permanent', /*        */ false, false, false, false, 'failed', false),
  row('ModelArts.4803', /*                 */ 'permanent', /*        */ false, false, false, false, 'failed', false),
  row('MALFORMED_RESPONSE', /*             */ 'permanent', /*        */ false, false, false, false, 'failed', false),
  row('CLIENT_ERROR', /*                   */ 'permanent', /*        */ false, false, false, false, 'failed', false),
  row(TIME_BUDGET_SPENT, /*                */ 'permanent', /*        */ false, false, false, false, 'failed', false),
  row('CREDENTIALS_REFUSED', /*            */ 'permanent', /*        */ false, false, false, false, 'failed', false),
  row('CREDENTIALS_UNAVAILABLE', /*        */ 'permanent', /*        */ false, false, false, false, 'failed', false),
  row('INVALID_CREDENTIALS', /*            */ 'permanent', /*        */ false, false, false, false, 'failed', false),
  // Unknown today (some are named by the reference but not handled): the status decides.
  ...['ModelArts.0104', 'ModelArts.9999', 'ModelArts.0102', 'ModelArts.0201',
    'ModelArts.0204', 'ModelArts.0205', 'ModelArts.0210', 'HTTP_400', 'UNKNOWN', 'NETWORK_ERROR', 'TIMEOUT', 'ECONNRESET',
    'toString', 'constructor', '__proto__', 'hasOwnProperty', '']
    .map((code) => row(code, 'permanent', false, false, false, true, 'failed', false)),
];

/** For a code the classifier does not know (or no code): the decisions by status alone. */
const STATUS_ROWS: Array<{ status: number; failureClass: FailureClass; retry: boolean; bisect: boolean }> = [
  { status: 200, failureClass: 'permanent', retry: false, bisect: true },
  { status: 400, failureClass: 'permanent', retry: false, bisect: true },
  { status: 401, failureClass: 'permanent', retry: false, bisect: false },
  { status: 403, failureClass: 'permanent', retry: false, bisect: false },
  { status: 404, failureClass: 'permanent', retry: false, bisect: false },
  { status: 409, failureClass: 'permanent', retry: false, bisect: true },
  { status: 422, failureClass: 'permanent', retry: false, bisect: true },
  { status: 429, failureClass: 'throttled', retry: true, bisect: false },
  { status: 500, failureClass: 'transient', retry: true, bisect: false },
  { status: 502, failureClass: 'transient', retry: true, bisect: false },
  { status: 503, failureClass: 'transient', retry: true, bisect: false },
  { status: 504, failureClass: 'transient', retry: true, bisect: false },
];

// The lists as they stood, for the sweeps over combinations no response produces.
const TOKEN_RENEWABLE = new Set(['APIG.0301', 'APIGW.0301', 'APIG.0307', 'ModelArts.4504', 'ModelArts.0202', 'ModelArts.0203']);
const AKSK_RENEWABLE = new Set(['APIG.0303']);
const WHOLE_REQUEST_STATUSES = new Set([401, 403, 404]);
const WHOLE_REQUEST_CODES = new Set(['ModelArts.4352', 'ModelArts.4803', 'ModelArts.4204', 'ModelArts.4712', UNCONFIRMED_RESULTS, 'MALFORMED_RESPONSE', 'CLIENT_ERROR', TIME_BUDGET_SPENT, 'CREDENTIALS_REFUSED', 'CREDENTIALS_UNAVAILABLE', 'INVALID_CREDENTIALS']);

const V1_TARGET: CleanupTarget = { api: 'v1', projectId: 'p1', dataAnnotationId: '282' };
const REFS = Array.from({ length: 4 }, (_, i) => ({ id: (i + 1).toString(16).padStart(32, '0'), position: i + 1 }));

/** What the chunk deleter does with a v1 batch of 4 IDs that always fails with `failure`. */
async function chunkDecisions(failure: ServiceFailure): Promise<{ retry: boolean; bisect: boolean; outcomes: string[]; throttledCounted: boolean }> {
  const calls: number[] = [];
  const client: ModelArtsClient = {
    deleteBatch(_target, imageIds) {
      calls.push(imageIds.length);
      return Promise.resolve({ kind: 'batch_failed', failure });
    },
  };
  const stats = createJobStats();
  let now = 0;
  const clock = { now: () => now, sleep: (ms: number) => { now += ms; return Promise.resolve(); }, random: () => 0.5 };
  const deleteChunk = createChunkDeleter({ client, target: V1_TARGET, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, clock, stats });
  const outcomes = await deleteChunk(REFS);
  return {
    retry: calls.length >= 2 && calls[1] === REFS.length,
    bisect: calls.some((count) => count < REFS.length),
    outcomes: [...new Set(outcomes.map((outcome) => outcome.outcome))],
    throttledCounted: stats.throttled > 0,
  };
}

const fakeTokens: IamTokenProvider = { getToken: () => Promise.resolve('token-1234'), invalidate: () => undefined, fetchCount: 0 };
const tokenAuth = createAuthorizer({ mode: 'token', loadCredentials: () => Promise.reject(new Error('not used')), iamEndpoint: 'http://127.0.0.1:9', requestTimeoutMs: 1_000, tokens: fakeTokens });
const akskAuth = createAuthorizer({ mode: 'aksk', loadCredentials: () => Promise.reject(new Error('not used')) });
const refused = { url: new URL('http://127.0.0.1:9/x'), headers: { 'x-auth-token': 'token-1234' } };

async function renewDecisions(failure: ServiceFailure): Promise<{ token: boolean; aksk: boolean }> {
  return { token: await tokenAuth.renewCredentials(failure, refused), aksk: await akskAuth.renewCredentials(failure, refused) };
}

describe('failure decisions, per code (status 400)', () => {
  it.each(CODE_ROWS)('$code: $failureClass, retry $retry, renew token $renewToken / aksk $renewAksk, bisect $bisect, $outcome', async (expected) => {
    // Prepare
    const failureClass = classifyResponse(400, expected.code);
    const failure: ServiceFailure = { failureClass, status: 400, code: expected.code, message: 'refused' };

    // Act
    const chunk = await chunkDecisions(failure);
    const renew = await renewDecisions({ ...failure, status: 401, failureClass: classifyResponse(401, expected.code) });

    // Assess
    expect(failureClass).toBe(expected.failureClass);
    expect(chunk).toEqual({ retry: expected.retry, bisect: expected.bisect, outcomes: [expected.outcome], throttledCounted: failureClass === 'throttled' });
    expect(renew).toEqual({ token: expected.renewToken, aksk: expected.renewAksk });
  });

  it.each(CODE_ROWS)('$code: the class at every status', ({ code, failureClass, codeWins }) => {
    for (const { status, failureClass: byStatus } of STATUS_ROWS) {
      // Act
      const classified = classifyResponse(status, code);

      // Assess
      expect(classified, `status ${status}`).toBe(codeWins ? failureClass : byStatus);
    }
  });

  it('does not bisect a v1 batch refused as not found with 404, and calls none of its IDs gone: the answer concerns the target, not an ID', async () => {
    // Act
    const chunk = await chunkDecisions({ failureClass: classifyResponse(404, 'ModelArts.4420'), status: 404, code: 'ModelArts.4420', message: 'not found' });

    // Assess: unresolved (failed NOT_FOUND_UNRESOLVED), so a re-run lists them.
    expect(chunk).toEqual({ retry: false, bisect: false, outcomes: ['failed'], throttledCounted: false });
  });

  it('retries a whole-request code that arrives with a 5xx status, and does not bisect it', async () => {
    // Act
    const chunk = await chunkDecisions({ failureClass: classifyResponse(503, 'ModelArts.4352'), status: 503, code: 'ModelArts.4352', message: 'busy' });

    // Assess
    expect(chunk).toEqual({ retry: true, bisect: false, outcomes: ['failed'], throttledCounted: false });
  });
});

describe('failure decisions, per status (no code, or one the classifier does not know)', () => {
  it.each(STATUS_ROWS)('status $status: $failureClass, retry $retry, bisect $bisect', async (expected) => {
    // Prepare
    const code = `HTTP_${expected.status}`;

    // Act
    const withoutCode = classifyResponse(expected.status, undefined);
    const failureClass = classifyResponse(expected.status, code);
    const chunk = await chunkDecisions({ failureClass, status: expected.status, code, message: 'refused' });

    // Assess
    expect(withoutCode).toBe(expected.failureClass);
    expect(failureClass).toBe(expected.failureClass);
    expect(chunk).toEqual({ retry: expected.retry, bisect: expected.bisect, outcomes: ['failed'], throttledCounted: expected.failureClass === 'throttled' });
  });
});

describe('failure decisions over every class, status and code (combinations included that no response produces)', () => {
  const codes = CODE_ROWS.map((entry) => entry.code);

  it.each(CLASSES)('class %s: retry, bisect, outcome and throttle count follow the class, status and code alone', async (failureClass) => {
    // Prepare
    const mismatches: string[] = [];

    for (const status of STATUSES) {
      for (const code of codes) {
        const failure: ServiceFailure = { failureClass, code, message: 'refused', ...(status === undefined ? {} : { status }) };
        const bisect = (failureClass === 'permanent' || failureClass === 'already_gone')
          && !(status !== undefined && WHOLE_REQUEST_STATUSES.has(status)) && !WHOLE_REQUEST_CODES.has(code);
        const expected = {
          retry: failureClass === 'throttled' || failureClass === 'transient',
          bisect,
          // Only an ID refused alone is known gone: a batch refused "not found" as a whole, not split, is unresolved.
          outcomes: [failureClass === 'already_gone' && bisect ? 'already_deleted' : 'failed'],
          throttledCounted: failureClass === 'throttled',
        };

        // Act
        const chunk = await chunkDecisions(failure);

        if (JSON.stringify(chunk) !== JSON.stringify(expected)) mismatches.push(`${status} ${code}: ${JSON.stringify(chunk)}`);
      }
    }

    // Assess
    expect(mismatches).toEqual([]);
  });

  it.each(CLASSES)('class %s: renewal follows the class and code alone, per mode', async (failureClass) => {
    // Prepare
    const mismatches: string[] = [];

    for (const status of STATUSES) {
      for (const code of codes) {
        const failure: ServiceFailure = { failureClass, code, message: 'refused', ...(status === undefined ? {} : { status }) };
        const expected = {
          token: failureClass === 'credentials_expired' && TOKEN_RENEWABLE.has(code),
          aksk: failureClass === 'credentials_expired' && AKSK_RENEWABLE.has(code),
        };

        // Act
        const renew = await renewDecisions(failure);

        if (renew.token !== expected.token || renew.aksk !== expected.aksk) mismatches.push(`${status} ${code}: ${JSON.stringify(renew)}`);
      }
    }

    // Assess
    expect(mismatches).toEqual([]);
  });
});

// Added with the single classifier: its predicates give the pinned decisions directly.
describe("the classifier's predicates give the same decisions", () => {
  it.each(CODE_ROWS)('$code', ({ code, retry, renewToken, renewAksk, bisect, outcome }) => {
    // Prepare
    const failure: ServiceFailure = { failureClass: classifyResponse(400, code), status: 400, code, message: 'refused' };
    const refusal: ServiceFailure = { ...failure, status: 401, failureClass: classifyResponse(401, code) };

    // Act
    const decisions = {
      retry: isRetryable(failure), bisect: isBisectable(failure), alreadyGone: isAlreadyGone(failure),
      renewToken: isRenewable('token', refusal), renewAksk: isRenewable('aksk', refusal), renewNone: isRenewable('none', refusal),
    };

    // Assess
    expect(decisions).toEqual({ retry, bisect, alreadyGone: outcome === 'already_deleted', renewToken, renewAksk, renewNone: false });
  });

  it.each(CLASSES)('class %s, every status and code', (failureClass) => {
    // Prepare
    const mismatches: string[] = [];

    for (const status of STATUSES) {
      for (const { code } of CODE_ROWS) {
        const failure: ServiceFailure = { failureClass, code, message: 'refused', ...(status === undefined ? {} : { status }) };
        const expected = {
          retry: failureClass === 'throttled' || failureClass === 'transient',
          bisect: (failureClass === 'permanent' || failureClass === 'already_gone')
            && !(status !== undefined && WHOLE_REQUEST_STATUSES.has(status)) && !WHOLE_REQUEST_CODES.has(code),
          token: failureClass === 'credentials_expired' && TOKEN_RENEWABLE.has(code),
          aksk: failureClass === 'credentials_expired' && AKSK_RENEWABLE.has(code),
        };

        // Act
        const decisions = { retry: isRetryable(failure), bisect: isBisectable(failure), token: isRenewable('token', failure), aksk: isRenewable('aksk', failure) };

        if (JSON.stringify(decisions) !== JSON.stringify(expected)) mismatches.push(`${status} ${code}: ${JSON.stringify(decisions)}`);
      }
    }

    // Assess
    expect(mismatches).toEqual([]);
  });
});
