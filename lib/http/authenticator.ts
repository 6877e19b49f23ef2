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
