import { createHash, createHmac } from 'node:crypto';

/** The signing algorithm of Huawei Cloud's API gateway for AK/SK authentication. */
export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

/** A request as the signer sees it. `headers` must already hold every header to be signed. */
export interface RequestToSign {
  method: string;
  /** The full URL; its path and query are canonicalised. */
  url: URL;
  /** Header names in any case; every one listed is signed. */
  headers: Readonly<Record<string, string>>;
  body: string;
}

/** An access key pair; `securityToken` only for temporary credentials. */
export interface AccessKeyCredentials {
  accessKey: string;
  secretKey: string;
}

/** What {@link signRequest} computed: the header to send, and its parts for checking. */
export interface RequestSignature {
  /** `SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...` */
  authorization: string;
  signedHeaders: string;
  /** hex(sha256(canonical request)). */
  canonicalRequestHash: string;
  signature: string;
}

// Only A-Z a-z 0-9 - _ . ~ stay unescaped; encodeURIComponent also leaves ! ' ( ) * alone.
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Builds the canonical request of `SDK-HMAC-SHA256`:
 * `METHOD\nCanonicalURI\nCanonicalQuery\nCanonicalHeaders\nSignedHeaders\nhex(sha256(body))`.
 * The canonical URI encodes each path segment and always ends in `/` (the request keeps its own
 * path); the query is sorted by raw key and value, then encoded, `k=v` even for an empty value; headers are lower-cased,
 * trimmed and sorted.
 */
export function canonicalRequest(request: RequestToSign): { canonical: string; signedHeaders: string } {
  const segments = request.url.pathname.split('/').map((segment) => uriEncode(decodeSegment(segment)));
  let canonicalUri = segments.join('/');
  if (!canonicalUri.endsWith('/')) canonicalUri += '/';

  // Sorted by the raw (decoded) names, then values, and encoded afterwards, as Huawei's SDK core
  // does (so does its Go signer): `?az=1&aé=2` gives `az=1&a%C3%A9=2`, although `a%C3%A9` < `az`.
  const query = [...request.url.searchParams.entries()]
    .sort(([ka, va], [kb, vb]) => (ka === kb ? compare(va, vb) : compare(ka, kb)))
    .map(([key, value]) => `${uriEncode(key)}=${uriEncode(value)}`)
    .join('&');

  const headers = Object.entries(request.headers)
    .map(([name, value]) => [name.toLowerCase(), value.trim()] as const)
    .sort(([a], [b]) => compare(a, b));
  const canonicalHeaders = headers.map(([name, value]) => `${name}:${value}\n`).join('');
  const signedHeaders = headers.map(([name]) => name).join(';');

  const bodyHash = createHash('sha256').update(request.body, 'utf8').digest('hex');
  return { canonical: [request.method.toUpperCase(), canonicalUri, query, canonicalHeaders, signedHeaders, bodyHash].join('\n'), signedHeaders };
}

// UTF-16 code-unit order (JavaScript's `<`), as Huawei's Node SDK core sorts; not locale order.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Formats an instant as the gateway's `X-Sdk-Date`: UTC `YYYYMMDDTHHMMSSZ`.
 *
 * @param epochMs - Milliseconds since the epoch.
 */
export function formatSdkDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Signs a request with `SDK-HMAC-SHA256` (Huawei Cloud API gateway, AK/SK authentication):
 * StringToSign = `SDK-HMAC-SHA256\n{X-Sdk-Date}\n{hex(sha256(CanonicalRequest))}`, signature =
 * hex(HMAC-SHA256(SK, StringToSign)), with no key derivation. Every header in `request.headers` is
 * signed, so it must already hold `host`, `content-type` and `x-sdk-date` (and
 * `x-security-token` / `x-project-id` when sent).
 *
 * @throws {Error} when `x-sdk-date` is missing from the headers (a bug in the caller).
 * @example
 * const { authorization } = signRequest({ method: 'POST', url, headers: { host, 'content-type': 'application/json', 'x-sdk-date': formatSdkDate(Date.now()) }, body }, { accessKey, secretKey });
 */
export function signRequest(request: RequestToSign, credentials: AccessKeyCredentials): RequestSignature {
  const sdkDate = Object.entries(request.headers).find(([name]) => name.toLowerCase() === 'x-sdk-date')?.[1];
  if (sdkDate === undefined) throw new Error('signRequest: the x-sdk-date header must be set before signing');
  const { canonical, signedHeaders } = canonicalRequest(request);
  const canonicalRequestHash = createHash('sha256').update(canonical, 'utf8').digest('hex');
  const stringToSign = `${SIGNING_ALGORITHM}\n${sdkDate.trim()}\n${canonicalRequestHash}`;
  const signature = createHmac('sha256', Buffer.from(credentials.secretKey, 'utf8')).update(stringToSign, 'utf8').digest('hex');
  return {
    authorization: `${SIGNING_ALGORITHM} Access=${credentials.accessKey}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    signedHeaders,
    canonicalRequestHash,
    signature,
  };
}
