import type { S3Event, SQSEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QueueMessageError } from '../../../lib/core/errors.js';
import { readQueueMessage } from '../../../lib/triggers/queueMessage.js';
import { sqsRecord } from '../../support/sqsEvents.js';

const TARGET = { projectId: 'cc0f0990a56f4a1b9e41c85e79cc511c', dataAnnotationId: '282' };
const sample = (name: string) => (JSON.parse(readFileSync(new URL(`../../../events/${name}`, import.meta.url), 'utf8')) as SQSEvent).Records[0]!;
const s3Body = (name: string) => JSON.parse(sample(name).body) as S3Event;
const snsBody = (name: string) => JSON.parse(sample(name).body) as Record<string, unknown>;

// Reads a record expected to be refused and returns the QueueMessageError.
function refusal(record: unknown): QueueMessageError {
  try {
    readQueueMessage(record);
  } catch (error) {
    expect(error).toBeInstanceOf(QueueMessageError);
    return error as QueueMessageError;
  }
  expect.fail('expected readQueueMessage to throw');
}

describe('readQueueMessage', () => {
  it('reads a job with inline IDs', () => {
    // Prepare
    const body = { target: TARGET, imageIds: ['0123456789abcdef0123456789abcdef'] };

    // Act
    const work = readQueueMessage(sqsRecord(JSON.stringify(body)));

    // Assess
    expect(work).toEqual({ kind: 'job', job: body });
  });

  it('reads a job pointing at a manifest', () => {
    // Act
    const work = readQueueMessage(sample('sqs-manifest.json'));

    // Assess
    expect(work).toEqual({ kind: 'job', job: { manifest: 's3://image-cleanup-manifests/uploads/demo-v2.json', options: { chunkSize: 25 } } });
  });

  it('reads an S3 ObjectCreated notification sent straight to SQS', () => {
    // Act
    const work = readQueueMessage(sample('sqs-s3-notification.json'));

    // Assess
    expect(work).toEqual({ kind: 'manifests', objects: [{ bucket: 'image-cleanup-manifests', key: 'pending/v1/cc0f0990a56f4a1b9e41c85e79cc511c/282/drop-2026-11-28.txt' }] });
  });

  it('reads an S3 notification wrapped in an SNS notification', () => {
    // Act
    const work = readQueueMessage(sample('sqs-sns-s3-notification.json'));

    // Assess
    expect(work).toEqual({ kind: 'manifests', objects: [{ bucket: 'image-cleanup-manifests', key: 'pending/team-b/demo-v2-drop.json' }] });
  });

  it('decodes the URL-encoded key of a notification ("+" is a space)', () => {
    // Prepare
    const event = s3Body('sqs-s3-notification.json');
    event.Records[0]!.s3.object.key = 'pending/v1/p/282/old+images%C3%A9.txt';

    // Act
    const work = readQueueMessage(sqsRecord(JSON.stringify(event)));

    // Assess
    expect(work).toEqual({ kind: 'manifests', objects: [{ bucket: 'image-cleanup-manifests', key: 'pending/v1/p/282/old imagesé.txt' }] });
  });

  it('accepts an S3 record with only what matters (event, bucket, key, size, eTag, sequencer): no userIdentity, requestParameters or responseElements', () => {
    // Prepare: as replication, some S3-compatible stores and hand-made tests send it.
    const body = { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'image-cleanup-manifests' }, object: { key: 'pending/bare.txt', size: 66, eTag: '8d1c2b6e0e0b4c7f2a9b3e5d6f7a8b9c', sequencer: '0055AED6DCD90281E5' } } }] };

    // Act
    const work = readQueueMessage(sqsRecord(JSON.stringify(body)));

    // Assess
    expect(work).toEqual({ kind: 'manifests', objects: [{ bucket: 'image-cleanup-manifests', key: 'pending/bare.txt' }] });
  });

  it('reads a pending manifest\'s continuation', () => {
    // Prepare
    const body = { continuePending: { key: 'pending/a.txt', version: { etag: '"abc"', versionId: 'v1' } } };

    // Act
    const work = readQueueMessage(sqsRecord(JSON.stringify(body)));

    // Assess
    expect(work).toEqual({ kind: 'pending_continuation', key: 'pending/a.txt', version: { etag: '"abc"', versionId: 'v1' } });
  });

  it.each([
    ['directly', (test: object) => test],
    ['through SNS', (test: object) => ({ ...snsBody('sqs-sns-s3-notification.json'), Message: JSON.stringify(test) })],
  ])('ignores s3:TestEvent %s', (_label, wrap) => {
    // Prepare
    const test = { Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-28T17:00:00.000Z', Bucket: 'image-cleanup-manifests', RequestId: 'R', HostId: 'H' };

    // Act
    const work = readQueueMessage(sqsRecord(JSON.stringify(wrap(test))));

    // Assess
    expect(work).toEqual({ kind: 'ignore', reason: 's3:TestEvent' });
  });

  it('ignores a notification without ObjectCreated records', () => {
    // Prepare
    const event = s3Body('sqs-s3-notification.json');
    event.Records[0]!.eventName = 'ObjectRemoved:Delete';

    // Act
    const work = readQueueMessage(sqsRecord(JSON.stringify(event)));

    // Assess
    expect(work).toMatchObject({ kind: 'ignore' });
  });

  it.each([
    ['a body that is not JSON', sqsRecord('{"target":', 'm1'), 'body'],
    ['a job without a target', sqsRecord(JSON.stringify({ imageIds: ['x'] }), 'm2'), 'body.target'],
    ['a job with both imageIds and a manifest', sqsRecord(JSON.stringify({ target: TARGET, imageIds: ['x'], manifest: 's3://b/k.txt' }), 'm3'), 'body.manifest'],
    ['a manifest that is not an s3:// URI', sqsRecord(JSON.stringify({ target: TARGET, manifest: 'https://b/k.txt' }), 'm4'), 'body.manifest'],
    ['an S3 notification without a bucket', sqsRecord(JSON.stringify({ Records: [{ ...s3Body('sqs-s3-notification.json').Records[0], s3: { s3SchemaVersion: '1.0', configurationId: 'x', object: { key: 'pending/a.txt' } } }] }), 'm5'), 'body.Records.0.s3.bucket'],
    ['an SNS notification whose Message is not JSON', sqsRecord(JSON.stringify({ ...snsBody('sqs-sns-s3-notification.json'), Message: 'hello' }), 'm6'), 'body.Message'],
    ['a record without its attributes', { ...sqsRecord('{}', 'm7'), attributes: undefined }, 'attributes'],
    ['an S3 notification whose key is not URL-encoded', sqsRecord(JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'pending/100%.txt' } } }] }), 'm8'), 'body.Records.0.s3.object.key'],
    ['a pending continuation without its version', sqsRecord(JSON.stringify({ continuePending: { key: 'pending/a.txt' } }), 'm9'), 'body.continuePending'],
  ])('refuses %s, naming the message and the field', (_label, record, path) => {
    // Act
    const error = refusal(record);

    // Assess
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.messageId).toBe((record as { messageId: string }).messageId);
    expect(error.issues.map((issue) => issue.path)).toContain(path);
    expect(error.message).toContain(path);
  });
});
