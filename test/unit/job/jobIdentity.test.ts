import { describe, expect, it } from 'vitest';
import { canonicalJson, deriveJobIdentity } from '../../../lib/job/jobIdentity.js';

describe('deriveJobIdentity', () => {
  it('prefers the idempotency key, then the message id, then the content hash', () => {
    const content = { target: { projectId: 'p', dataAnnotationId: '1' }, imageIds: ['a'] };
    expect(deriveJobIdentity({ idempotencyKey: 'cleanup-42', messageId: 'm1', content })).toEqual({ jobId: 'cleanup-42', source: 'idempotency_key' });
    expect(deriveJobIdentity({ messageId: '059f36b4-87a3-44ab-83d2-661975830a7d', content })).toEqual({ jobId: 'msg-059f36b4-87a3-44ab-83d2-661975830a7d', source: 'message_id' });
    expect(deriveJobIdentity({ content }).source).toBe('content_hash');
  });

  it('hashes equal content equally, whatever the key order, and different content differently', () => {
    const a = deriveJobIdentity({ content: { target: { projectId: 'p', dataAnnotationId: '1' }, imageIds: ['a', 'b'] } });
    const b = deriveJobIdentity({ content: { imageIds: ['a', 'b'], target: { dataAnnotationId: '1', projectId: 'p' } } });
    const c = deriveJobIdentity({ content: { imageIds: ['b', 'a'], target: { dataAnnotationId: '1', projectId: 'p' } } });
    expect(a.jobId).toBe(b.jobId);
    expect(a.jobId).not.toBe(c.jobId);
    expect(a.jobId).toMatch(/^sha-[0-9a-f]{32}$/);
  });

  it('keeps message ids safe for an S3 key', () => {
    expect(deriveJobIdentity({ messageId: 'a/b..c', content: {} }).jobId).toBe('msg-a-b..c');
    expect(deriveJobIdentity({ messageId: 'a/b', content: {} }).jobId).not.toContain('/');
  });

  it('canonicalJson sorts keys and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [1, { z: 0, y: null }] } })).toBe('{"a":{"c":[1,{"y":null,"z":0}]},"b":1}');
  });
});
