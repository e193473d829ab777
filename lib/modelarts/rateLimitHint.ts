import type { ServiceFailure } from './classifyFailure.js';

// Huawei's gateway states the throttling policy it enforced: "The throttling threshold has been
// reached: policy user over ratelimit,limit:XX,time:1 minute" (its FAQ; `time:1 second` too). Its
// policies count per SECOND, MINUTE, HOUR or DAY.
const STATED_LIMIT = /\blimit\s*:\s*(\d+(?:\.\d+)?)\s*,\s*time\s*:\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day)s?\b/i;
const UNIT_SECONDS: Readonly<Record<string, number>> = { second: 1, minute: 60, hour: 3_600, day: 86_400 };

/**
 * The request rate a throttling answer says the gateway enforces, in requests per second
 * (`limit:120,time:1 minute` → 2), for the adaptive limiter's ceiling; undefined when the failure
 * is no throttle or states no limit.
 *
 * @param failure - A classified failure (its message, after redaction).
 */
export function rateLimitHint(failure: ServiceFailure): number | undefined {
  if (failure.failureClass !== 'throttled') return undefined;
  const match = STATED_LIMIT.exec(failure.message);
  if (match === null) return undefined;
  const [, limit = '', time = '', unit = ''] = match;
  const seconds = Number(time) * (UNIT_SECONDS[unit.toLowerCase()] ?? Number.NaN);
  const rate = Number(limit) / seconds;
  return Number.isFinite(rate) && rate > 0 ? rate : undefined;
}
