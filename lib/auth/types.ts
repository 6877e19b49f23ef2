import type { Authenticator } from '../http/authenticator.js';

export type { Authenticator } from '../http/authenticator.js';

/** Static token (OMS_AUTH_TOKEN, or a `{"type":"token"}` secret): sent as X-Auth-Token; a 401 cannot be fixed here. */
export function tokenAuthenticator(token: string): Authenticator {
  return {
    kind: 'token',
    async authorize(request) {
      request.headers.set('X-Auth-Token', token);
    },
    async refresh() {
      return false;
    },
  };
}

/** Credentials as read from a secret or the environment (validated by secret.ts). Never log these objects. */
export type Credentials = TokenCredentials | AkSkCredentials | PasswordCredentials;

export interface TokenCredentials {
  type: 'token';
  token: string;
}

export interface AkSkCredentials {
  type: 'aksk';
  ak: string;
  sk: string;
  /** Temporary credentials only: sent as X-Security-Token and signed. */
  securityToken?: string;
}

export interface PasswordCredentials {
  type: 'password';
  domain: string;
  username: string;
  password: string;
  /** Base URL of IAM, no trailing slash. Default https://iam.{region}.myhuaweicloud.com (region of the project). */
  iamEndpoint?: string;
}

/** Milliseconds since the epoch; injected so tests can move time. */
export type Clock = () => number;
