import ky, { HTTPError, isForceRetryError, isHTTPError, isTimeoutError, type KyInstance } from 'ky';
import { types } from 'node:util';
import { HttpError, TransportError, type TransportFailure } from './errors.js';
import type { RateBudget } from './rate-budget.js';
import { DEFAULT_RETRY_POLICY, isNetworkError, kyRetryOptions, type RetryPolicy } from './retry-policy.js';
import type { Http, HttpRequest, HttpResponse } from './types.js';

export interface HttpOptions {
  /** Default DEFAULT_RETRY_POLICY. */
  retry?: RetryPolicy;
  /** Shared by every attempt of every request made through this instance; default none. */
  rateBudget?: RateBudget;
  /** Told about every attempt that will be retried (status or failure kind), for metrics and debug logs. */
  onRetry?: (event: { method: string; path: string; retry: number; status?: number; reason: string }) => void;
  /** For tests: another fetch. */
  fetch?: typeof fetch;
}

const MAX_ERROR_BODY = 8192;

/**
 * The retrying HTTP wrapper: ky does the attempts (see retry-policy.ts); this layer adds the rate budget and
 * authentication on every attempt, one re-authentication after a 401, and turns failures into HttpError /
 * TransportError with what the logs need. It knows nothing about OMS.
 */
export function createHttp(options: HttpOptions = {}): Http {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const base = ky.create({
    retry: kyRetryOptions(policy),
    timeout: policy.attemptTimeoutMs,
    throwHttpErrors: true,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    async request(request) {
      try {
        return await attempt(base, request, options, policy.attemptTimeoutMs);
      } catch (error) {
        // A 401 gets exactly one more try, and only when the credentials could be renewed (IAM password tokens).
        if (error instanceof HttpError && error.status === 401 && request.auth) {
          if (await request.auth.refresh(request.projectId ?? '', error.errorCode)) {
            return attempt(base, request, options, policy.attemptTimeoutMs);
          }
        }
        throw error;
      }
    },
  };
}

async function attempt(client: KyInstance, request: HttpRequest, options: HttpOptions, bodyTimeoutMs: number): Promise<HttpResponse> {
  const path = new URL(request.url).pathname;
  let attempts = 0;
  try {
    const response = await client(request.url, {
      method: request.method,
      ...(request.searchParams ? { searchParams: request.searchParams } : {}),
      ...(request.json === undefined ? {} : { json: request.json }),
      headers: { Accept: 'application/json', ...request.headers },
      ...(request.signal ? { signal: request.signal } : {}),
      hooks: {
        beforeRequest: [
          async (req) => {
            attempts += 1;
            if (options.rateBudget) await options.rateBudget();
            if (request.auth) await request.auth.authorize(req, request.projectId ?? '');
          },
        ],
        afterResponse: [
          // The body is read here, inside ky's attempt loop, so that a body that stalls or is cut off is retried
          // like any other failed attempt (ky's own timeout ends when the headers arrive).
          async (_req, _opts, res) => {
            request.auth?.answered?.(res.status);
            if (!res.ok) return undefined; // HTTPError; its body is read (bounded) in httpErrorFrom
            // A 2xx HTML page (a proxy's error page) is not an answer: try again like a 502.
            if (/html/i.test(res.headers.get('content-type') ?? '')) return ky.retry({ code: 'NOT_JSON' });
            try {
              const body = await readBody(res, bodyTimeoutMs);
              return new Response(body === '' ? null : body, { status: res.status, statusText: res.statusText, headers: res.headers });
            } catch (error) {
              return ky.retry({ code: error instanceof BodyTimeout ? 'BODY_TIMEOUT' : 'BODY_CUT' });
            }
          },
        ],
        beforeRetry: [
          async ({ error, retryCount }) => {
            // The retried answer's body is never read: cancel it, or aborting a later attempt (a timeout) reaches
            // this stale body and undici throws the AbortError where nothing can catch it.
            if (isHTTPError(error)) await error.response.body?.cancel().catch(() => undefined);
            const status = isHTTPError(error) ? error.response.status : undefined;
            if (status === undefined && !isForceRetryError(error)) request.auth?.answered?.(undefined);
            options.onRetry?.({ method: request.method, path, retry: retryCount, status, reason: failureReason(error) });
          },
        ],
      },
    });
    const body = await response.text(); // already in memory (see afterResponse)
    const requestId = response.headers.get('x-request-id') ?? undefined;
    return { status: response.status, headers: response.headers, body, ...(requestId ? { requestId } : {}) };
  } catch (error) {
    const final = await toFinalError(error, request.method, path, attempts, bodyTimeoutMs);
    if (final instanceof TransportError && final.kind !== 'invalid-response') request.auth?.answered?.(undefined);
    throw final;
  }
}

const FORCED_RETRY_KIND: Record<string, TransportFailure> = { NOT_JSON: 'invalid-response', BODY_TIMEOUT: 'timeout', BODY_CUT: 'connection' };

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
async function toFinalError(error: unknown, method: string, path: string, attempts: number, bodyTimeoutMs: number): Promise<unknown> {
  if (error instanceof HTTPError) return httpErrorFrom(error.response, method, path, attempts, bodyTimeoutMs);
  if (isTimeoutError(error)) return new TransportError('timeout', method, path, { cause: summary(error) });
  if (isForceRetryError(error)) return new TransportError(FORCED_RETRY_KIND[error.code ?? ''] ?? 'invalid-response', method, path);
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

/**
 * The whole body as text within `timeoutMs`: a server that sends headers and then stalls must not hold a slot
 * forever. On a timeout the stream is cancelled, which releases the connection.
 */
async function readBody(response: Response, timeoutMs: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reader.cancel().catch(() => undefined);
      reject(new BodyTimeout(`no complete body within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const read = async (): Promise<string> => {
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
  };
  try {
    return await Promise.race([read(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads error_code / error_msg from the usual OMS, API Gateway and IAM error bodies; tolerates anything else. */
async function httpErrorFrom(response: Response, method: string, path: string, attempts: number, bodyTimeoutMs: number): Promise<HttpError> {
  const text = (await readBody(response, bodyTimeoutMs).catch(() => '')).slice(0, MAX_ERROR_BODY);
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
  return new HttpError({
    status: response.status,
    ...(errorCode ? { errorCode } : {}),
    ...(errorMsg ? { errorMsg } : {}),
    ...(requestId ? { requestId } : {}),
    method,
    path,
    attempts,
  });
}

/** A short printable string, or undefined. Server text goes into logs, so it is bounded and control-free. */
function str(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return text === '' ? undefined : text.slice(0, 500);
}
