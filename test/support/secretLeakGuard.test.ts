import { describe, expect, it } from 'vitest';
import { EMULATOR_TOKEN_PREFIX } from '../../local/emulator/emulatorAuth.js';
import { findLeakedSecrets, TEST_ACCESS_KEY, TEST_PASSWORD, TEST_SECRET_KEY, TEST_SECURITY_TOKEN } from './testCredentials.js';

// The suite-wide leak check (test/support/secretLeakGuard.ts) relies on this function: it must see every kind of secret.
describe('findLeakedSecrets', () => {
  it('finds each test credential and any emulator-issued token, by name', () => {
    // Prepare
    const line = JSON.stringify({ level: 'INFO', ak: TEST_ACCESS_KEY, sk: TEST_SECRET_KEY, st: TEST_SECURITY_TOKEN, pw: TEST_PASSWORD, t: `${EMULATOR_TOKEN_PREFIX}abc` });

    // Act
    const found = findLeakedSecrets(line);

    // Assess
    expect(found.sort()).toEqual(['access key', 'password', 'secret key', 'security token', 'token']);
  });

  it('finds nothing in clean output', () => {
    // Act
    const found = findLeakedSecrets('{"level":"INFO","message":"job finished","code":"CREDENTIALS_REFUSED"}');

    // Assess
    expect(found).toEqual([]);
  });
});
