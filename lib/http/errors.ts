/**
 * A final non-2xx answer (after any retries). Carries what the log lines and the run summary need; the body is
 * reduced to error_code / error_msg so that nothing else from the server (or our request) travels further.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly errorMsg: string | undefined;
  readonly requestId: string | undefined;
  readonly method: string;
  readonly path: string;
  /** How many attempts were made before this answer was final. */
  readonly attempts: number;
  /** For a 3xx: the host its Location named (redirects are never followed). */
  readonly redirectHost: string | undefined;

  constructor(init: {
    status: number;
    errorCode?: string;
    errorMsg?: string;
    requestId?: string;
    method: string;
    path: string;
    attempts: number;
    redirectHost?: string;
  }) {
    // Some gateways put the status itself in error_code ("401"): said once, not "HTTP 401 401".
    const code = init.errorCode && init.errorCode !== String(init.status) ? ` ${init.errorCode}` : '';
    const msg = init.errorMsg ? `: ${init.errorMsg}` : '';
    const id = init.requestId ? ` (request id ${init.requestId})` : '';
    super(`${init.method} ${init.path} answered HTTP ${init.status}${code}${msg}${id}`);
    this.status = init.status;
    this.errorCode = init.errorCode;
    this.errorMsg = init.errorMsg;
    this.requestId = init.requestId;
    this.method = init.method;
    this.path = init.path;
    this.attempts = init.attempts;
    this.redirectHost = init.redirectHost;
  }
}

export type TransportFailure = 'timeout' | 'connection' | 'invalid-response';

/** No usable answer at all: every attempt timed out, lost its connection, or got a body that is not the expected JSON. */
export class TransportError extends Error {
  override name = 'TransportError';
  readonly kind: TransportFailure;
  readonly method: string;
  readonly path: string;

  constructor(kind: TransportFailure, method: string, path: string, options?: { cause?: unknown }) {
    const what = { timeout: 'timed out', connection: 'lost its connection', 'invalid-response': 'got an unusable answer' }[kind];
    const root = rootCause(options?.cause);
    super(`${method} ${path} ${what} on every attempt${root ? ` (${root})` : ''}`, options);
    this.kind = kind;
    this.method = method;
    this.path = path;
  }
}

/** The innermost cause's message (e.g. "connect ECONNREFUSED 127.0.0.1:8790"): what a person needs to act on. */
function rootCause(cause: unknown): string | undefined {
  let current = cause;
  let message: string | undefined;
  for (let depth = 0; current instanceof Error && depth < 5; depth += 1) {
    message = current.message;
    current = current.cause;
  }
  return message;
}

/**
 * A request to a host that may not receive credentials (lib/http/allowed-hosts.ts): nothing was sent. The policy and
 * the credentials are checked before a run, so this only fires if something got past those checks. Final.
 */
export class RefusedHostError extends Error {
  override name = 'RefusedHostError';
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, why: string) {
    super(`${method} ${path} was not sent: ${why}`);
    this.method = method;
    this.path = path;
  }
}
