import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
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
    const error = await failure(oms.deleteTask({ endpoint: server.url, projectId: PROJECT }, '1'));
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status, redirectHost: elsewhereHost(), errorMsg: `redirected to ${elsewhereHost()}; redirects are never followed` });
    expect(server.arrivals).toHaveLength(1);
    expect(elsewhere.arrivals).toHaveLength(0);
  });

  it('a redirected listing fails; the token never reaches the other host', async () => {
    server.reset([{ status: 307, headers: { Location: `${elsewhere.url}/steal` }, body: '' }]);
    const oms = new OmsClient({ http: createHttp({ retry: POLICY }), auth: tokenAuthenticator(TOKEN) });
    const error = await failure(oms.listTasks({ endpoint: server.url, projectId: PROJECT }));
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
    expect((error as Error).message).toContain('the body was longer than the limit');
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
    expect(await oms.deleteTask({ endpoint: server.url, projectId: PROJECT }, '7')).toBe('deleted');
    expect(server.arrivals).toHaveLength(1);
    expect(server.floodSent()).toBeLessThan(8 * MB);
  });

  it('a delete answered by a 2xx HTML page fails as invalid-response, once, and is not counted as deleted', async () => {
    server.reset([{ status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html>proxy</html>' }]);
    const oms = new OmsClient({ http: createHttp({ retry: POLICY }), auth: tokenAuthenticator(TOKEN) });
    const error = await failure(oms.deleteTask({ endpoint: server.url, projectId: PROJECT }, '7'));
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
