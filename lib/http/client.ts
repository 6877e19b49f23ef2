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
 * TransportError with what the logs need. It knows nothing about OMS.
 */
export function createHttp(options: HttpOptions = {}): Http {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const limits: AttemptLimits = { policy, retry: kyRetryOptions(policy), maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES };
  const base = ky.create({
    retry: limits.retry,
    timeout: policy.attemptTimeoutMs,
    throwHttpErrors: true,
    // Never follow a redirect: fetch would re-send X-Auth-Token, X-Security-Token and an IAM password body to
    // whatever host the Location names, and count a redirected DELETE's 200 as our delete. A 3xx is a final answer.
    redirect: 'manual',
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    async request(request) {
      try {
        return await attempt(base, request, options, limits);
      } catch (error) {
        // A 401 gets exactly one more try, and only when the credentials could be renewed (IAM password tokens).
        if (error instanceof HttpError && error.status === 401 && request.auth) {
          if (await request.auth.refresh(request.projectId ?? '', error.errorCode, request.signal)) {
            return attempt(base, request, options, limits);
          }
        }
        throw error;
      }
    },
  };
}

interface AttemptLimits {
  policy: RetryPolicy;
  /** ky's retry options for the policy, built once; each request adds its own `delay` (see attempt). */
  retry: ReturnType<typeof kyRetryOptions>;
  maxBodyBytes: number;
}

async function attempt(client: KyInstance, request: HttpRequest, options: HttpOptions, limits: AttemptLimits): Promise<HttpResponse> {
  const path = new URL(request.url).pathname;
  const bodyTimeoutMs = limits.policy.attemptTimeoutMs;
  const startedMs = performance.now();
  let attempts = 0;
  // The Retry-After of this request's last retryable answer: a floor for the next wait (retry-policy.ts).
  let retryAfterMs: number | undefined;
  // Whether the last attempt got past authorize(): one that was still waiting there (behind the AK/SK probe) when
  // it ended sent nothing, so it must not report "no answer" to the authenticator as if it had been the probe.
  let authorized = false;
  // The 2xx body as read in afterResponse: handed over as it is, not re-wrapped in a Response and decoded again.
  let bodyText = '';
  const maxBodyBytes = request.maxBodyBytes ?? limits.maxBodyBytes;
  try {
    const response = await client(request.url, {
      method: request.method,
      ...(request.searchParams ? { searchParams: request.searchParams } : {}),
      ...(request.json === undefined ? {} : { json: request.json }),
      headers: { Accept: 'application/json', ...request.headers },
      ...(request.signal ? { signal: request.signal } : {}),
      retry: { ...limits.retry, delay: (retry: number) => retryDelayMs(retry, limits.policy, retryAfterMs) },
      hooks: {
        beforeRequest: [
          async (req) => {
            attempts += 1;
            retryAfterMs = undefined;
            authorized = false;
            if (options.rateBudget) await options.rateBudget();
            if (request.auth) await request.auth.authorize(req, request.projectId ?? '', request.signal);
            authorized = true;
          },
        ],
        afterResponse: [
          // The body is read here, inside ky's attempt loop, so that a body that stalls or is cut off is retried
          // like any other failed attempt (ky's own timeout ends when the headers arrive).
          async (_req, _opts, res) => {
            request.auth?.answered?.(res.status);
            if (!res.ok) {
              if (RETRY_STATUS.has(res.status)) retryAfterMs = parseRetryAfterMs(res.headers.get('retry-after'), Date.now());
              // The error body's start (all that is wanted of it) is read now and the rest cancelled, and ky's
              // HTTPError gets an answer whose body is already in memory: no stream is left open behind a retry
              // wait, where a deadline that fires would error it with nobody to catch it (a crash in Lambda).
              const text = await readBody(res, bodyTimeoutMs, MAX_ERROR_BODY_BYTES, true, request.signal).catch(() => '');
              return new Response(NULL_BODY_STATUS.has(res.status) ? null : text, { status: res.status, statusText: res.statusText, headers: res.headers });
            }
            const html = /html/i.test(res.headers.get('content-type') ?? '');
            if (request.discardBody) {
              // A delete or a pause is never repeated because of its body. OMS answers them with an empty 200; an
              // HTML page in its place (a proxy's) says the request may not have reached OMS: a failure, not a success.
              if (html) throw new TransportError('invalid-response', request.method, path);
              return new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers });
            }
            // A 2xx HTML page (a proxy's error page) is not an answer: try again like a 502.
            if (html) return ky.retry({ code: 'NOT_JSON' });
            try {
              bodyText = await readBody(res, bodyTimeoutMs, maxBodyBytes, false, request.signal);
              return new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers });
            } catch (error) {
              return ky.retry({ code: error instanceof BodyTimeout ? 'BODY_TIMEOUT' : error instanceof BodyTooLarge ? 'BODY_TOO_LARGE' : 'BODY_CUT' });
            }
          },
        ],
        beforeRetry: [
          async ({ error, retryCount }) => {
            const status = isHTTPError(error) ? error.response.status : undefined;
            if (status === undefined && !isForceRetryError(error)) request.auth?.answered?.(undefined);
            options.onRetry?.({ method: request.method, path, retry: retryCount, status, reason: failureReason(error) });
          },
        ],
      },
    });
    const body = bodyText;
    const requestId = response.headers.get('x-request-id') ?? undefined;
    options.onDone?.({ method: request.method, path, status: response.status, attempts, ms: performance.now() - startedMs });
    return { status: response.status, headers: response.headers, body, ...(requestId ? { requestId } : {}) };
  } catch (error) {
    const final = await toFinalError(error, request.method, path, attempts, request.url);
    if (final instanceof TransportError && final.kind !== 'invalid-response' && authorized) request.auth?.answered?.(undefined);
    options.onDone?.({
      method: request.method,
      path,
      ...(final instanceof HttpError ? { status: final.status } : { failure: final instanceof TransportError ? final.kind : 'error' }),
      attempts,
      ms: performance.now() - startedMs,
    });
    throw final;
  }
}

const FORCED_RETRY_KIND: Record<string, TransportFailure> = {
  NOT_JSON: 'invalid-response',
  BODY_TOO_LARGE: 'invalid-response',
  BODY_TIMEOUT: 'timeout',
  BODY_CUT: 'connection',
};
const FORCED_RETRY_DETAIL: Record<string, string> = { BODY_TOO_LARGE: 'the body was longer than the limit' };

function failureReason(error: Error): string {
  if (isHTTPError(error)) return `http-${error.response.status}`;
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
