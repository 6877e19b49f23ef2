import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { tokenAuthenticator, type Authenticator } from '../../lib/auth/types.js';
import { createHttp, type HttpOptions } from '../../lib/http/client.js';
import { HttpError, TransportError } from '../../lib/http/errors.js';
import { createRateBudget } from '../../lib/http/rate-budget.js';
import type { RetryPolicy } from '../../lib/http/retry-policy.js';
import type { HttpRequest } from '../../lib/http/types.js';
import { startScriptServer, type Reply, type ScriptServer } from '../helpers/script-server.js';

/** Short waits, same shape as production: 4 attempts, 300 ms each, backoff 20, 40, 80 ms before jitter. */
const POLICY: RetryPolicy = { attempts: 4, attemptTimeoutMs: 300, baseDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 1500 };
/** Request overhead on loopback on top of a wait (timers, undici, the hooks). */
// Generous: upper bounds only need to tell "waited as asked" from "waited twice as long" on a loaded CI machine.
const SLACK = 150;

const OK: Reply = { status: 200, body: { ok: true } };
const omsError = (status: number, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'X-Request-Id': `req-${status}`, ...headers },
  body: { error_code: `OMS.${status}`, error_msg: `answer ${status}` },
});

let server: ScriptServer;
beforeEach(async () => {
  server = await startScriptServer();
});
afterEach(async () => {
  await server.close();
});

function http(options: HttpOptions = {}) {
  return createHttp({ retry: POLICY, ...options });
}

function get(path = '/v2/p/tasks', extra: Partial<HttpRequest> = {}): HttpRequest {
  return { method: 'GET', url: `${server.url}${path}`, ...extra };
}

/** The settled error of a promise that must reject. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/** An authenticator that counts its calls and sends a new header value per attempt. */
function countingAuth(refreshAnswer: boolean) {
  const calls = { authorize: 0, refresh: 0, refreshCodes: [] as (string | undefined)[] };
  const auth: Authenticator = {
    kind: 'password',
    async authorize(request, projectId) {
      calls.authorize += 1;
      request.headers.set('X-Auth-Token', `tok-${calls.authorize}`);
      request.headers.set('X-Project-Id', projectId);
    },
    async refresh(_projectId, errorCode) {
      calls.refresh += 1;
      calls.refreshCodes.push(errorCode);
      return refreshAnswer;
    },
  };
  return { auth, calls };
}

describe('Retry-After', () => {
  // Run side by side (one server each) to keep the file fast; each scenario is named in its assertion.
  it('honours Retry-After in seconds (429, 503) and as an HTTP date, caps it at maxRetryAfterMs, without jitter', async () => {
    const scenarios: { name: string; first: () => Reply; min: number; max: number }[] = [
      { name: '429 Retry-After: 1', first: () => omsError(429, { 'Retry-After': '1' }), min: 950, max: 1000 + 2 * SLACK },
      { name: '503 Retry-After: 1', first: () => omsError(503, { 'Retry-After': '1' }), min: 950, max: 1000 + 2 * SLACK },
      // The date has 1 s resolution: 2 s ahead, truncated, is between 1 and 2 s ahead of the answer.
      { name: '429 Retry-After: <date +2 s>', first: () => omsError(429, { 'Retry-After': new Date(Date.now() + 2000).toUTCString() }), min: 900, max: 2000 + 2 * SLACK },
      { name: '429 Retry-After: 60 (capped)', first: () => omsError(429, { 'Retry-After': '60' }), min: POLICY.maxRetryAfterMs - 50, max: POLICY.maxRetryAfterMs + 2 * SLACK },
    ];
    const servers = await Promise.all(scenarios.map((sc) => startScriptServer((n) => (n === 0 ? sc.first() : OK))));
    try {
      const client = http();
      await Promise.all(servers.map((s) => client.request({ method: 'GET', url: `${s.url}/v2/p/tasks` })));
      const seen = scenarios.map((sc, i) => ({ name: sc.name, arrivals: servers[i]!.arrivals.length, gap: Math.round(servers[i]!.gaps()[0] ?? -1) }));
      for (const [i, sc] of scenarios.entries()) {
        const { gap, arrivals } = seen[i]!;
        expect({ name: sc.name, arrivals, inRange: gap >= sc.min && gap < sc.max, gap }).toEqual({ name: sc.name, arrivals: 2, inRange: true, gap });
      }
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it('without Retry-After waits a full-jitter backoff: between 0 and base·2^(n-1), capped', async () => {
    const policy: RetryPolicy = { ...POLICY, baseDelayMs: 100, maxDelayMs: 200 };
    const backoff = [100, 200, 200];
    // Three requests of four attempts each: 429, 429, 429, 200.
    server.reset((n) => (n % 4 < 3 ? omsError(429) : OK));
    const client = http({ retry: policy });
    for (let i = 0; i < 3; i += 1) await client.request(get());
    expect(server.arrivals).toHaveLength(12);
    const gaps = server.gaps();
    const retryGaps: { gap: number; limit: number }[] = [];
    for (let request = 0; request < 3; request += 1) {
      for (let retry = 0; retry < 3; retry += 1) retryGaps.push({ gap: gaps[request * 4 + retry]!, limit: backoff[retry]! });
    }
    for (const { gap, limit } of retryGaps) expect(gap).toBeLessThan(limit + SLACK);
    // Without jitter every gap would be at least its backoff; with a uniform draw, nine draws all in the top
    // quarter happen with probability 4^-9.
    expect(retryGaps.some(({ gap, limit }) => gap < 0.75 * limit)).toBe(true);
  });
});

describe('statuses', () => {
  it.each([400, 403, 404])('%i is sent exactly once and fails with HttpError', async (status) => {
    server.reset([omsError(status), OK]);
    const error = await failure(http().request(get()));
    expect(server.arrivals).toHaveLength(1);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status, errorCode: `OMS.${status}`, errorMsg: `answer ${status}`, requestId: `req-${status}`, attempts: 1 });
  });

  it('401 with credentials that cannot be renewed is sent exactly once', async () => {
    server.reset([{ ...omsError(401), body: { error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication information' } }, OK]);
    const { auth, calls } = countingAuth(false);
    const error = await failure(http().request(get('/v2/p/tasks', { auth, projectId: 'p' })));
    expect(server.arrivals).toHaveLength(1);
    expect(calls).toEqual({ authorize: 1, refresh: 1, refreshCodes: ['APIGW.0301'] });
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 401, errorCode: 'APIGW.0301', attempts: 1 });
  });

  it('401 with a static token is sent exactly once', async () => {
    server.reset([omsError(401), OK]);
    const error = await failure(http().request(get('/v2/p/tasks', { auth: tokenAuthenticator('static') })));
    expect(server.arrivals).toHaveLength(1);
    expect(error).toMatchObject({ name: 'HttpError', status: 401 });
  });

  it.each([500, 502, 503, 504, 429])('%i is retried up to `attempts`, then fails with the last answer', async (status) => {
    server.reset((n) => ({
      status,
      headers: { 'X-Request-Id': `req-${n}` },
      body: { error_code: `OMS.${status}`, error_msg: `answer ${n}` },
    }));
    const error = await failure(http().request(get()));
    expect(server.arrivals).toHaveLength(POLICY.attempts);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({
      status,
      errorCode: `OMS.${status}`,
      errorMsg: `answer ${POLICY.attempts - 1}`,
      requestId: `req-${POLICY.attempts - 1}`,
      attempts: POLICY.attempts,
      method: 'GET',
      path: '/v2/p/tasks',
    });
  });

  it('a POST is retried too, with its body on every attempt', async () => {
    const bodies: string[] = [];
    const { createServer } = await import('node:http');
    const raw = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(bodies.length < 3 ? 503 : 200, { 'Content-Type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const port = (raw.address() as { port: number }).port;
      const res = await http().request({ method: 'POST', url: `http://127.0.0.1:${port}/v2/p/tasks/1/stop`, json: { a: 1 } });
      expect(res.status).toBe(200);
      expect(bodies).toEqual(['{"a":1}', '{"a":1}', '{"a":1}']);
    } finally {
      raw.closeAllConnections();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('takes requestId from the body when X-Request-Id is missing, and tolerates a non-JSON error body', async () => {
    server.reset([{ status: 400, body: { error_code: 'OMS.1009', error_msg: 'gone', request_id: 'body-id' } }]);
    expect(await failure(http().request(get()))).toMatchObject({ status: 400, errorCode: 'OMS.1009', requestId: 'body-id' });
    server.reset([{ status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'not here' }]);
    const error = await failure(http().request(get()));
    expect(error).toMatchObject({ status: 404, errorCode: undefined, requestId: undefined });
  });
});

describe('authentication', () => {
  it('a 401 whose refresh() succeeds is retried exactly once, with authorize called again', async () => {
    server.reset([omsError(401), OK]);
    const { auth, calls } = countingAuth(true);
    const res = await http().request(get('/v2/p/tasks', { auth, projectId: 'p' }));
    expect(res.status).toBe(200);
    expect(server.arrivals.map((a) => a.headers['x-auth-token'])).toEqual(['tok-1', 'tok-2']);
    expect(calls).toMatchObject({ authorize: 2, refresh: 1 });
  });

  it('a second 401 after a successful refresh is final: no third request', async () => {
    server.reset([omsError(401)]);
    const { auth, calls } = countingAuth(true);
    const error = await failure(http().request(get('/v2/p/tasks', { auth, projectId: 'p' })));
    expect(server.arrivals).toHaveLength(2);
    expect(calls).toMatchObject({ authorize: 2, refresh: 1 });
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 401 });
  });

  it('authorize() runs on every attempt, retries included', async () => {
    server.reset([omsError(503), { reset: true }, omsError(500), OK]);
    const { auth, calls } = countingAuth(false);
    const res = await http().request(get('/v2/p/tasks', { auth, projectId: 'p' }));
    expect(res.status).toBe(200);
    expect(calls.authorize).toBe(4);
    expect(server.arrivals.map((a) => a.headers['x-auth-token'])).toEqual(['tok-1', 'tok-2', 'tok-3', 'tok-4']);
    expect(server.arrivals.every((a) => a.headers['x-project-id'] === 'p')).toBe(true);
  });

  it('an error thrown by authorize() is final and not retried', async () => {
    let calls = 0;
    const auth: Authenticator = {
      kind: 'password',
      async authorize() {
        calls += 1;
        throw Object.assign(new Error('IAM refused the password'), { name: 'AuthError' });
      },
      async refresh() {
        return false;
      },
    };
    const error = await failure(http().request(get('/v2/p/tasks', { auth })));
    expect(error).toMatchObject({ name: 'AuthError', message: 'IAM refused the password' });
    expect(calls).toBe(1);
    expect(server.arrivals).toHaveLength(0);
  });
});

describe('rate budget', () => {
  it('spaces request starts evenly: 10 requests at 20 rps', async () => {
    server.reset([OK]);
    const client = http({ rateBudget: createRateBudget(20) });
    const started = performance.now();
    await Promise.all(Array.from({ length: 10 }, () => client.request(get())));
    expect(performance.now() - started).toBeGreaterThanOrEqual(440);
    expect(server.arrivals).toHaveLength(10);
    // Starts are 50 ms apart; arrivals jitter on a busy machine (a late one makes the next gap short), but a burst
    // would arrive ~0 ms apart.
    const gaps = server.gaps();
    for (const gap of gaps) expect(gap).toBeLessThan(50 + SLACK);
    expectNoBurst(gaps);
    expect(median(gaps)).toBeGreaterThanOrEqual(45);
  });

  it('is shared by concurrent callers and by every retry', async () => {
    // Each of the 3 requests needs 2 attempts (503 then 200): 6 starts through one budget from two clients.
    const seen = new Map<string, number>();
    server.reset((_n, arrival) => {
      const count = (seen.get(arrival.url) ?? 0) + 1;
      seen.set(arrival.url, count);
      return count === 1 ? omsError(503) : OK;
    });
    const budget = createRateBudget(20);
    const a = http({ rateBudget: budget });
    const b = http({ rateBudget: budget });
    const started = performance.now();
    await Promise.all([a.request(get('/one')), b.request(get('/two')), a.request(get('/three'))]);
    expect(server.arrivals).toHaveLength(6);
    expect(performance.now() - started).toBeGreaterThanOrEqual(5 * 50 - 10);
    expectNoBurst(server.gaps());
    expect(median(server.gaps())).toBeGreaterThanOrEqual(45);
  });
});

/**
 * No burst at 20 rps: at most 3 arrivals in any 100 ms (an even schedule gives 2 or 3). A machine too busy to fire
 * timers on time may release two or three starts together once it catches up (the budget keeps the average); a
 * budget that let requests through unspaced would put many more in 100 ms.
 */
function expectNoBurst(gaps: readonly number[]): void {
  const at = gaps.reduce<number[]>((times, gap) => [...times, times.at(-1)! + gap], [0]);
  const busiest = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 100).length));
  expect(busiest).toBeLessThanOrEqual(3);
}

describe('transport failures', () => {
  it('a connection reset before any answer is retried, then succeeds', async () => {
    server.reset([{ reset: true }, { reset: true }, OK]);
    const res = await http().request(get());
    expect(res.status).toBe(200);
    expect(server.arrivals).toHaveLength(3);
  });

  it('a connection reset on every attempt fails with TransportError connection', async () => {
    server.reset([{ reset: true }]);
    const error = await failure(http().request(get()));
    expect(server.arrivals).toHaveLength(POLICY.attempts);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'connection', method: 'GET', path: '/v2/p/tasks' });
  });

  it('a server that never answers hits attemptTimeoutMs and is retried', async () => {
    server.reset([{ hang: true }, OK]);
    const res = await http().request(get());
    expect(res.status).toBe(200);
    expect(server.arrivals).toHaveLength(2);
    const [gap] = server.gaps();
    expect(gap).toBeGreaterThanOrEqual(POLICY.attemptTimeoutMs - 10);
    expect(gap).toBeLessThan(POLICY.attemptTimeoutMs + 20 + SLACK);
  });

  it('a server that never answers at all: TransportError timeout after `attempts` tries', async () => {
    server.reset([{ hang: true }]);
    const started = performance.now();
    const error = await failure(http().request(get()));
    const elapsed = performance.now() - started;
    expect(server.arrivals).toHaveLength(POLICY.attempts);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(POLICY.attempts * POLICY.attemptTimeoutMs - 10);
    expect(elapsed).toBeLessThan(POLICY.attempts * POLICY.attemptTimeoutMs + 20 + 40 + 80 + 4 * SLACK);
  });

  // Regression guard: ky keeps one AbortController across attempts, and a retried 429/5xx answer's body was never read.
  // When a later attempt timed out, the abort reached that stale body and undici rethrew the AbortError where nothing
  // could catch it, killing the process although the request succeeded. client.ts now cancels the body in beforeRetry.
  it('a 503 and then a timed-out attempt do not kill the process with an unhandled rejection', async () => {
    const script = fileURLToPath(new URL('../helpers/retry-then-timeout.ts', import.meta.url));
    const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', script], { timeout: 10_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
    expect(child.stderr).not.toContain('AbortError');
    expect({ code: child.code, stdout: child.stdout.trim() }).toEqual({ code: 0, stdout: 'status 200 arrivals 3' });
  });

  it('a 200 whose body stalls after the first bytes is retried after about attemptTimeoutMs', async () => {
    server.reset([{ stallBody: '{"tasks":[{"id":' }, OK]);
    const res = await http().request(get());
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true });
    expect(server.arrivals).toHaveLength(2);
    const [gap] = server.gaps();
    expect(gap).toBeGreaterThanOrEqual(POLICY.attemptTimeoutMs - 10);
    expect(gap).toBeLessThan(POLICY.attemptTimeoutMs + 20 + SLACK);
  });

  it('a body that stalls on every attempt fails promptly with TransportError timeout', async () => {
    server.reset([{ stallBody: '{"tasks":[' }]);
    const started = performance.now();
    const error = await failure(http().request(get()));
    const elapsed = performance.now() - started;
    expect(server.arrivals).toHaveLength(POLICY.attempts);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'timeout' });
    expect(elapsed).toBeLessThan(POLICY.attempts * POLICY.attemptTimeoutMs + 20 + 40 + 80 + 4 * SLACK);
  });

  it('a 200 cut mid-body is retried, then succeeds', async () => {
    server.reset([{ cutBody: '{"tasks":[{"id":1' }, OK]);
    const res = await http().request(get());
    expect(JSON.parse(res.body)).toEqual({ ok: true });
    expect(server.arrivals).toHaveLength(2);
  });

  it('a 200 cut mid-body on every attempt fails with TransportError connection', async () => {
    server.reset([{ cutBody: '{"tasks":[' }]);
    const error = await failure(http().request(get()));
    expect(server.arrivals).toHaveLength(POLICY.attempts);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'connection' });
  });

  it('a 2xx HTML page is retried like a bad gateway, then succeeds', async () => {
    server.reset([{ status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: '<html>proxy error</html>' }, OK]);
    const res = await http().request(get());
    expect(JSON.parse(res.body)).toEqual({ ok: true });
    expect(server.arrivals).toHaveLength(2);
  });

  it('a 2xx HTML page on every attempt fails with TransportError invalid-response', async () => {
    server.reset([{ status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html>proxy error</html>' }]);
    const error = await failure(http().request(get()));
    expect(server.arrivals).toHaveLength(POLICY.attempts);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'invalid-response' });
  });

  it("a 2xx body that the request's parse refuses is retried like a bad gateway; the parse's value is the answer", async () => {
    server.reset([{ status: 200, body: '{"tasks": 5}' }, { status: 200, body: '{"tasks": [' }, { status: 200, body: '{"tasks": [1]}' }]);
    const parse = (text: string) => {
      const body = JSON.parse(text) as { tasks: unknown };
      if (!Array.isArray(body.tasks)) throw new Error('no "tasks" array');
      return body.tasks;
    };
    const res = await http().request({ ...get(), parse });
    expect(res.value).toEqual([1]);
    expect(res.body).toBe('');
    expect(server.arrivals).toHaveLength(3);
  });

  it("a 2xx body refused by parse on every attempt fails as invalid-response, and the message says why", async () => {
    server.reset([{ status: 200, body: '{"tasks": 5}' }]);
    const error = await failure(http().request({ ...get(), parse: () => { throw new Error('no "tasks" array in the answer'); } }));
    expect(server.arrivals).toHaveLength(POLICY.attempts);
    expect(error).toMatchObject({ name: 'TransportError', kind: 'invalid-response' });
    expect((error as Error).message).toMatch(/unusable answer on every attempt \(no "tasks" array in the answer\)/);
  });

  it('tells onRetry why each attempt is retried', async () => {
    server.reset([{ hang: true }, omsError(503), { reset: true }, { status: 200, headers: { 'Content-Type': 'text/html' }, body: '<p>' }, { cutBody: '{' }, OK]);
    const events: { retry: number; status?: number; reason: string }[] = [];
    const res = await http({ retry: { ...POLICY, attempts: 6 }, onRetry: ({ retry, status, reason }) => events.push({ retry, status, reason }) }).request(get());
    expect(res.status).toBe(200);
    expect(events).toEqual([
      { retry: 1, status: undefined, reason: 'timeout' },
      { retry: 2, status: 503, reason: 'http-503' },
      { retry: 3, status: undefined, reason: 'connection' },
      { retry: 4, status: undefined, reason: 'invalid-response' },
      { retry: 5, status: undefined, reason: 'connection' },
    ]);
  });
});

describe('secrets in errors', () => {
  const SECRET = 'TOKEN-SHOULD-NOT-LEAK-77';

  function expectNoSecret(error: unknown) {
    expect(error).toBeInstanceOf(Error);
    const e = error as Error;
    expect(inspect(e, { depth: 10 })).not.toContain(SECRET);
    expect(JSON.stringify(e)).not.toContain(SECRET);
    expect(JSON.stringify(e, Object.getOwnPropertyNames(e))).not.toContain(SECRET);
    expect(e.message).not.toContain(SECRET);
    expect(String(e.stack)).not.toContain(SECRET);
    // Walk the cause chain by hand too: no Request, no Headers anywhere.
    let cause: unknown = e.cause;
    for (let depth = 0; cause !== undefined && depth < 10; depth += 1) {
      expect(cause).not.toBeInstanceOf(Request);
      expect(Object.values(cause as object).some((v) => v instanceof Request || v instanceof Headers)).toBe(false);
      cause = (cause as Error).cause;
    }
  }

  it.each([
    ['times out', { hang: true } as Reply, 'timeout'],
    ['loses its connection', { reset: true } as Reply, 'connection'],
    ['has its body stall', { stallBody: '{' } as Reply, 'timeout'],
    ['has its body cut', { cutBody: '{' } as Reply, 'connection'],
  ])('a request that finally %s does not carry the token', async (_what, reply, kind) => {
    server.reset([reply]);
    const error = await failure(http().request(get('/v2/p/tasks', { auth: tokenAuthenticator(SECRET) })));
    // The token really was sent, so a leak would show.
    expect(server.arrivals[0]?.headers['x-auth-token']).toBe(SECRET);
    expect(error).toMatchObject({ name: 'TransportError', kind });
    expectNoSecret(error);
  });

  it('a final HttpError does not carry the token either', async () => {
    server.reset([omsError(503)]);
    const error = await failure(http().request(get('/v2/p/tasks', { auth: tokenAuthenticator(SECRET) })));
    expect(server.arrivals[0]?.headers['x-auth-token']).toBe(SECRET);
    expect(error).toMatchObject({ name: 'HttpError', status: 503 });
    expectNoSecret(error);
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
