import { backoffDelayMs, isNetworkError, isRetryStatus, kyRetryOptions, parseRetryAfterMs, retryDelayMs, type RetryPolicy } from '../../lib/http/retry-policy.js';

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

  const httpError = (status: number) => Object.assign(new Error(`Request failed with status code ${status}`), { name: 'HTTPError', response: new Response(null, { status }) });

  it('retries 429 and every 5xx, never 3xx/400/401/403/404', async () => {
    const shouldRetry = options.shouldRetry!;
    for (const status of [429, 500, 501, 502, 503, 504, 599]) expect(await shouldRetry({ error: httpError(status), retryCount: 1 })).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 413, 200, 204, 301, 302, 307, 308]) expect(await shouldRetry({ error: httpError(status), retryCount: 1 })).toBe(false);
    for (const status of [429, 500, 599]) expect(isRetryStatus(status)).toBe(true);
    for (const status of [200, 308, 400, 403, 428, 430, 499, 600]) expect(isRetryStatus(status)).toBe(false);
  });

  it('waits nothing itself (the wrapper waits retryDelayMs in its beforeRetry hook)', () => {
    expect(options.delay!(1)).toBe(0);
    expect(options.delay!(5)).toBe(0);
  });

  it('leaves ky none of its own rules: shouldRetry answers every case (no Retry-After reading, no jitter of its own)', () => {
    // ky reaches statusCodes, afterStatusCodes (its Retry-After reading), retryOnTimeout and jitter only when
    // shouldRetry answers neither true nor false; their defaults would then apply.
    expect(Object.keys(options).sort()).toEqual(['delay', 'limit', 'methods', 'shouldRetry']);
  });

  it('shouldRetry: timeouts, network errors and bad answers yes, anything else never', async () => {
    const shouldRetry = options.shouldRetry!;
    const timeout = Object.assign(new Error('Request timed out'), { name: 'TimeoutError' });
    const network = new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    const ours = Object.assign(new Error('IAM said no'), { name: 'AuthError' });
    expect(await shouldRetry({ error: timeout, retryCount: 1 })).toBe(true);
    expect(await shouldRetry({ error: network, retryCount: 1 })).toBe(true);
    const wrapped = Object.assign(new Error('Non-error thrown'), { name: 'NonError', value: network });
    expect(await shouldRetry({ error: wrapped, retryCount: 1 })).toBe(true);
    expect(await shouldRetry({ error: ours, retryCount: 1 })).toBe(false);
    const badAnswer = Object.assign(new Error('the answer was an HTML page'), { name: 'BadAnswer' });
    expect(await shouldRetry({ error: badAnswer, retryCount: 1 })).toBe(true);
    expect(await shouldRetry({ error: new RangeError('bad'), retryCount: 1 })).toBe(false);
    expect(await shouldRetry({ error: new TypeError('x is not a function'), retryCount: 1 })).toBe(false);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  it('reads delay-seconds and HTTP dates, relative to now', () => {
    expect(parseRetryAfterMs('3', now)).toBe(3000);
    expect(parseRetryAfterMs(' 1.5 ', now)).toBe(1500);
    expect(parseRetryAfterMs('Mon, 30 Nov 2026 12:00:04 GMT', now)).toBe(4000);
  });
  it('returns zero and negative waits as they are (retryDelayMs ignores them), undefined for nothing usable', () => {
    expect(parseRetryAfterMs('0', now)).toBe(0);
    expect(parseRetryAfterMs('-5', now)).toBe(-5000);
    expect(parseRetryAfterMs('Mon, 30 Nov 2026 11:00:00 GMT', now)).toBe(-3_600_000);
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  const half = () => 0.5;
  it('is the full-jitter backoff when the server asks for nothing, or for zero, a negative or a past wait', () => {
    for (const asked of [undefined, 0, -5000, -3_600_000]) {
      expect(retryDelayMs(1, POLICY, asked, half)).toBe(10);
      expect(retryDelayMs(3, POLICY, asked, half)).toBe(40);
      expect(retryDelayMs(9, POLICY, asked, half)).toBe(100); // backoff capped at maxDelayMs, then jittered
    }
  });
  it('waits the larger of the jittered backoff and a positive Retry-After, which is capped at maxRetryAfterMs', () => {
    expect(retryDelayMs(1, POLICY, 1000, half)).toBe(1000);
    expect(retryDelayMs(1, POLICY, 1, half)).toBe(10); // a 1 ms Retry-After does not shorten our backoff
    expect(retryDelayMs(1, POLICY, 60_000, half)).toBe(1500);
    expect(retryDelayMs(10, { ...POLICY, maxDelayMs: 10_000 }, 200, () => 0.9)).toBe(9000);
  });
  it('full jitter: a draw in [0, backoff)', () => {
    expect(retryDelayMs(2, POLICY, undefined, () => 0)).toBe(0);
    expect(retryDelayMs(2, POLICY, undefined, () => 0.999)).toBeCloseTo(39.96);
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
