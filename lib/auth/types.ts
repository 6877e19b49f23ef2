/**
 * The one seam between the HTTP layer and credentials. The HTTP wrapper calls `authorize` on every attempt of every
 * request (a signature covers X-Sdk-Date, so it must be recomputed per attempt) and `refresh` once after a 401.
 */
export interface Authenticator {
  readonly kind: 'token' | 'aksk' | 'password';
  /**
   * Sets the authentication headers of one attempt. `projectId` is the OMS project the request is for; `signal`
   * (the run's deadline) also ends whatever authorizing waits for (an IAM token request, the AK/SK probe).
   */
  authorize(request: Request, projectId: string, signal?: AbortSignal): Promise<void>;
  /**
   * Called after a 401. Resolves true when new credentials were obtained and the request deserves exactly one more
   * attempt (IAM password tokens); false when retrying cannot help (a static token, a wrong AK/SK).
   */
  refresh(projectId: string, errorCode: string | undefined, signal?: AbortSignal): Promise<boolean>;
  /**
   * Optional: told how every attempt ended, with the HTTP status, or undefined when there was no answer (timeout,
   * connection error). AK/SK uses it to send one request first and the rest only once a signature was accepted.
   */
  answered?(status: number | undefined): void;
}

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
