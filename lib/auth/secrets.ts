import type { Credentials } from './types.js';

export { SECRET_HEADER_NAMES, isSecretHeader } from '../log/secret-headers.js';

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
