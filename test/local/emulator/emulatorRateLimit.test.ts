import { describe, expect, it } from 'vitest';
import { EmulatorRateLimit } from '../../../local/emulator/emulatorRateLimit.js';

// The emulated gateway's token bucket, on explicit instants (epoch ms), no timers.
describe('EmulatorRateLimit', () => {
  it('lets a full bucket through, then exactly the refill rate, answering the rest 429 APIG.0308 with Retry-After', () => {
    // Prepare: 10 requests/s, one second of burst.
    const gate = new EmulatorRateLimit();
    const admitted: number[] = [];
    const refused: Array<string | undefined> = [];

    // Act: 100 requests/s for 3 s.
    for (let at = 0; at < 3_000; at += 10) {
      const answer = gate.admit(10, 1, at);
      if (answer === undefined) admitted.push(at);
      else refused.push(answer.headers['retry-after']);
    }

    // Assess: 10 from the bucket, then 10 per second refilled.
    expect(admitted.slice(0, 10)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(admitted).toHaveLength(10 + 29);
    expect(refused).toHaveLength(300 - 39);
    expect(new Set(refused)).toEqual(new Set(['1']));
    expect(gate.admit(10, 1, 3_200)).toBeUndefined();
  });

  it('follows a change of rate while running, and switches off at 0', () => {
    // Prepare
    const gate = new EmulatorRateLimit();
    for (let at = 0; at < 1_000; at += 1) gate.admit(100, 0.1, at);

    // Act: at 10/s, requests every 50 ms for 2 s; then the limit switched off.
    let admittedSlow = 0;
    for (let at = 1_000; at < 3_000; at += 50) if (gate.admit(10, 0.1, at) === undefined) admittedSlow += 1;
    const answersOff = Array.from({ length: 50 }, (_, i) => gate.admit(0, 1, 3_000 + i));

    // Assess
    expect(admittedSlow).toBeGreaterThanOrEqual(19);
    expect(admittedSlow).toBeLessThanOrEqual(21);
    expect(answersOff.every((answer) => answer === undefined)).toBe(true);
  });

  it('names the limit in the message, as the real gateway does, and asks for the whole seconds until a token is back', () => {
    // Prepare
    const gate = new EmulatorRateLimit();
    gate.admit(0.25, 4, 0);

    // Act
    const answer = gate.admit(0.25, 4, 1);

    // Assess: one token every 4 s.
    expect(answer).toMatchObject({ status: 429, errorCode: 'APIG.0308', body: { error_code: 'APIG.0308' }, headers: { 'retry-after': '4' } });
    expect(answer?.body.error_msg).toContain('limit:0.25');
  });

  it('can leave the limit out of the message (an unannounced limit)', () => {
    // Prepare
    const gate = new EmulatorRateLimit();
    gate.admit(1, 1, 0, false);

    // Act
    const answer = gate.admit(1, 1, 1, false);

    // Assess
    expect(answer).toMatchObject({ status: 429, errorCode: 'APIG.0308' });
    expect(answer?.body.error_msg).toBe('The throttling threshold has been reached.');
  });
});
