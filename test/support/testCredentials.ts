import { EMULATOR_TOKEN_PREFIX } from '../../local/emulator/emulatorAuth.js';

/**
 * Credentials used by the tests. They are made up, but the suite treats them as secrets: none of
 * them may appear in any log line, report or error message (see test/support/secretLeakGuard.ts).
 */
export const TEST_ACCESS_KEY = 'QTWAOYTTINDUT2QVKYUC';
export const TEST_SECRET_KEY = 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc';
export const TEST_SECURITY_TOKEN = 'gQpjbi1ub3J0aC00TEMPORARYSECURITYTOKEN';
export const TEST_PASSWORD = 'Tr0ub4dor&3-not-a-real-password';
export const TEST_USER = { name: 'cleanup-bot', password: TEST_PASSWORD, domain: 'acme-ml', projects: ['cn-north-4'] };

/** The secrets a leak check looks for, by name (the name is what a failure reports, never the value). */
export const TEST_SECRETS: Readonly<Record<string, string>> = {
  'access key': TEST_ACCESS_KEY,
  'secret key': TEST_SECRET_KEY,
  'security token': TEST_SECURITY_TOKEN,
  password: TEST_PASSWORD,
};

/**
 * Names of the test secrets found in `text`, plus `token` when an emulator-issued IAM token is in
 * it. Empty when `text` is clean.
 */
export function findLeakedSecrets(text: string): string[] {
  const found = Object.entries(TEST_SECRETS).filter(([, value]) => text.includes(value)).map(([name]) => name);
  if (text.includes(EMULATOR_TOKEN_PREFIX)) found.push('token');
  return found;
}
