import type { Credentials } from './types.js';

/** Request/response headers whose values are credentials: never log them (compare lowercase). */
export const SECRET_HEADER_NAMES: readonly string[] = ['authorization', 'x-auth-token', 'x-security-token', 'x-subject-token'];

/** True for a header name in SECRET_HEADER_NAMES, in any case. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER_NAMES.includes(name.toLowerCase());
}

/**
 * Every secret string of a credentials object, for the logger's redaction: token, sk, securityToken, password.
 * AKs, domains and user names identify but do not authenticate, so they stay readable in logs. IAM tokens
 * obtained at run time are reported through the password authenticator's `onSecret`.
 */
export function secretValues(credentials: Credentials): string[] {
  switch (credentials.type) {
    case 'token':
      return [credentials.token];
    case 'aksk':
      return credentials.securityToken === undefined ? [credentials.sk] : [credentials.sk, credentials.securityToken];
    case 'password':
      return [credentials.password];
  }
}
