import type { ServiceFailure } from './classifyFailure.js';

// Token mode: the token was refused, has expired or must be updated; a new token may be accepted.
const TOKEN_RENEWABLE_CODES = new Set(['APIG.0301', 'APIGW.0301', 'APIG.0307', 'ModelArts.4504', 'ModelArts.0202', 'ModelArts.0203']);
// AK/SK mode: only "signature expired" (clock skew); a bad signature stays bad, and five in a row
// lock the access key for five minutes, so it is never repeated.
const AKSK_RENEWABLE_CODES = new Set(['APIG.0303']);

/**
 * Decides whether a request refused for its credentials is worth one more attempt with renewed
 * credentials: in token mode a fresh token; in AK/SK mode a signature with a fresh `X-Sdk-Date`.
 * Pure: the decision depends on the mode and the failure only.
 *
 * @param mode - The authentication in use.
 * @param failure - The classified failure; only `credentials_expired` failures can be renewable.
 */
export function isRenewableCredentialFailure(mode: 'none' | 'aksk' | 'token', failure: ServiceFailure): boolean {
  if (failure.failureClass !== 'credentials_expired') return false;
  if (mode === 'token') return TOKEN_RENEWABLE_CODES.has(failure.code);
  if (mode === 'aksk') return AKSK_RENEWABLE_CODES.has(failure.code);
  return false;
}
