import { randomBytes } from 'node:crypto';
import type { ModelArtsEmulator } from '../emulator/modelArtsEmulator.js';

/**
 * Makes up credentials for the emulator's authentication mode (`settings.auth`), registers them
 * with the emulator, and returns the environment that hands them to the function: on the local
 * stack, credentials come from `MODELARTS_*` variables only. Empty for `none`.
 */
export function registerLocalCredentials(emulator: ModelArtsEmulator): Record<string, string> {
  const { auth } = emulator.settings;
  if (auth === 'aksk') {
    const accessKey = randomBytes(15).toString('base64url').replace(/[-_]/g, 'X').toUpperCase().slice(0, 20);
    const secretKey = randomBytes(30).toString('base64url');
    emulator.auth.accessKeys.push({ accessKey, secretKey });
    return { MODELARTS_AUTH: 'aksk', MODELARTS_ACCESS_KEY: accessKey, MODELARTS_SECRET_KEY: secretKey };
  }
  if (auth === 'token') {
    const user = { name: 'local-cleanup', password: randomBytes(18).toString('base64url'), domain: 'local', projects: ['local-1'] };
    emulator.auth.users.push(user);
    return {
      MODELARTS_AUTH: 'token',
      MODELARTS_IAM_ENDPOINT: emulator.url,
      MODELARTS_IAM_USER: user.name,
      MODELARTS_IAM_PASSWORD: user.password,
      MODELARTS_IAM_DOMAIN: user.domain,
      MODELARTS_IAM_PROJECT: 'local-1',
    };
  }
  return {};
}
