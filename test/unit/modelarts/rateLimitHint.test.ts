import { describe, expect, it } from 'vitest';
import type { ServiceFailure } from '../../../lib/modelarts/classifyFailure.js';
import { rateLimitHint } from '../../../lib/modelarts/rateLimitHint.js';

const throttle = (message: string): ServiceFailure => ({ failureClass: 'throttled', status: 429, code: 'APIG.0308', message });

describe('rateLimitHint', () => {
  it.each([
    // Huawei's wording (its FAQs on APIG.0308), per second and per minute.
    ['The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 second', 20],
    ['The throttling threshold has been reached: policy user over ratelimit,limit:120,time:1 minute', 2],
    // The reference's wording, with blanks; other units of the gateway's policies; our emulator's fractional limit.
    ['policy user over ratelimit, limit:600, time:1 minute', 10],
    ['policy api over ratelimit,limit:7200,time:2 hours', 1],
    ['policy ip over ratelimit,LIMIT:86400,TIME:1 DAY', 1],
    ['policy user over ratelimit, limit:0.25, time:1 second', 0.25],
  ])('%j → %d per second', (message, rate) => {
    // Act
    const hint = rateLimitHint(throttle(message));

    // Assess
    expect(hint).toBeCloseTo(rate, 10);
  });

  it.each([
    'The throttling threshold has been reached.',
    'limit:20',
    'limit:20,time:1 fortnight',
    'limit:0,time:1 second',
    'limit:20,time:0 second',
    'unlimited:20,time:1 second',
  ])('finds no limit in %j', (message) => {
    // Act
    const hint = rateLimitHint(throttle(message));

    // Assess
    expect(hint).toBeUndefined();
  });

  it('reads no limit from a failure that is no throttle', () => {
    // Act
    const hint = rateLimitHint({ ...throttle('limit:20,time:1 second'), failureClass: 'transient' });

    // Assess
    expect(hint).toBeUndefined();
  });
});
