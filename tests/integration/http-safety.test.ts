import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from '../deploy/sandbox.js';

const run = promisify(execFile);
import { passwordAuthenticator } from '../../lib/auth/iam.js';
import { tokenAuthenticator } from '../../lib/auth/types.js';
import { AuthError } from '../../lib/auth/errors.js';
import { createHttp, DEFAULT_MAX_BODY_BYTES, MAX_ERROR_BODY_BYTES } from '../../lib/http/client.js';
import { HttpError, TransportError } from '../../lib/http/errors.js';
import type { RetryPolicy } from '../../lib/http/retry-policy.js';
import { OmsClient } from '../../lib/oms/client.js';
import { startScriptServer, type ScriptServer } from '../helpers/script-server.js';

/** Four attempts, short waits: enough to see whether something is retried. */
const POLICY: RetryPolicy = { attempts: 4, attemptTimeoutMs: 2000, baseDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 1500 };
const TOKEN = 'TOKEN-THAT-MUST-STAY-HOME-0123';
const PROJECT = '2c0689c860ad4728a497c91ec0844383';

let server: ScriptServer;
let elsewhere: ScriptServer;
beforeEach(async () => {
  server = await startScriptServer();
  elsewhere = await startScriptServer([{ status: 200, body: { tasks: [], count: 0 } }]);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await server.close();
  await elsewhere.close();
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

describe('redirects are never followed (issue 7.1)', () => {
  const elsewhereHost = () => new URL(elsewhere.url).host;

  it.each([307, 308, 302, 301])('a %i to another host: final HttpError naming the Location host, not retried, nothing sent there', async (status) => {
    server.reset([{ status, headers: { Location: `${elsewhere.url}/v2/${PROJECT}/tasks/1` }, body: '' }]);
    const oms = new OmsClient({ http: createHttp({ retry: POLICY }), auth: tokenAuthenticator(TOKEN) });
    const error = await failure(oms.delete('task', { endpoint: server.url, projectId: PROJECT }, '1'));
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status, redirectHost: elsewhereHost(), errorMsg: `redirected to ${elsewhereHost()}; redirects are never followed` });
    expect(server.arrivals).toHaveLength(1);
    expect(elsewhere.arrivals).toHaveLength(0);
  });

  it('a redirected listing fails; the token never reaches the other host', async () => {
    server.reset([{ status: 307, headers: { Location: `${elsewhere.url}/steal` }, body: '' }]);
    const oms = new OmsClient({ http: createHttp({ retry: POLICY }), auth: tokenAuthenticator(TOKEN) });
    const error = await failure(oms.list('task', { endpoint: server.url, projectId: PROJECT }));
    expect(error).toMatchObject({ name: 'HttpError', status: 307 });
    expect(server.arrivals[0]?.headers['x-auth-token']).toBe(TOKEN);
    expect(elsewhere.arrivals).toHaveLength(0);
  });

  it('an IAM token request answered 307 does not re-send the password elsewhere: an AuthError naming the host', async () => {
    server.reset([{ status: 307, headers: { Location: `${elsewhere.url}/v3/auth/tokens` }, body: '' }]);
    const auth = passwordAuthenticator(
      { domain: 'acme', username: 'janitor', password: 'PASSWORD-MUST-STAY-HOME', iamEndpoint: server.url },
      { http: createHttp({ retry: POLICY }), clock: Date.now },
    );
    const error = await failure(auth.authorize(new Request('https://oms.example.com/'), PROJECT));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toContain(`redirected to ${elsewhereHost()}, not followed`);
    expect((error as Error).message).not.toContain('PASSWORD-MUST-STAY-HOME');
    expect(server.arrivals).toHaveLength(1);
    expect(elsewhere.arrivals).toHaveLength(0);
  });
});

describe('bodies are bounded (issue 7.3)', () => {
  const MB = 1024 * 1024;

  it('a 2xx body longer than the limit is cancelled there and retried as a bad answer, then fails', async () => {
    server.reset([{ flood: { status: 200, bytes: 64 * MB } }]);
    const http = createHttp({ retry: { ...POLICY, attempts: 2 }, maxBodyBytes: MB });
    const error = await failure(http.request({ method: 'GET', url: `${server.url}/v2/p/tasks` }));
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'invalid-response' });
    expect((error as Error).message).toContain('the body was longer than the 1048576-byte limit');
    expect(server.arrivals).toHaveLength(2);
    // Two attempts of 64 MB offered; each read stops at 1 MB (plus what socket buffers had taken by then).
    expect(server.floodSent()).toBeLessThan(2 * 8 * MB);
  });

  it('a declared Content-Length over the limit is refused before reading', async () => {
    server.reset([{ flood: { status: 200, bytes: 2 * MB, contentLength: 2 * MB } }, { status: 200, body: { ok: 1 } }]);
    const res = await createHttp({ retry: POLICY, maxBodyBytes: MB }).request({ method: 'GET', url: `${server.url}/x` });
    expect(JSON.parse(res.body)).toEqual({ ok: 1 });
    expect(server.arrivals).toHaveLength(2);
  });

  it('a body within the limit is read whole (the default limit is far above a full page)', async () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBeGreaterThanOrEqual(40 * 100 * 1024);
    server.reset([{ flood: { status: 200, bytes: 512 * 1024 } }]);
    const res = await createHttp({ retry: POLICY, maxBodyBytes: MB }).request({ method: 'GET', url: `${server.url}/x` });
    expect(res.body.length).toBe(512 * 1024);
  });

  it('an error body is read only as far as MAX_ERROR_BODY_BYTES, and the answer is still a clean HttpError', async () => {
    server.reset([{ flood: { status: 403, bytes: 64 * MB } }]);
    const error = await failure(createHttp({ retry: POLICY }).request({ method: 'GET', url: `${server.url}/x` }));
    expect(error).toMatchObject({ name: 'HttpError', status: 403, errorMsg: 'the error answer was not JSON' });
    expect(server.floodSent()).toBeLessThan(8 * MB);
    expect(MAX_ERROR_BODY_BYTES).toBeLessThanOrEqual(64 * 1024);
  });

  it('a delete never reads its body and is never repeated because of it', async () => {
    server.reset([{ flood: { status: 200, bytes: 64 * MB } }]);
    const oms = new OmsClient({ http: createHttp({ retry: POLICY, maxBodyBytes: MB }), auth: tokenAuthenticator(TOKEN) });
    expect(await oms.delete('task', { endpoint: server.url, projectId: PROJECT }, '7')).toBe('deleted');
    expect(server.arrivals).toHaveLength(1);
    expect(server.floodSent()).toBeLessThan(8 * MB);
  });

  it('a delete answered by a 2xx HTML page fails as invalid-response, once, and is not counted as deleted', async () => {
    server.reset([{ status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html>proxy</html>' }]);
    const oms = new OmsClient({ http: createHttp({ retry: POLICY }), auth: tokenAuthenticator(TOKEN) });
    const error = await failure(oms.delete('task', { endpoint: server.url, projectId: PROJECT }, '7'));
    expect(error).toMatchObject({ name: 'TransportError', kind: 'invalid-response' });
    expect(server.arrivals).toHaveLength(1);
  });
});

describe('Retry-After never removes the backoff (issue 7.4)', () => {
  it.each(['0', '-5', 'Thu, 01 Jan 1970 00:00:00 GMT'])('Retry-After: %s still waits our backoff', async (retryAfter) => {
    // The top of the jitter range, so the expected wait is known: 0.99 · 200 ms.
    jest.spyOn(Math, 'random').mockReturnValue(0.99);
    server.reset([{ status: 429, headers: { 'Retry-After': retryAfter }, body: {} }, { status: 200, body: { ok: 1 } }]);
    const http = createHttp({ retry: { ...POLICY, baseDelayMs: 200 } });
    await http.request({ method: 'GET', url: `${server.url}/x` });
    expect(server.arrivals).toHaveLength(2);
    expect(server.gaps()[0]).toBeGreaterThanOrEqual(190);
  });

  it('a positive Retry-After above the backoff is waited in full', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.01);
    server.reset([{ status: 503, headers: { 'Retry-After': '1' }, body: {} }, { status: 200, body: { ok: 1 } }]);
    await createHttp({ retry: POLICY }).request({ method: 'GET', url: `${server.url}/x` });
    expect(server.gaps()[0]).toBeGreaterThanOrEqual(980);
  });
});

describe('review findings', () => {
  it('a deadline that fires during a retry wait ends the request cleanly: no unhandled rejection, the process lives', async () => {
    // In Lambda an unhandled rejection fails the invocation: no summary, no metrics. Run it in its own process.
    const { execFile } = await import('node:child_process');
    const script = `
      import { createHttp } from './lib/http/client.ts';
      import { OmsClient } from './lib/oms/client.ts';
      import { tokenAuthenticator } from './lib/auth/types.ts';
      import { startScriptServer } from './tests/helpers/script-server.ts';
      process.on('unhandledRejection', (e) => { console.log('UNHANDLED', e?.name); process.exit(3); });
      const server = await startScriptServer([{ status: 429, headers: { 'Retry-After': '5' }, body: { error_code: 'APIGW.0308' } }]);
      const oms = new OmsClient({ http: createHttp(), auth: tokenAuthenticator('T'.repeat(20)), signal: AbortSignal.timeout(300) });
      const error = await oms.delete('task', { endpoint: server.url, projectId: 'p' }, '1').catch((e) => e);
      await new Promise((r) => setTimeout(r, 300));
      console.log('ENDED', error.name, error.kind);
      await server.close();`;
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd() }, (error, stdout) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
      );
      child.stdin?.end();
    });
    expect(out.stdout.trim()).toBe('ENDED TransportError timeout');
    expect(out.code).toBe(0);
  });

  it('a request that gave up while waiting behind the AK/SK probe does not release the probe', async () => {
    const { akskAuthenticator } = await import('../../lib/auth/aksk.js');
    let answerProbe!: () => void;
    const probeAnswered = new Promise<void>((resolve) => (answerProbe = resolve));
    server.reset((n) => (n === 0 ? { hang: true } : { status: 200, body: { ok: 1 } }));
    const auth = akskAuthenticator({ ak: 'AK0123456789', sk: 'SK-0123456789-abcdef' });
    const http = createHttp({ retry: { ...POLICY, attempts: 1, attemptTimeoutMs: 1500 } });
    const url = `${server.url}/v2/p/tasks`;
    const probe = http.request({ method: 'GET', url, auth, projectId: 'p' }).finally(answerProbe);
    await new Promise((r) => setTimeout(r, 50));
    const impatient = await failure(http.request({ method: 'GET', url, auth, projectId: 'p', signal: AbortSignal.timeout(50) }));
    expect(impatient).toMatchObject({ name: 'TransportError', kind: 'timeout' });
    const third = http.request({ method: 'GET', url, auth, projectId: 'p' });
    await new Promise((r) => setTimeout(r, 200));
    // Still one signed request out: the third one waits for the probe's verdict, it does not become a second probe.
    expect(server.arrivals).toHaveLength(1);
    await failure(probe);
    await probeAnswered;
    await third; // the probe ended without a verdict (timeout): the third became the next probe and was answered
    expect(server.arrivals).toHaveLength(2);
  });

  // ky is not given the deadline (the client listens to it itself), so ky would retry what the deadline ended: the
  // retry hook must end the request before it tells the authenticator anything. The reason is an Error of this realm
  // named TimeoutError, as AbortSignal.timeout's is in Node (jest's realm would make a DOMException a NonError).
  it('a deadline that ends a request waiting behind the AK/SK probe, with retries left, neither releases the probe nor reports twice', async () => {
    const { akskAuthenticator } = await import('../../lib/auth/aksk.js');
    server.reset((n) => (n === 0 ? { hang: true } : { status: 200, body: { ok: 1 } }));
    const auth = akskAuthenticator({ ak: 'AK0123456789', sk: 'SK-0123456789-abcdef' });
    const answered: Array<number | undefined> = [];
    const original = auth.answered!.bind(auth);
    auth.answered = (status) => (answered.push(status), original(status));
    const http = createHttp({ retry: { ...POLICY, attempts: 4, attemptTimeoutMs: 1500, baseDelayMs: 1, maxDelayMs: 1 } });
    const url = `${server.url}/v2/p/tasks`;
    const probe = http.request({ method: 'GET', url, auth, projectId: 'p' });
    await new Promise((r) => setTimeout(r, 50));
    const deadline = new AbortController();
    setTimeout(() => deadline.abort(Object.assign(new Error('the deadline'), { name: 'TimeoutError' })), 50);
    const impatient = await failure(http.request({ method: 'GET', url, auth, projectId: 'p', signal: deadline.signal }));
    expect(impatient).toMatchObject({ name: 'TransportError', kind: 'timeout' });
    expect(answered).toEqual([]); // it never sent anything: nothing to tell
    const third = http.request({ method: 'GET', url, auth, projectId: 'p' });
    await new Promise((r) => setTimeout(r, 200));
    expect(server.arrivals).toHaveLength(1); // still the one probe out
    await failure(probe).catch(() => undefined);
    await third.catch(() => undefined);
  });

  it.each([401, 403, 400, 302])('an error answer %i whose body stalls stays a final HttpError: sent once, never retried as a timeout', async (status) => {
    const { akskAuthenticator } = await import('../../lib/auth/aksk.js');
    server.reset([{ stallBody: '{"error_code":"APIGW.0301"', status }]);
    const auth = akskAuthenticator({ ak: 'AK0123456789', sk: 'SK-0123456789-abcdef' });
    const answered: Array<number | undefined> = [];
    const original = auth.answered!.bind(auth);
    auth.answered = (s) => (answered.push(s), original(s));
    const http = createHttp({ retry: { ...POLICY, attemptTimeoutMs: 600 } });
    const error = await failure(http.request({ method: 'DELETE', url: `${server.url}/v2/p/tasks/1`, auth, projectId: 'p', discardBody: true }));
    expect(error).toMatchObject({ name: 'HttpError', status });
    expect(server.arrivals).toHaveLength(1); // a refused signature re-sent would count towards Huawei's AK lock-out
    expect(answered).toEqual([status]); // reported once, never also as "no answer"
  });
});

describe('an attempt after a retry can always be ended (nodejs/undici#4068)', () => {
  // ky hands a retry a clone of the Request, whose abort link Node's fetch keeps only weakly: after a garbage
  // collection, neither ky's attempt timeout nor the run's deadline reached a stalled retry. Every attempt now goes
  // out with a signal the wrapper holds itself. Garbage is collected every few milliseconds to cut any weak link.
  let collect: NodeJS.Timeout | undefined;
  beforeEach(async () => {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    collect = setInterval(gc, 5);
  });
  afterEach(() => clearInterval(collect));
  /** Waits (up to 3 s) until the server holds at most one connection: the retry's keep-alive one. */
  const closedDown = async () => {
    for (let i = 0; i < 150 && server.openSockets() > 1; i += 1) await new Promise((r) => setTimeout(r, 20));
  };

  it("the run's deadline ends a retry that stalls, at once, not after attemptTimeoutMs", async () => {
    server.reset([{ status: 503, body: { error_code: 'APIGW.0202', error_msg: 'busy' } }, { hang: true }]);
    const deadline = new AbortController();
    const http = createHttp({ retry: { ...POLICY, attemptTimeoutMs: 10_000, baseDelayMs: 1, maxDelayMs: 1 } });
    let abortedAt = 0;
    // The deadline fires once the retry is stalled at the server (and garbage has been collected meanwhile).
    void (async () => {
      while (server.arrivals.length < 2) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 200));
      abortedAt = performance.now();
      deadline.abort(new DOMException('deadline', 'TimeoutError'));
    })();
    const error = await failure(http.request({ method: 'GET', url: `${server.url}/v2/${PROJECT}/tasks`, signal: deadline.signal }));
    expect(error).toMatchObject({ name: 'TransportError', kind: 'timeout' });
    expect(abortedAt).toBeGreaterThan(0);
    expect(performance.now() - abortedAt).toBeLessThan(1500); // not the 10 s attempt timeout
    expect(server.arrivals).toHaveLength(2);
  });

  // The first attempt goes out as the Request ky built (no clone, no copy: most requests have only that one), so
  // these hold it to the same standard.
  it("the run's deadline ends a first attempt that stalls, at once", async () => {
    server.reset([{ hang: true }]);
    const deadline = new AbortController();
    const http = createHttp({ retry: { ...POLICY, attemptTimeoutMs: 10_000 } });
    let abortedAt = 0;
    void (async () => {
      while (server.arrivals.length < 1) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 200));
      abortedAt = performance.now();
      deadline.abort(new DOMException('deadline', 'TimeoutError'));
    })();
    const error = await failure(http.request({ method: 'DELETE', url: `${server.url}/v2/${PROJECT}/tasks/1`, signal: deadline.signal, discardBody: true }));
    expect(error).toMatchObject({ name: 'TransportError', kind: 'timeout' });
    expect(performance.now() - abortedAt).toBeLessThan(1500);
    expect(server.arrivals).toHaveLength(1);
  });

  it('a first attempt that stalls is timed out and closed before its retry goes out', async () => {
    server.reset([{ hang: true }, { status: 200, body: '' }]);
    const http = createHttp({ retry: { ...POLICY, attemptTimeoutMs: 400, baseDelayMs: 1, maxDelayMs: 1 } });
    const started = performance.now();
    await http.request({ method: 'DELETE', url: `${server.url}/v2/${PROJECT}/tasks/1`, discardBody: true });
    expect(performance.now() - started).toBeLessThan(5000); // its 400 ms attempt timeout, not a hang (slack for a busy machine)
    expect(server.arrivals).toHaveLength(2);
    // The stalled attempt's connection was closed (the server answers it never; left open, it would stay open): only
    // the retry's keep-alive connection is left. The server learns of a close a moment later, under load even later:
    // with a collection every 5 ms and the suite's other workers, a clean-clone CI once took more than a second.
    // Waiting up to 3 s costs nothing when it closes, and a connection left open would still be open then.
    await closedDown();
    expect(server.openSockets()).toBeLessThanOrEqual(1);
  });

  // With a run deadline the first attempt goes out on a signal of the wrapper's (ky is not given the deadline):
  // ky's attempt timeout must still reach it and close its connection.
  it('under a run deadline, a first attempt that stalls is still timed out by ky and closed before its retry', async () => {
    server.reset([{ hang: true }, { status: 200, body: '' }]);
    const deadline = new AbortController();
    const http = createHttp({ retry: { ...POLICY, attemptTimeoutMs: 400, baseDelayMs: 1, maxDelayMs: 1 } });
    const started = performance.now();
    await http.request({ method: 'DELETE', url: `${server.url}/v2/${PROJECT}/tasks/1`, discardBody: true, signal: deadline.signal });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(server.arrivals).toHaveLength(2);
    await closedDown();
    expect(server.openSockets()).toBeLessThanOrEqual(1);
    expect(deadline.signal.aborted).toBe(false);
  });
});

describe('one run deadline, many requests', () => {
  // Node warns (MaxListenersExceededWarning, a non-JSON line in the logs) once 11 listeners wait on one AbortSignal,
  // and every attempt of a run listens to the run's deadline. Jest neither passes process warnings to tests nor lets
  // node:events handle its sandbox's signals, so the check runs in a plain Node process.
  it("64 requests waiting together on the run's deadline raise no MaxListenersExceededWarning", async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tests/helpers/deadline-listeners.ts'], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual({ settled: 64, arrivals: 64, warnings: [] });
  });
});
