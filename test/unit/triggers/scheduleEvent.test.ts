import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../../lib/core/errors.js';
import { parseScheduleEvent } from '../../../lib/triggers/scheduleEvent.js';

const NOW = Date.parse('2026-11-28T17:20:00Z');
const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../../events/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
// The two real envelopes: an EventBridge scheduled rule's event, and EventBridge Scheduler's default
// notification (a schedule without input), whose `detail` is the string "{}".
const rule = sample('schedule-eventbridge.json');
const schedulerDefault = sample('schedule-scheduler-default.json');

// Parses an event expected to be refused and returns the error.
function refusal(event: unknown): JobValidationError {
  try {
    parseScheduleEvent(event, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(JobValidationError);
    return error as JobValidationError;
  }
  expect.fail('expected parseScheduleEvent to throw');
}

describe('parseScheduleEvent', () => {
  it('reads a scheduled rule event as a scan of pending/ at its time', () => {
    // Act
    const request = parseScheduleEvent(rule, NOW);

    // Assess
    expect(request).toEqual({ prefix: 'pending/', scheduledAt: '2026-11-28T17:00:00.000Z' });
  });

  it('reads EventBridge Scheduler\'s default event (detail "{}" as a string) as a plain tick at its time', () => {
    // Act
    const request = parseScheduleEvent(schedulerDefault, NOW);

    // Assess
    expect(request).toEqual({ prefix: 'pending/', scheduledAt: '2026-11-28T17:15:00.000Z' });
  });

  it('reads Scheduler input, with the invocation time as the schedule time', () => {
    // Act
    const scoped = parseScheduleEvent({ prefix: 'pending/v1/', maxManifests: 3 }, NOW);
    const empty = parseScheduleEvent({}, NOW);

    // Assess
    expect(scoped).toEqual({ prefix: 'pending/v1/', maxManifests: 3, scheduledAt: '2026-11-28T17:20:00.000Z' });
    expect(empty).toEqual({ prefix: 'pending/', scheduledAt: '2026-11-28T17:20:00.000Z' });
  });

  it.each([
    ['a foreign detail object', { ...rule, detail: { rm: '-rf /' } }],
    ['a detail carrying Scheduler input', { ...rule, detail: { prefix: 'pending/v1/' } }],
    ['a Scheduler detail string that is not "{}"', { ...schedulerDefault, detail: '{"rm":"-rf /"}' }],
    ['a detail that is a list', { ...rule, detail: [] }],
    ['a detail that is null', { ...rule, detail: null }],
  ])('refuses a Scheduled Event with %s, on path detail, saying the schedule takes no detail', (_label, event) => {
    // Act
    const error = refusal(event);

    // Assess
    expect(error.issues.map((issue) => issue.path)).toEqual(['detail']);
    expect(error.message).toContain('a scheduled event carries no detail');
  });

  it('refuses Scheduler input keys on an EventBridge event: they would be ignored, and all of pending/ scanned', () => {
    // Act
    const error = refusal({ ...rule, prefix: 'pending/v1/', maxManifests: 1 });

    // Assess
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['maxManifests', 'prefix']);
    expect(error.message).toContain('Scheduler input');
  });

  it.each([
    ['outside pending/', { prefix: 'done/' }, 'under "pending/"'],
    ['with ..', { prefix: 'pending/../done/' }, 'without ".."'],
    ['longer than an S3 key can be', { prefix: `pending/${'é'.repeat(600)}/` }, 'at most 1024 bytes'],
  ])('refuses a Scheduler prefix %s', (_label, event, words) => {
    // Act
    const error = refusal(event);

    // Assess
    expect(error.issues.map((issue) => issue.path)).toEqual(['prefix']);
    expect(error.message).toContain(words);
  });

  it.each([
    ['a foreign source', { ...rule, source: 'my.app' }, 'source'],
    ['a foreign detail-type', { ...schedulerDefault, 'detail-type': 'Object Created' }, 'detail-type'],
    ['no time', { ...rule, time: undefined }, 'time'],
    ['resources that are not a list', { ...rule, resources: 'arn:aws:events:eu-west-1:123456789012:rule/x' }, 'resources'],
    ['an envelope without detail-type', { source: 'aws.scheduler', time: '2026-11-28T17:15:00Z', detail: '{}' }, 'detail-type'],
  ])('refuses an EventBridge event with %s, naming the field', (_label, event, path) => {
    // Act
    const error = refusal(event);

    // Assess
    expect(error.issues.map((issue) => issue.path)).toContain(path);
  });
});
