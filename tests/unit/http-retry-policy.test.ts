import { backoffDelayMs, isNetworkError, kyRetryOptions, RETRY_STATUS_CODES, type RetryPolicy } from '../../lib/http/retry-policy.js';

const POLICY: RetryPolicy = { attempts: 4, attemptTimeoutMs: 300, baseDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 1500 };

describe('backoffDelayMs', () => {
  it('starts at baseDelayMs and doubles per retry', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, POLICY))).toEqual([20, 40, 80, 160]);
  });

  it('caps at maxDelayMs, also for very large retry numbers', () => {
    expect([5, 6, 10, 64, 1000].map((n) => backoffDelayMs(n, POLICY))).toEqual([200, 200, 200, 200, 200]);
    expect(backoffDelayMs(3, { baseDelayMs: 500, maxDelayMs: 1200 })).toBe(1200);
  });
});

describe('kyRetryOptions', () => {
  const options = kyRetryOptions(POLICY);

  it('maps attempts (first one included) to ky retries', () => {
    expect(options.limit).toBe(3);
    expect(kyRetryOptions({ ...POLICY, attempts: 1 }).limit).toBe(0);
  });

  it('retries every method the client uses, POST included', () => {
    const methods = (options.methods ?? []).map((m) => m.toLowerCase());
    for (const method of ['get', 'put', 'delete', 'post']) expect(methods).toContain(method);
  });

  it('retries 429 and every 5xx, never 400/401/403/404, and honours Retry-After on the same set', () => {
    const codes = options.statusCodes ?? [];
    for (const status of [429, 500, 501, 502, 503, 504, 599]) expect(codes).toContain(status);
    for (const status of [400, 401, 403, 404, 200, 204]) expect(codes).not.toContain(status);
    expect(RETRY_STATUS_CODES).toEqual(codes);
    const after = options.afterStatusCodes ?? [];
    for (const status of [429, 500, 503, 504]) expect(after).toContain(status);
    for (const status of [400, 401, 403, 404]) expect(after).not.toContain(status);
  });

  it('uses full jitter on our backoff, caps it and Retry-After, and retries timeouts', () => {
    expect(options.jitter).toBe(true);
    expect(options.retryOnTimeout).toBe(true);
    expect(options.backoffLimit).toBe(200);
    expect(options.maxRetryAfter).toBe(1500);
    expect(typeof options.delay).toBe('function');
    expect([1, 2, 3, 5].map((n) => options.delay!(n))).toEqual([20, 40, 80, 200]);
  });

  it('shouldRetry: timeouts yes, network errors and HTTP errors by ky default, anything else never', async () => {
    const shouldRetry = options.shouldRetry!;
    const timeout = Object.assign(new Error('Request timed out'), { name: 'TimeoutError' });
    const network = new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    const http = Object.assign(new Error('Request failed with status code 503'), { name: 'HTTPError' });
    const ours = Object.assign(new Error('IAM said no'), { name: 'AuthError' });
    expect(await shouldRetry({ error: timeout, retryCount: 1 })).toBe(true);
    expect(await shouldRetry({ error: network, retryCount: 1 })).toBeUndefined();
    expect(await shouldRetry({ error: http, retryCount: 1 })).toBeUndefined();
    expect(await shouldRetry({ error: ours, retryCount: 1 })).toBe(false);
    expect(await shouldRetry({ error: new RangeError('bad'), retryCount: 1 })).toBe(false);
  });
});

describe('isNetworkError', () => {
  it('recognises undici\'s TypeError("fetch failed") with the socket error as cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(isNetworkError(new TypeError('fetch failed', { cause }))).toBe(true);
  });

  it('recognises a real one from fetch', async () => {
    const error = await fetch('http://127.0.0.1:1/').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isNetworkError(error)).toBe(true);
  });

  it('rejects other errors and non-errors', () => {
    expect(isNetworkError(new Error('fetch failed'))).toBe(false);
    expect(isNetworkError(new RangeError('fetch failed'))).toBe(false);
    expect(isNetworkError(new TypeError('x is not a function'))).toBe(false);
    expect(isNetworkError(Object.assign(new Error('Request timed out'), { name: 'TimeoutError' }))).toBe(false);
    expect(isNetworkError('fetch failed')).toBe(false);
    expect(isNetworkError({ name: 'TypeError', message: 'fetch failed', cause: new Error('x') })).toBe(false);
    expect(isNetworkError(undefined)).toBe(false);
    expect(isNetworkError(null)).toBe(false);
  });
});
