import { types } from 'node:util';
import type { RetryOptions } from 'ky';

/** The one retry policy of the project: used for OMS and IAM calls alike. */
export interface RetryPolicy {
  /** Attempts per request, first one included. Default 6. */
  attempts: number;
  /** Timeout of each attempt. Default 15000 ms. */
  attemptTimeoutMs: number;
  /** Backoff of the first retry before jitter; doubles per retry. Default 500 ms. */
  baseDelayMs: number;
  /** Upper bound of one backoff before jitter. Default 20000 ms. */
  maxDelayMs: number;
  /** Upper bound of a wait asked for by Retry-After. Default 30000 ms. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 6,
  attemptTimeoutMs: 15_000,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 30_000,
};

/**
 * 429 and every 5xx are worth another attempt (the HTTP wrapper retries them); 3xx, 400, 401, 403 and 404 never are
 * (the answer will not change).
 */
const RETRY_STATUS: ReadonlySet<number> = new Set([429, ...Array.from({ length: 100 }, (_, i) => 500 + i)]);

/** Whether an answer with this status is worth another attempt (RETRY_STATUS). */
export function isRetryStatus(status: number): boolean {
  return RETRY_STATUS.has(status);
}

/**
 * Exponential backoff before jitter for the n-th retry (1-based): base, 2·base, 4·base, … capped at maxDelayMs.
 */
export function backoffDelayMs(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  const exponent = Math.max(0, retry - 1);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 30));
}

/**
 * A Retry-After header as milliseconds from `nowMs`: delay-seconds or an HTTP date. undefined when absent or
 * unreadable; zero or negative values (a past date, `0`, `-5`) are returned as they are and ignored by retryDelayMs.
 */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : date - nowMs;
}

/**
 * The wait before the n-th retry: the larger of our backoff with full jitter (a uniform draw in [0, backoff)) and a
 * positive Retry-After capped at maxRetryAfterMs. The server's wait is a floor, never a way around the backoff: a
 * throttling storm that answers `Retry-After: 0` (or a past date) still meets exponential backoff.
 */
export function retryDelayMs(
  retry: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs'>,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const backoff = random() * backoffDelayMs(retry, policy);
  const asked = retryAfterMs !== undefined && retryAfterMs > 0 ? Math.min(retryAfterMs, policy.maxRetryAfterMs) : 0;
  return Math.max(backoff, asked);
}

/**
 * The policy as ky retry options. ky runs the loop: the attempt limit, the per-attempt timeout, and which failures
 * are retried (429 and 5xx answers, timeouts, connection errors, and the bad 2xx answers the wrapper reports as
 * BadAnswer). ky's own wait is 0: the wrapper waits in its beforeRetry hook (retryDelayMs), because ky lets
 * `Retry-After: 0` remove all backoff. Anything else thrown while preparing an attempt (an IAM failure while
 * authorizing) is final.
 *
 * `shouldRetry` decides every case with true or false, so ky never reaches its own rules (statusCodes,
 * afterStatusCodes and its Retry-After reading, retryOnTimeout, jitter), and those options are left out: ky merges
 * and normalises every retry option it is given for every request.
 */
export function kyRetryOptions(policy: RetryPolicy): RetryOptions {
  return {
    limit: policy.attempts - 1,
    methods: ['get', 'put', 'head', 'delete', 'options', 'post'],
    delay: () => 0,
    shouldRetry: ({ error }) => {
      if (error.name === 'HTTPError') return isRetryStatus((error as Error & { response: Response }).response.status);
      // ky wraps what does not look like an Error of its own realm in a NonError; judge the original.
      const original = error.name === 'NonError' ? (error as Error & { value: unknown }).value : error;
      return isNetworkError(original) || error.name === 'TimeoutError' || error.name === 'BadAnswer';
    },
  };
}

/**
 * undici's fetch rejects with a TypeError("fetch failed") whose cause is the socket error. Checked by name, not
 * instanceof: the error comes from Node's own realm, which is not the caller's under a VM (jest) or a bundler shim.
 */
export function isNetworkError(error: unknown): boolean {
  return types.isNativeError(error) && error.name === 'TypeError' && (error.message === 'fetch failed' || types.isNativeError(error.cause));
}
