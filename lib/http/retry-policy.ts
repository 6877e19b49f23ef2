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

/** 429 and every 5xx are worth another attempt; 400, 401, 403 and 404 never are (the answer will not change). */
export const RETRY_STATUS_CODES: readonly number[] = [429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

/**
 * Exponential backoff before jitter for the n-th retry (1-based): base, 2·base, 4·base, … capped at maxDelayMs.
 * ky applies full jitter on top (a uniform draw in [0, this)), except when the server sent Retry-After:
 * the server knows its own load, so its wait wins over our guess.
 */
export function backoffDelayMs(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  const exponent = Math.max(0, retry - 1);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 30));
}

/**
 * The policy as ky retry options. ky runs the loop: per-attempt timeout, full jitter on our backoff, and Retry-After
 * (seconds, HTTP date) on 429/5xx capped at maxRetryAfterMs. Only network failures and timeouts are retried among
 * non-HTTP errors: anything else thrown while preparing an attempt (an IAM failure while authorizing) is final.
 */
export function kyRetryOptions(policy: RetryPolicy): RetryOptions {
  return {
    limit: policy.attempts - 1,
    methods: ['get', 'put', 'head', 'delete', 'options', 'post'],
    statusCodes: [...RETRY_STATUS_CODES],
    afterStatusCodes: [...RETRY_STATUS_CODES],
    maxRetryAfter: policy.maxRetryAfterMs,
    backoffLimit: policy.maxDelayMs,
    delay: (retry) => backoffDelayMs(retry, policy),
    jitter: true,
    retryOnTimeout: true,
    shouldRetry: ({ error }) => {
      // ky wraps what does not look like an Error of its own realm in a NonError; judge the original.
      const original = error.name === 'NonError' ? (error as Error & { value: unknown }).value : error;
      if (error.name === 'HTTPError' || isNetworkError(original)) return undefined;
      return error.name === 'TimeoutError';
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
