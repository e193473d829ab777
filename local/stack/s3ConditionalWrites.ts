import { randomUUID } from 'node:crypto';
import type { buildApp } from 'fauxqs';

type FauxqsApp = ReturnType<typeof buildApp>;

// Where the release function of a request's key lock is kept between hooks.
const RELEASE = Symbol('s3ConditionalWrites.release');
type WithRelease = { [RELEASE]?: () => void };

/**
 * Makes fauxqs's S3 honour conditional writes as real S3 does, so code relying on them (the
 * manifest claims) is tested against the behaviour it will meet on AWS:
 * - `If-None-Match: *` on PutObject (and CompleteMultipartUpload): 412 `PreconditionFailed` when
 *   the key exists; any other value: 501 `NotImplemented`, as S3 answers;
 * - `If-Match: <etag>` on PutObject and DeleteObject: 404 `NoSuchKey` when the key does not exist,
 *   412 `PreconditionFailed` when its ETag differs;
 * - `x-amz-copy-source-if-match: <etag>` on CopyObject (the pending manifests' moves): 404
 *   `NoSuchKey` when the source does not exist, 412 `PreconditionFailed` when its ETag differs.
 *
 * Writes to one key are serialised (a per-key lock from the check until the response is sent), so
 * two concurrent conditional PUTs can never both pass. Call before `listen()`.
 */
export function enforceS3ConditionalWrites(app: FauxqsApp): void {
  const locks = new Map<string, Promise<void>>();

  app.addHook('preHandler', async (request, reply) => {
    // The versioning layer's own requests (local/stack/s3Versioning.ts) are made under the key's lock.
    if (request.headers['x-local-versioning'] !== undefined) return;
    const object = objectWrite(request.method, request.url);
    if (object === undefined) return;

    // Take the key's lock: wait for the writes before us, then hold it until our response is sent.
    const previous = locks.get(object.lockKey) ?? Promise.resolve();
    let releaseLock!: () => void;
    const mine = new Promise<void>((resolve) => {
      releaseLock = resolve;
    });
    const tail = previous.then(() => mine);
    locks.set(object.lockKey, tail);
    let released = false;
    (request as unknown as WithRelease)[RELEASE] = () => {
      if (released) return;
      released = true;
      releaseLock();
      if (locks.get(object.lockKey) === tail) locks.delete(object.lockKey);
    };
    await previous;

    const copySourceIfMatch = header(request.headers['x-amz-copy-source-if-match']);
    const copySource = header(request.headers['x-amz-copy-source']);
    if (request.method === 'PUT' && copySource !== undefined && copySourceIfMatch !== undefined) {
      // The source as S3 names it: "bucket/key" URL-encoded, maybe with a leading "/", maybe "?versionId=…".
      const source = await app.inject({ method: 'HEAD', url: `/${copySource.replace(/^\//, '')}` });
      if (source.statusCode !== 200) return s3Error(reply, 404, 'NoSuchKey', 'The specified key does not exist.');
      if (unquote(String(source.headers.etag ?? '')) !== unquote(copySourceIfMatch)) {
        return s3Error(reply, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 'x-amz-copy-source-If-Match');
      }
    }
    const ifNoneMatch = header(request.headers['if-none-match']);
    const ifMatch = header(request.headers['if-match']);
    if (ifNoneMatch === undefined && ifMatch === undefined) return;
    if (ifNoneMatch !== undefined && ifNoneMatch !== '*') {
      return s3Error(reply, 501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', 'If-None-Match');
    }
    // Ask fauxqs itself whether the key exists and what its ETag is (a HEAD passes no lock).
    const head = await app.inject({ method: 'HEAD', url: object.path });
    const exists = head.statusCode === 200;
    if (ifNoneMatch === '*' && exists) {
      return s3Error(reply, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 'If-None-Match');
    }
    if (ifMatch !== undefined) {
      if (!exists) return s3Error(reply, 404, 'NoSuchKey', 'The specified key does not exist.');
      if (unquote(String(head.headers.etag ?? '')) !== unquote(ifMatch)) {
        return s3Error(reply, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 'If-Match');
      }
    }
    return undefined;
  });

  const release = (request: unknown): Promise<void> => {
    (request as WithRelease)[RELEASE]?.();
    return Promise.resolve();
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);
}

// The object a request writes or deletes, if it is one: PUT or DELETE of a key, or the POST that
// completes a multipart upload. Part uploads are not conditional in S3.
function objectWrite(method: string, url: string): { path: string; lockKey: string } | undefined {
  const [path = '', query = ''] = url.split('?', 2);
  const params = new URLSearchParams(query);
  const isWrite = method === 'PUT' || method === 'DELETE' || (method === 'POST' && params.has('uploadId'));
  if (!isWrite || params.has('partNumber')) return undefined;
  const match = /^\/([^/]+)\/(.+)$/.exec(path);
  if (!match) return undefined;
  return { path, lockKey: `${match[1]}/${decodeURIComponent(match[2] as string)}` };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function unquote(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

// The S3 error document, as S3 (and fauxqs) write it.
function s3Error(reply: { code(status: number): unknown; header(name: string, value: string): unknown; send(body: string): unknown }, status: number, code: string, message: string, condition?: string) {
  const body = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Error><Code>${code}</Code><Message>${message}</Message>${condition ? `<Condition>${condition}</Condition>` : ''}<RequestId>${randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase()}</RequestId></Error>`,
  ].join('\n');
  reply.code(status);
  reply.header('content-type', 'application/xml');
  reply.send(body);
  return reply;
}
