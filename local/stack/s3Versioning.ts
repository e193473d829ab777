import { randomUUID } from 'node:crypto';
import type { buildApp } from 'fauxqs';

type FauxqsApp = ReturnType<typeof buildApp>;

/** One stored version of an object. */
interface Version {
  versionId: string;
  etag: string;
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
}

/** An object's versions, oldest first; `deleted` when a delete marker is its current version. */
interface History {
  versions: Version[];
  deleted: boolean;
}

// Requests this module makes to fauxqs itself: they pass by it unchanged.
const INTERNAL = 'x-local-versioning';

/**
 * Makes fauxqs's S3 keep versions in the buckets named, as a bucket with versioning enabled does
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html), for what the pending flow
 * and the job record use: every write (PUT, copy, completed multipart upload) creates a version and
 * answers its `x-amz-version-id`; GET and HEAD answer the current one's, and with `?versionId=`
 * serve that version, current or not (`If-Match` checked against it; 404 `NoSuchVersion` for an
 * unknown one); CopyObject copies `…?versionId=` of its source; DeleteObject with `?versionId=`
 * removes that version only (the one before it becomes current again), and without it adds a
 * delete marker (the object is gone, its versions stay readable). fauxqs keeps the current version
 * as its own object; this module keeps the others. Its own requests to fauxqs carry `x-local-versioning`
 * and pass every hook (they are made under the key's write lock). Call after
 * enforceS3ConditionalWrites, before `listen()`.
 */
export function emulateS3Versioning(app: FauxqsApp, buckets: readonly string[]): void {
  const histories = new Map<string, History>();
  const recordings = new WeakMap<object, Promise<Version>>();
  const versioned = (bucket: string | undefined) => bucket !== undefined && buckets.includes(bucket);
  const current = (history: History | undefined) => (history === undefined || history.deleted ? undefined : history.versions.at(-1));
  const internal = (method: 'GET' | 'PUT' | 'DELETE', path: string, extra: { payload?: Buffer; headers?: Record<string, string> } = {}) =>
    app.inject({ method, url: path, headers: { [INTERNAL]: '1', ...extra.headers }, ...(extra.payload === undefined ? {} : { payload: extra.payload }) });

  app.addHook('preHandler', async (request, reply) => {
    if (request.headers[INTERNAL] !== undefined) return undefined;
    const target = objectOf(request.url);
    const copySource = header(request.headers['x-amz-copy-source']);
    if (request.method === 'PUT' && copySource !== undefined) return copy(copySource, target, request.headers, reply);
    if (target === undefined || !versioned(target.bucket)) return undefined;
    const versionId = target.query.get('versionId');
    if (versionId === null) return undefined;
    const history = histories.get(target.id);
    const version = history?.versions.find((v) => v.versionId === versionId);
    if (request.method === 'DELETE') {
      if (history !== undefined && version !== undefined) {
        const wasCurrent = current(history) === version;
        history.versions = history.versions.filter((v) => v !== version);
        const previous = history.versions.at(-1);
        if (wasCurrent && previous !== undefined) await internal('PUT', target.path, { payload: previous.body, headers: { 'content-type': previous.contentType, ...metaHeaders(previous.metadata) } });
        else if (wasCurrent) await internal('DELETE', target.path);
      }
      return reply.code(204).header('x-amz-version-id', versionId).send();
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    if (version === undefined) return s3Error(reply, 404, 'NoSuchVersion', 'The specified version does not exist.');
    if (current(history) === version) return undefined;
    const ifMatch = header(request.headers['if-match']);
    if (ifMatch !== undefined && unquote(ifMatch) !== unquote(version.etag)) return s3Error(reply, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    reply.code(200).header('etag', version.etag).header('content-type', version.contentType).header('content-length', String(version.body.length)).header('x-amz-version-id', version.versionId);
    for (const [name, value] of Object.entries(version.metadata)) reply.header(`x-amz-meta-${name}`, value);
    return reply.send(request.method === 'GET' ? version.body : undefined);
  });

  // A copy from a version: the current one is fauxqs's own object; an older one is written here.
  async function copy(source: string, target: ObjectRef | undefined, headers: Record<string, string | string[] | undefined>, reply: Reply): Promise<unknown> {
    const [path = '', query = ''] = source.replace(/^\//, '').split('?', 2);
    const versionId = new URLSearchParams(query).get('versionId');
    const from = objectOf(`/${path}`);
    if (versionId === null || from === undefined || !versioned(from.bucket)) return undefined;
    const history = histories.get(from.id);
    const version = history?.versions.find((v) => v.versionId === versionId);
    if (version === undefined) return s3Error(reply, 404, 'NoSuchVersion', 'The specified version does not exist.');
    if (current(history) === version) {
      // fauxqs reads the whole header as the source key: without the query, it copies the current object.
      (headers as Record<string, string>)['x-amz-copy-source'] = path;
      return undefined;
    }
    if (target === undefined) return undefined;
    const replace = header(headers['x-amz-metadata-directive']) === 'REPLACE';
    const metadata = replace ? Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('x-amz-meta-')).map(([name, value]) => [name.slice('x-amz-meta-'.length), String(value)])) : version.metadata;
    const written = await internal('PUT', target.path, { payload: version.body, headers: { 'content-type': version.contentType, ...metaHeaders(metadata) } });
    if (written.statusCode !== 200) return reply.code(written.statusCode).send(written.rawPayload);
    if (versioned(target.bucket)) reply.header('x-amz-version-id', (await record(target)).versionId);
    const result = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><ETag>${version.etag}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyObjectResult>`;
    return reply.code(200).header('content-type', 'application/xml').header('x-amz-copy-source-version-id', versionId).send(result);
  }

  // The object fauxqs holds now is a new version.
  async function record(target: ObjectRef): Promise<Version> {
    const stored = await internal('GET', target.path);
    const history = histories.get(target.id) ?? { versions: [], deleted: false };
    const version: Version = { versionId: randomUUID().replaceAll('-', ''), etag: String(stored.headers.etag), body: Buffer.from(stored.rawPayload), contentType: String(stored.headers['content-type'] ?? 'application/octet-stream'), metadata: metaOf(stored.headers) };
    history.versions.push(version);
    history.deleted = false;
    histories.set(target.id, history);
    return version;
  }

  app.addHook('onSend', async (request, reply, payload) => {
    const target = objectOf(request.url);
    if (request.headers[INTERNAL] !== undefined || target === undefined || !versioned(target.bucket) || target.query.has('partNumber')) return payload;
    const isWrite = request.method === 'PUT' || (request.method === 'POST' && target.query.has('uploadId'));
    if (isWrite && reply.statusCode === 200) {
      // fauxqs's handlers may pass this hook twice for one response: one version per request.
      let recorded = recordings.get(request);
      if (recorded === undefined) {
        recorded = record(target);
        recordings.set(request, recorded);
      }
      reply.header('x-amz-version-id', (await recorded).versionId);
    } else if (request.method === 'DELETE' && reply.statusCode === 204 && !target.query.has('versionId')) {
      const history = histories.get(target.id);
      if (history !== undefined) history.deleted = true;
      reply.header('x-amz-delete-marker', 'true');
    } else if ((request.method === 'GET' || request.method === 'HEAD') && reply.statusCode === 200 && !reply.hasHeader('x-amz-version-id')) {
      const version = current(histories.get(target.id));
      if (version !== undefined) reply.header('x-amz-version-id', version.versionId);
    }
    return payload;
  });
}

/** What this module needs of a Fastify reply. */
interface Reply {
  code(status: number): Reply;
  header(name: string, value: string): Reply;
  send(body?: unknown): Reply;
}

interface ObjectRef {
  bucket: string;
  /** `bucket/key`, decoded. */
  id: string;
  /** The request path, encoded, without the query. */
  path: string;
  query: URLSearchParams;
}

function objectOf(url: string): ObjectRef | undefined {
  const [path = '', query = ''] = url.split('?', 2);
  const match = /^\/([^/]+)\/(.+)$/.exec(path);
  if (!match) return undefined;
  return { bucket: match[1] as string, id: `${match[1]}/${decodeURIComponent(match[2] as string)}`, path, query: new URLSearchParams(query) };
}

function metaHeaders(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([name, value]) => [`x-amz-meta-${name}`, value]));
}

function metaOf(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('x-amz-meta-')).map(([name, value]) => [name.slice('x-amz-meta-'.length), String(value)]));
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function unquote(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

function s3Error(reply: Reply, status: number, code: string, message: string): Reply {
  reply.code(status);
  reply.header('content-type', 'application/xml');
  reply.send(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase()}</RequestId></Error>`);
  return reply;
}
