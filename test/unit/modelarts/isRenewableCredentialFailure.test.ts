import { describe, expect, it } from 'vitest';
import type { FailureClass } from '../../../lib/modelarts/classifyFailure.js';
import { isRenewableCredentialFailure } from '../../../lib/modelarts/isRenewableCredentialFailure.js';

describe('isRenewableCredentialFailure', () => {
  const cases: Array<['none' | 'aksk' | 'token', FailureClass, string, boolean]> = [
    ['token', 'credentials_expired', 'APIG.0301', true],
    ['token', 'credentials_expired', 'APIGW.0301', true],
    ['token', 'credentials_expired', 'APIG.0307', true],
    ['token', 'credentials_expired', 'ModelArts.4504', true],
    ['token', 'credentials_expired', 'APIG.0303', false],
    ['aksk', 'credentials_expired', 'APIG.0303', true],
    // A bad signature stays bad; five in a row lock the access key.
    ['aksk', 'credentials_expired', 'APIG.0301', false],
    ['aksk', 'credentials_expired', 'APIG.0307', false],
    ['none', 'credentials_expired', 'APIG.0301', false],
    ['token', 'permanent', 'APIG.0301', false],
  ];

  it.each(cases)('mode %s, class %s, code %s: %s', (mode, failureClass, code, expected) => {
    // Act
    const renewable = isRenewableCredentialFailure(mode, { failureClass, code, message: 'refused', status: 401 });

    // Assess
    expect(renewable).toBe(expected);
  });
});
