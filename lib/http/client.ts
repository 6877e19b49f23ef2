import ky, { HTTPError, isForceRetryError, isHTTPError, isTimeoutError, type KyInstance } from 'ky';
import { types } from 'node:util';
import { HttpError, TransportError, type TransportFailure } from './errors.js';
import type { RateBudget } from './rate-budget.js';
import { DEFAULT_RETRY_POLICY, RETRY_STATUS_CODES, isNetworkError, kyRetryOptions, parseRetryAfterMs, retryDelayMs, type RetryPolicy } from './retry-policy.js';
import type { Http, HttpRequest, HttpResponse } from './types.js';

export interface HttpOptions {
  /** Default DEFAULT_RETRY_POLICY. */
  retry?: RetryPolicy;
  /** Shared by every attempt of every request made through this instance; default none. */
  rateBudget?: RateBudget;
  /** Told about every attempt that will be retried (status or failure kind), for metrics and debug logs. */
  onRetry?: (event: { method: string; path: string; retry: number; status?: number; reason: string }) => void;
  /** Told how every request ended, after its retries (for DEBUG logs): its status, or why there was none. */
  onDone?: (event: { method: string; path: string; status?: number; failure?: string; attempts: number; ms: number }) => void;
  /**
   * The largest 2xx body read, in bytes; a longer one is cancelled there and retried as a bad answer. Default
   * DEFAULT_MAX_BODY_BYTES: a full page of 100 tasks is about 100 KB.
   */
  maxBodyBytes?: number;
  /** For tests: another fetch. */
  fetch?: typeof fetch;
}

/** 4 MiB: forty times a full page of real (~1 KB) tasks, far below what would strain a 256 MB Lambda. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Error bodies carry a code and a message: their first 16 KiB are read, the rest is cancelled unread. */
export const MAX_ERROR_BODY_BYTES = 16 * 1024;
const RETRY_STATUS: ReadonlySet<number> = new Set(RETRY_STATUS_CODES);
/** Statuses whose Response may not carry a body. */
const NULL_BODY_STATUS: ReadonlySet<number> = new Set([204, 205, 304]);

/**
 * The retrying HTTP wrapper: ky does the attempts (see retry-policy.ts); this layer adds the rate budget and
 * authentication on every attempt, one re-authentication after a 401, and turns failures into HttpError /
 * TransportError with what the logs need. It knows nothing about OMS. The hooks are the instance's, built once;
 * what belongs to one request travels to them in ky's `context` (an Exchange), so a request costs ky no option
 * merging beyond its own method, URL and headers.
 */
export function createHttp(options: HttpOptions = {}): Http {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const bodyTimeoutMs = policy.attemptTimeoutMs;
  const defaultMaxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const exchangeOf = (opts: { context: Record<string, unknown> }) => opts.context.exchange as Exchange;
  const base = ky.create({
    retry: kyRetryOptions(policy),
    timeout: policy.attemptTimeoutMs,
    throwHttpErrors: true,
    // Never follow a redirect: fetch would re-send X-Auth-Token, X-Security-Token and an IAM password body to
    // whatever host the Location names, and count a redirected DELETE's 200 as our delete. A 3xx is a final answer.
    redirect: 'manual',
    headers: { Accept: 'application/json' },
    ...(options.fetch ? { fetch: options.fetch } : {}),
    hooks: {
      beforeRequest: [
        async (req, opts) => {
          const ex = exchangeOf(opts);
          ex.attempts += 1;
          ex.authorized = false;
          if (options.rateBudget) await options.rateBudget();
          const { auth, projectId, signal } = ex.request;
          if (auth) await auth.authorize(req, projectId ?? '', signal);
          ex.authorized = true;
        },
      ],
      afterResponse: [
        // The body is read here, inside ky's attempt loop, so that a body that stalls or is cut off is retried
        // like any other failed attempt (ky's own timeout ends when the headers arrive).
        async (_req, opts, res) => {
          const ex = exchangeOf(opts);
          const { request } = ex;
          request.auth?.answered?.(res.status);
          if (!res.ok) {
            // The error body's start (all that is wanted of it) is read now and the rest cancelled: no stream is
            // left open behind a retry wait, where a deadline that fires would error it with nobody to catch it
            // (a crash in Lambda).
            const text = await readBody(res, bodyTimeoutMs, MAX_ERROR_BODY_BYTES, true, request.signal).catch(() => '');
            // 429 and 5xx are tried again while attempts remain, after the larger of our backoff and a positive
            // Retry-After (retry-policy.ts); the last one is the final answer.
            if (RETRY_STATUS.has(res.status) && ex.attempts < policy.attempts) {
              const retryAfterMs = parseRetryAfterMs(res.headers.get('retry-after'), Date.now());
              return ky.retry({ code: `${HTTP_RETRY}${res.status}`, delay: retryDelayMs(ex.attempts, policy, retryAfterMs) });
            }
            return new Response(NULL_BODY_STATUS.has(res.status) ? null : text, { status: res.status, statusText: res.statusText, headers: res.headers });
          }
          const html = /html/i.test(res.headers.get('content-type') ?? '');
          if (request.discardBody) {
            // A delete or a pause is never repeated because of its body. OMS answers them with an empty 200; an
            // HTML page in its place (a proxy's) says the request may not have reached OMS: a failure, not a success.
            if (html) throw new TransportError('invalid-response', request.method, ex.path);
            return new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers });
          }
          // A 2xx HTML page (a proxy's error page) is not an answer: try again like a 502.
          if (html) return ky.retry({ code: 'NOT_JSON' });
          try {
            // Handed over as it is (Exchange.body), not re-wrapped in a Response and decoded again.
            ex.body = await readBody(res, bodyTimeoutMs, request.maxBodyBytes ?? defaultMaxBodyBytes, false, request.signal);
            return new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers });
          } catch (error) {
            return ky.retry({ code: error instanceof BodyTimeout ? 'BODY_TIMEOUT' : error instanceof BodyTooLarge ? 'BODY_TOO_LARGE' : 'BODY_CUT' });
          }
        },
      ],
      beforeRetry: [
        async ({ error, retryCount, options: opts }) => {
          const { request, path } = exchangeOf(opts);
          const status = retriedStatus(error);
          if (status === undefined && !isForceRetryError(error)) request.auth?.answered?.(undefined);
          options.onRetry?.({ method: request.method, path, retry: retryCount, status, reason: failureReason(error) });
        },
      ],
    },
  });
  return {
    async request(request) {
      try {
        return await attempt(base, request, options);
      } catch (error) {
        // A 401 gets exactly one more try, and only when the credentials could be renewed (IAM password tokens).
        if (error instanceof HttpError && error.status === 401 && request.auth) {
          if (await request.auth.refresh(request.projectId ?? '', error.errorCode, request.signal)) {
            return attempt(base, request, options);
          }
        }
        throw error;
      }
    },
  };
}

/** One request's state, shared with the instance's hooks through ky's `context`. */
interface Exchange {
  request: HttpRequest;
  /** The URL's path, for errors and logs. */
  path: string;
  attempts: number;
  /**
   * Whether the last attempt got past authorize(): one that was still waiting there (behind the AK/SK probe) when
   * it ended sent nothing, so it must not report "no answer" to the authenticator as if it had been the probe.
   */
  authorized: boolean;
  /** The 2xx body as read in afterResponse. */
  body: string;
}

/** The code of a forced retry of a 429 or 5xx answer: `HTTP_` and the status. */
const HTTP_RETRY = 'HTTP_';

async function attempt(client: KyInstance, request: HttpRequest, options: HttpOptions): Promise<HttpResponse> {
  const startedMs = performance.now();
  const ex: Exchange = { request, path: pathOf(request.url), attempts: 0, authorized: false, body: '' };
  try {
    const response = await client(request.url, {
      method: request.method,
      ...(request.searchParams ? { searchParams: request.searchParams } : {}),
      ...(request.json === undefined ? {} : { json: request.json }),
      ...(request.headers ? { headers: request.headers } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      context: { exchange: ex },
    });
    const requestId = response.headers.get('x-request-id') ?? undefined;
    options.onDone?.({ method: request.method, path: ex.path, status: response.status, attempts: ex.attempts, ms: performance.now() - startedMs });
    return { status: response.status, headers: response.headers, body: ex.body, ...(requestId ? { requestId } : {}) };
  } catch (error) {
    const final = await toFinalError(error, request.method, ex.path, ex.attempts, request.url);
    if (final instanceof TransportError && final.kind !== 'invalid-response' && ex.authorized) request.auth?.answered?.(undefined);
    options.onDone?.({
      method: request.method,
      path: ex.path,
      ...(final instanceof HttpError ? { status: final.status } : { failure: final instanceof TransportError ? final.kind : 'error' }),
      attempts: ex.attempts,
      ms: performance.now() - startedMs,
    });
    throw final;
  }
}

/** The path of one of our own URLs (scheme://host[:port]/path[?query]), without parsing the whole URL. */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const query = url.indexOf('?', start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}

/** The status of a retried 429/5xx answer (a forced retry whose code carries it), else undefined. */
function retriedStatus(error: Error): number | undefined {
  if (isHTTPError(error)) return error.response.status;
  if (isForceRetryError(error) && error.code?.startsWith(HTTP_RETRY)) return Number(error.code.slice(HTTP_RETRY.length));
  return undefined;
}

const FORCED_RETRY_KIND: Record<string, TransportFailure> = {
  NOT_JSON: 'invalid-response',
  BODY_TOO_LARGE: 'invalid-response',
  BODY_TIMEOUT: 'timeout',
  BODY_CUT: 'connection',
};
const FORCED_RETRY_DETAIL: Record<string, string> = { BODY_TOO_LARGE: 'the body was longer than the limit' };

function failureReason(error: Error): string {
  const status = retriedStatus(error);
  if (status !== undefined) return `http-${status}`;
  if (isTimeoutError(error)) return 'timeout';
  if (isForceRetryError(error)) return FORCED_RETRY_KIND[error.code ?? ''] ?? 'invalid-response';
  return 'connection';
}

/**
 * The error a caller sees. Transport failures keep only a summary of what happened as their cause: ky's errors
 * carry the Request, whose headers hold the token or the signature.
 */
async function toFinalError(error: unknown, method: string, path: string, attempts: number, url: string): Promise<unknown> {
  if (error instanceof HTTPError) return httpErrorFrom(error.response, method, path, attempts, url);
  if (isTimeoutError(error)) return new TransportError('timeout', method, path, { cause: summary(error) });
  if (isForceRetryError(error)) {
    const code = error.code ?? '';
    const detail = FORCED_RETRY_DETAIL[code];
    return new TransportError(FORCED_RETRY_KIND[code] ?? 'invalid-response', method, path, detail ? { cause: new Error(detail) } : undefined);
  }
  const original = error instanceof Error && error.name === 'NonError' ? (error as Error & { value: unknown }).value : error;
  if (isNetworkError(original)) return new TransportError('connection', method, path, { cause: summary(original) });
  return error; // Ours (an AuthError from authorize): already final.
}

/** name and message of an error and of its causes, nothing else. */
function summary(error: unknown, depth = 0): Error | undefined {
  if (!types.isNativeError(error) || depth > 3) return undefined;
  const cause = summary(error.cause, depth + 1);
  const out = new Error(error.message, cause ? { cause } : undefined);
  out.name = error.name;
  return out;
}

class BodyTimeout extends Error {
  override name = 'BodyTimeout';
}

class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
}

/**
 * The body as text within `timeoutMs` and `maxBytes`, ended early by `signal` (the run's deadline): a server that
 * sends headers and then stalls must not hold a slot forever, and one that sends without end must not fill the
 * memory. On a timeout, an abort, or past `maxBytes`, the stream is cancelled, which releases the connection. Past
 * `maxBytes` the read fails (BodyTooLarge), or, with `keepPrefix`, ends with the first `maxBytes` bytes (error
 * bodies: their start is all that is wanted). The chunks are decoded once, at the end.
 */
async function readBody(response: Response, timeoutMs: number, maxBytes: number, keepPrefix = false, signal?: AbortSignal): Promise<string> {
  if (response.body === null) return '';
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (!keepPrefix && declared > maxBytes) {
    // Not awaited: the body may be a tee branch of ky's clone, whose cancel settles only when both branches are.
    response.body.cancel().catch(() => undefined);
    throw new BodyTooLarge(`a body of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  const reader = response.body.getReader();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const stop = (error: Error) => {
      reader.cancel().catch(() => undefined);
      reject(error);
    };
    timer = setTimeout(() => stop(new BodyTimeout(`no complete body within ${timeoutMs} ms`)), timeoutMs);
    if (signal) {
      onAbort = () => stop(new BodyTimeout('the run\'s deadline ended the body'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  stopped.catch(() => undefined); // settled by whichever comes first; the race below reports it
  const read = async (): Promise<string> => {
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks, bytes).toString('utf8');
      if (bytes + value.byteLength > maxBytes) {
        reader.cancel().catch(() => undefined);
        if (!keepPrefix) throw new BodyTooLarge(`the body is over the ${maxBytes}-byte limit`);
        chunks.push(value.subarray(0, maxBytes - bytes));
        return Buffer.concat(chunks, maxBytes).toString('utf8');
      }
      chunks.push(value);
      bytes += value.byteLength;
    }
  };
  try {
    return await Promise.race([read(), stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Reads error_code / error_msg from the usual OMS, API Gateway and IAM error bodies; tolerates anything else. */
async function httpErrorFrom(response: Response, method: string, path: string, attempts: number, url: string): Promise<HttpError> {
  const text = await response.text().catch(() => ''); // read and bounded in afterResponse
  let errorCode: string | undefined;
  let errorMsg: string | undefined;
  let bodyRequestId: string | undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const nested = (typeof body.error === 'object' && body.error !== null ? body.error : {}) as Record<string, unknown>;
    errorCode = str(body.error_code) ?? str(nested.code);
    errorMsg = str(body.error_msg) ?? str(body.error_detail) ?? str(nested.message);
    bodyRequestId = str(body.request_id);
  } catch {
    errorMsg = text.trim() === '' ? undefined : 'the error answer was not JSON';
  }
  const requestId = response.headers.get('x-request-id') ?? bodyRequestId;
  const redirectHost = response.status >= 300 && response.status < 400 ? locationHost(response.headers.get('location'), url) : undefined;
  if (redirectHost !== undefined) errorMsg = `redirected to ${redirectHost}; redirects are never followed`;
  return new HttpError({
    status: response.status,
    ...(errorCode ? { errorCode } : {}),
    ...(errorMsg ? { errorMsg } : {}),
    ...(redirectHost !== undefined ? { redirectHost } : {}),
    ...(requestId ? { requestId } : {}),
    method,
    path,
    attempts,
  });
}

/** The host a redirect names (resolved against the request URL), printable; '(none)' without a Location. */
function locationHost(location: string | null, url: string): string {
  if (location === null || location.trim() === '') return '(none)';
  try {
    return str(new URL(location, url).host) ?? '(none)';
  } catch {
    return '(unreadable Location)';
  }
}

/** A short printable string, or undefined. Server text goes into logs, so it is bounded and control-free. */
function str(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return text === '' ? undefined : text.slice(0, 500);
}
