import ky, { HTTPError, isForceRetryError, isHTTPError, isTimeoutError, type KyInstance } from 'ky';
import { HttpError, TransportError } from './errors.js';
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
        return await attempt(base, request, options);
      } catch (error) {
        // A 401 gets exactly one more try, and only when the credentials could be renewed (IAM password tokens).
        if (error instanceof HttpError && error.status === 401 && request.auth) {
          if (await request.auth.refresh(request.projectId ?? '', error.errorCode)) {
            return attempt(base, request, options);
          }
        }
        throw error;
      }
    },
  };
}

async function attempt(client: KyInstance, request: HttpRequest, options: HttpOptions): Promise<HttpResponse> {
  const path = new URL(request.url).pathname;
  let attempts = 0;
  try {
    const response = await client(request.url, {
      method: request.method,
      ...(request.searchParams ? { searchParams: request.searchParams } : {}),
      ...(request.json === undefined ? {} : { json: request.json }),
      headers: { Accept: 'application/json', ...request.headers },
      hooks: {
        beforeRequest: [
          async (req) => {
            attempts += 1;
            if (options.rateBudget) await options.rateBudget();
            if (request.auth) await request.auth.authorize(req, request.projectId ?? '');
          },
        ],
        afterResponse: [
          // A 2xx HTML page (a proxy's error page) is not an answer: try again like a 502.
          (_req, _opts, res) => {
            request.auth?.answered?.(res.status);
            const type = res.headers.get('content-type') ?? '';
            if (res.ok && /html/i.test(type)) return ky.retry({ code: 'NOT_JSON' });
            return undefined;
          },
        ],
        beforeRetry: [
          ({ error, retryCount }) => {
            const status = isHTTPError(error) ? error.response.status : undefined;
            if (status === undefined && !isForceRetryError(error)) request.auth?.answered?.(undefined);
            options.onRetry?.({ method: request.method, path, retry: retryCount, status, reason: failureReason(error) });
          },
        ],
      },
    });
    const body = await response.text().catch((cause: unknown) => {
      throw new TransportError('connection', request.method, path, { cause });
    });
    const requestId = response.headers.get('x-request-id') ?? undefined;
    return { status: response.status, headers: response.headers, body, ...(requestId ? { requestId } : {}) };
  } catch (error) {
    const final = await toFinalError(error, request.method, path, attempts);
    if (final instanceof TransportError && final.kind !== 'invalid-response') request.auth?.answered?.(undefined);
    throw final;
  }
}

function failureReason(error: Error): string {
  if (isHTTPError(error)) return `http-${error.response.status}`;
  if (isTimeoutError(error)) return 'timeout';
  if (isForceRetryError(error)) return 'invalid-response';
  return 'connection';
}

async function toFinalError(error: unknown, method: string, path: string, attempts: number): Promise<unknown> {
  if (error instanceof HTTPError) return httpErrorFrom(error.response, method, path, attempts);
  if (isTimeoutError(error)) return new TransportError('timeout', method, path, { cause: error });
  if (isForceRetryError(error)) return new TransportError('invalid-response', method, path, { cause: error });
  const original = error instanceof Error && error.name === 'NonError' ? (error as Error & { value: unknown }).value : error;
  if (isNetworkError(original)) return new TransportError('connection', method, path, { cause: original });
  return error; // Ours (an AuthError from authorize) or a TransportError from reading the body: already final.
}

/** Reads error_code / error_msg from the usual OMS, API Gateway and IAM error bodies; tolerates anything else. */
async function httpErrorFrom(response: Response, method: string, path: string, attempts: number): Promise<HttpError> {
  const text = (await response.text().catch(() => '')).slice(0, MAX_ERROR_BODY);
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
