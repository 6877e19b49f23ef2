import type { Authenticator } from './authenticator.js';

/** One logical request; the wrapper turns it into one or more attempts. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute URL. */
  url: string;
  searchParams?: Record<string, string | number>;
  /** Sent as JSON with Content-Type application/json. */
  json?: unknown;
  headers?: Record<string, string>;
  /** The OMS project the request is for (X-Project-Id, token scope). */
  projectId?: string;
  /** Credentials for this request; omitted for unauthenticated calls such as the IAM token request itself. */
  auth?: Authenticator;
  /**
   * The answer's body is of no use (a delete, a pause): a 2xx is not read and never retried because of its body;
   * a 2xx HTML page in its place is a final invalid-response failure.
   */
  discardBody?: boolean;
  /** The largest 2xx body read for this request (see HttpOptions.maxBodyBytes, the default). */
  maxBodyBytes?: number;
  /**
   * Reads a 2xx body into what the call expects, inside the attempt. A throw means the answer is not that (not JSON,
   * cut off, the wrong shape): the attempt is retried like a 502, and when the attempts are used up the request fails
   * as a TransportError `invalid-response` whose message ends with the throw's message. Only for requests that may
   * be repeated (GETs); never with discardBody. The result is the response's `value`; its `body` is then ''.
   */
  parse?: (text: string) => unknown;
  /** Ends the request, its retries and its waits (a run's deadline inside Lambda); it then fails as a timeout. */
  signal?: AbortSignal | undefined;
}

/** A final answer with a 2xx status. Non-2xx answers become an HttpError (which carries the answer's X-Request-Id). */
export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The whole body as text; '' when the request had a `parse` (the text is not kept past the attempt). */
  body: string;
  /** What the request's `parse` made of the body; undefined without one. */
  value?: unknown;
}

export interface Http {
  request(request: HttpRequest): Promise<HttpResponse>;
}

/** Counters the HTTP layer sees that the summary does not hold (for metrics and the closing log line). */
export interface HttpCounters {
  retries: number;
  throttled: number;
  serverErrors: number;
  timeouts: number;
  connectionErrors: number;
}
