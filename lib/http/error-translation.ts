/** What a caller sees of a failed request: ky's errors and raw answers turned into HttpError and TransportError. */
import { HTTPError, isHTTPError, isTimeoutError } from 'ky';
import { types } from 'node:util';
import { BadAnswer } from './body.js';
import { HttpError, TransportError } from './errors.js';
import { isNetworkError } from './retry-policy.js';

export function failureReason(error: Error): string {
  if (isHTTPError(error)) return `http-${error.response.status}`;
  if (isTimeoutError(error)) return 'timeout';
  if (error instanceof BadAnswer) return error.kind;
  return 'connection';
}

/**
 * The error a caller sees. Transport failures keep only a summary of what happened as their cause: ky's errors
 * carry the Request, whose headers hold the token or the signature.
 */
export async function toFinalError(error: unknown, method: string, path: string, attempts: number, url: string): Promise<unknown> {
  if (error instanceof HTTPError) return httpErrorFrom(error.response, method, path, attempts, url);
  if (isTimeoutError(error)) return new TransportError('timeout', method, path, { cause: summary(error) });
  if (error instanceof BadAnswer) return new TransportError(error.kind, method, path, { cause: new Error(error.detail) });
  const original = error instanceof Error && error.name === 'NonError' ? (error as Error & { value: unknown }).value : error;
  if (isNetworkError(original)) return new TransportError('connection', method, path, { cause: summary(original) });
  return error; // Ours (an AuthError from authorize): already final.
}

/** name and message of an error and of its causes, nothing else. */
export function summary(error: unknown, depth = 0): Error | undefined {
  if (!types.isNativeError(error) || depth > 3) return undefined;
  const cause = summary(error.cause, depth + 1);
  const out = new Error(error.message, cause ? { cause } : undefined);
  out.name = error.name;
  return out;
}

/** Reads error_code / error_msg from the usual OMS, API Gateway and IAM error bodies; tolerates anything else. */
export async function httpErrorFrom(response: Response, method: string, path: string, attempts: number, url: string): Promise<HttpError> {
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
export function locationHost(location: string | null, url: string): string {
  if (location === null || location.trim() === '') return '(none)';
  try {
    return str(new URL(location, url).host) ?? '(none)';
  } catch {
    return '(unreadable Location)';
  }
}

/** A short printable string, or undefined. Server text goes into logs, so it is bounded and control-free. */
export function str(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return text === '' ? undefined : text.slice(0, 500);
}
