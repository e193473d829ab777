import { parse as legacyParse } from 'node:url';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import type { ICredential } from '@huaweicloud/huaweicloud-sdk-core/auth/ICredential.js';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { canonicalRequest, formatSdkDate, signRequest } from '../../../lib/modelarts/signRequest.js';

// Huawei's own signer (`@huaweicloud/huaweicloud-sdk-core` 3.1.211, auth/AKSKSigner.js, a dev
// dependency used only here) as a test oracle: a few hundred generated requests are signed by both,
// and the Authorization and X-Sdk-Date headers must be identical. Both read the clock: it is fixed
// (Date faked) per request. The SDK is fed as its HcClient feeds it: the endpoint with the raw path
// parameters substituted, the query as an object of raw names and values, the body as the object
// it JSON-encodes; ours gets the request as our client builds it (path segments percent-encoded,
// query in the URL, the body's JSON text).
//
// Excluded from the comparison, exactly, and pinned by their own tests below (docs/limits.md,
// "Signing"): (1) path characters the SDK's URL parser (legacy url.parse) escapes itself — space,
// " ' < > ^ ` { | } — which the SDK then escapes again (`%20` → `%2520`), where the documented
// algorithm and we escape once (the same parser also reads `\` as `/` and drops white space,
// U+00A0 included, at the end of the URL: `\` and a path ending in white space are excluded too); (2) header values with surrounding white space, which the Node SDK
// signs untrimmed, where the documented algorithm (and fetch, on the wire) trims them; (3) header
// names with `_`, whose canonical block the SDK sorts in locale order but its SignedHeaders list in
// code-unit order (an inconsistency of its own; we use code-unit order for both, as documented).

const SELF_ESCAPED_BY_URL_PARSE = ' "\'<>^`{|}';
const EXCLUDED_FROM_PATHS = `${SELF_ESCAPED_BY_URL_PARSE}\\`;

interface OracleRequest {
  method: string;
  host: string;
  segments: string[];
  query: Array<[string, string]>;
  headers: Record<string, string>;
  body: unknown;
  at: number;
  accessKey: string;
  secretKey: string;
}

function credentialOf(request: OracleRequest): ICredential {
  return { getAk: () => request.accessKey, getSk: () => request.secretKey } as unknown as ICredential;
}

/** Signs with Huawei's SDK core, the clock set to `request.at`. */
function sdkSign(request: OracleRequest): { authorization: string; sdkDate: string } {
  vi.setSystemTime(request.at);
  const queryParams: Record<string, string | string[]> = {};
  for (const [key, value] of request.query) {
    const had = Object.hasOwn(queryParams, key) ? queryParams[key] : undefined;
    queryParams[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  const signed = AKSKSigner.sign(
    {
      method: request.method,
      endpoint: `https://${request.host}/${request.segments.join('/')}`,
      queryParams,
      headers: { host: request.host, ...request.headers },
      ...(request.body === undefined ? {} : { data: request.body }),
    },
    credentialOf(request),
  ) as Record<string, string>;
  return { authorization: signed.Authorization ?? '', sdkDate: signed['X-Sdk-Date'] ?? '' };
}

/** Our request as lib/modelarts/modelArtsClient.ts builds it. */
function ourRequest(request: OracleRequest) {
  const url = new URL(`https://${request.host}/${request.segments.map((segment) => encodeURIComponent(segment)).join('/')}`);
  for (const [key, value] of request.query) url.searchParams.append(key, value);
  const headers = { host: request.host, ...request.headers, 'x-sdk-date': formatSdkDate(request.at) };
  return { method: request.method, url, headers, body: request.body === undefined ? '' : JSON.stringify(request.body) };
}

function ourSign(request: OracleRequest): { authorization: string; sdkDate: string } {
  const ours = ourRequest(request);
  return { authorization: signRequest(ours, { accessKey: request.accessKey, secretKey: request.secretKey }).authorization, sdkDate: ours.headers['x-sdk-date'] };
}

// Characters from every corner that matters: unreserved, reserved, '%', Latin-1, CJK, astral.
const pieces = ['a', 'z', 'A', 'Z', '0', '9', '-', '_', '.', '~', '!', '$', '&', '(', ')', '*', '+', ',', ';', '=', ':', '@', '[', ']', '%', '%20', '%2F', 'é', 'ß', 'ÿ', 'Ā', '中', '文', '😀', '𝄞', '\u00a0', '\ufffd'];
const text = (minLength: number, maxLength: number) => fc.array(fc.constantFrom(...pieces), { minLength, maxLength }).map((parts) => parts.join(''));
const segment = text(0, 6).filter((s) => s !== '.' && s !== '..');
const queryKey = fc.oneof(fc.constantFrom('a', 'az', 'aé', 'b', 'é', 'z', 'A', 'a b', '😀', ''), text(0, 5));
const queryValue = fc.oneof(fc.constantFrom('', '1', '2', 'é', 'a b', 'x+y'), fc.string({ unit: 'grapheme', maxLength: 8 }));
const RESERVED_HEADERS = new Set(['host', 'x-sdk-date', 'authorization', 'x-sdk-content-sha256', 'content-type']);
const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/).filter((name) => !RESERVED_HEADERS.has(name.toLowerCase()));
const headerValue = fc.string({ unit: 'grapheme', maxLength: 20 }).map((value) => value.trim());

const requestArbitrary: fc.Arbitrary<OracleRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  host: fc.constantFrom('modelarts.cn-north-4.myhuaweicloud.com', 'modelarts.ap-southeast-1.myhuaweicloud.cn', '127.0.0.1:8080', 'h.example.com'),
  segments: fc.array(segment, { minLength: 1, maxLength: 6 }),
  query: fc.array(fc.tuple(queryKey, queryValue), { maxLength: 7 }),
  headers: fc
    .tuple(fc.constantFrom('application/json', 'application/json;charset=UTF-8', 'text/plain'), fc.uniqueArray(fc.tuple(headerName, headerValue), { maxLength: 4, selector: ([name]) => name.toLowerCase() }))
    .map(([contentType, extra]) => ({ 'content-type': contentType, ...Object.fromEntries(extra) })),
  body: fc.option(fc.oneof(fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 4 })), { nil: undefined }),
  at: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }).map((ms) => ms - (ms % 1000)),
  accessKey: fc.stringMatching(/^[A-Z0-9]{20}$/),
  secretKey: fc.stringMatching(/^[A-Za-z0-9]{40}$/),
}).filter((request) => !request.segments.some((s) => [...EXCLUDED_FROM_PATHS].some((c) => s.includes(c))) && !/\s$/u.test(request.segments.join('/')));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('signRequest against Huawei\'s SDK core signer', () => {
  it('signs 400 generated requests (paths, queries with mixed ASCII and non-ASCII names, headers, bodies, unicode) exactly as the SDK core does', () => {
    fc.assert(
      fc.property(requestArbitrary, (request) => {
        // Act
        const sdk = sdkSign(request);
        const ours = ourSign(request);

        // Assess
        expect(ours).toEqual(sdk);
      }),
      { numRuns: 400, seed: 20261213 },
    );
  });

  it('orders ?az=1&aé=2 by the raw names, as the SDK core does: az before aé (their escaped forms would order a%C3%A9 first)', () => {
    // Prepare
    const request: OracleRequest = {
      method: 'GET', host: 'h.example.com', segments: ['v1', 'p'], query: [['aé', '2'], ['az', '1']], headers: { 'content-type': 'application/json' },
      body: undefined, at: Date.UTC(2026, 11, 13, 10, 0, 0), accessKey: 'AKEXAMPLEAKEXAMPLE00', secretKey: 'secret-of-the-oracle-test',
    };

    // Act
    const { canonical } = canonicalRequest(ourRequest(request));

    // Assess
    expect(canonical.split('\n')[2]).toBe('az=1&a%C3%A9=2');
    expect(ourSign(request)).toEqual(sdkSign(request));
  });
});

describe('where the SDK core departs from the documented algorithm (excluded above; we follow the documentation)', () => {
  it('(1) a path character its URL parser escaped is escaped again by the SDK (%20 → %2520); the only difference is that second escape', () => {
    const withEscaped = fc.tuple(segment, fc.constantFrom(...SELF_ESCAPED_BY_URL_PARSE), segment).map((parts) => parts.join(''));
    fc.assert(
      // A space at the very end would be dropped by url.parse, not escaped: the path ends in a plain segment.
      fc.property(fc.array(fc.oneof(segment, withEscaped), { minLength: 1, maxLength: 4 }).map((segments) => [...segments, 'x']), (segments) => {
        // Prepare
        const path = `/${segments.join('/')}`;
        const pathname = legacyParse(`https://h.example.com${path}`).pathname ?? '';
        const ours = canonicalRequest({ method: 'GET', url: new URL(`https://h.example.com/${segments.map((s) => encodeURIComponent(s)).join('/')}`), headers: {}, body: '' }).canonical.split('\n')[1] ?? '';

        // Act
        const sdk = (AKSKSigner as unknown as { CanonicalURI(path: string): string }).CanonicalURI(pathname);

        // Assess: escaping the '%' of exactly those characters' escapes once more turns ours into the SDK's.
        const selfEscaped = new Set([...SELF_ESCAPED_BY_URL_PARSE].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`));
        expect(ours.replace(/%[0-9A-F]{2}/g, (escape) => (selfEscaped.has(escape) ? `%25${escape.slice(1)}` : escape))).toBe(sdk);
      }),
      { numRuns: 200, seed: 20261213 },
    );
  });

  it('(2) the Node SDK signs a header value with its surrounding white space; we trim it, as documented (and as fetch sends it)', () => {
    // Prepare
    const request: OracleRequest = {
      method: 'POST', host: 'h.example.com', segments: ['v1'], query: [], headers: { 'content-type': 'application/json', 'x-project-id': ' p1 ' },
      body: { samples: ['a'] }, at: Date.UTC(2026, 11, 13), accessKey: 'AKEXAMPLEAKEXAMPLE00', secretKey: 'secret-of-the-oracle-test',
    };
    const trimmed = { ...request, headers: { ...request.headers, 'x-project-id': 'p1' } };

    // Act
    const ours = ourSign(request);

    // Assess
    expect(ours).not.toEqual(sdkSign(request));
    expect(ours).toEqual(sdkSign(trimmed));
  });

  it('(3) for header names with "_" the SDK sorts its canonical block in locale order but SignedHeaders in code-unit order; we use code-unit order for both', () => {
    // Prepare: "x0a" < "x_a" by code unit; "x_a" < "x0a" by locale.
    const request: OracleRequest = {
      method: 'GET', host: 'h.example.com', segments: ['v1'], query: [], headers: { 'content-type': 'application/json', x0a: '1', x_a: '2' },
      body: undefined, at: Date.UTC(2026, 11, 13), accessKey: 'AKEXAMPLEAKEXAMPLE00', secretKey: 'secret-of-the-oracle-test',
    };

    // Act
    const { canonical, signedHeaders } = canonicalRequest(ourRequest(request));
    const sdk = sdkSign(request);

    // Assess
    expect(signedHeaders).toBe('content-type;host;x-sdk-date;x0a;x_a');
    expect(canonical).toContain('x0a:1\nx_a:2\n');
    expect(sdk.authorization).toContain('SignedHeaders=content-type;host;x-sdk-date;x0a;x_a,');
    expect(ourSign(request).authorization).not.toBe(sdk.authorization);
  });
});
