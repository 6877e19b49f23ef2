import { AuthError } from '../../lib/auth/errors.js';
import { ExpiringCache } from '../../lib/auth/expiring-cache.js';
import { passwordAuthenticator, regionsByProject, type IamToken } from '../../lib/auth/iam.js';
import type { Http, HttpRequest, HttpResponse } from '../../lib/http/types.js';

const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const HOUR = 3_600_000;
const creds = { domain: 'acme', username: 'janitor', password: 'PASSWORD-SHOULD-NOT-LEAK' };

/** A fake Http answering IAM's token call like IAM: token in X-Subject-Token, expires_at in the body. */
function fakeIam(options: { lifeMs?: number; delayMs?: number; fail?: () => unknown; now: () => number }) {
  const requests: HttpRequest[] = [];
  let n = 0;
  const http: Http = {
    async request(request) {
      requests.push(request);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const failure = options.fail?.();
      if (failure) throw failure;
      n += 1;
      const expiresAt = new Date(options.now() + (options.lifeMs ?? 24 * HOUR)).toISOString().replace('Z', '000Z');
      const answer: HttpResponse = {
        status: 201,
        headers: new Headers({ 'X-Subject-Token': `token-${n}` }),
        body: JSON.stringify({ token: { expires_at: expiresAt, methods: ['password'] } }),
      };
      return answer;
    },
  };
  return { http, requests };
}

async function tokenSent(auth: ReturnType<typeof passwordAuthenticator>, projectId = 'p1'): Promise<string | null> {
  const request = new Request('https://oms.cn-north-4.myhuaweicloud.com/v2/p1/tasks');
  await auth.authorize(request, projectId);
  return request.headers.get('x-auth-token');
}

describe('passwordAuthenticator', () => {
  it('asks IAM once, with the documented body and endpoint, for many authorize calls', async () => {
    let now = T0;
    const { http, requests } = fakeIam({ now: () => now });
    const auth = passwordAuthenticator(creds, { http, region: 'cn-north-4', clock: () => now });
    expect(auth.kind).toBe('password');
    for (let i = 0; i < 5; i += 1) expect(await tokenSent(auth)).toBe('token-1');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'POST', url: 'https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens' });
    expect(requests[0]?.json).toEqual({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'janitor', password: creds.password, domain: { name: 'acme' } } } },
        scope: { project: { id: 'p1' } },
      },
    });
    expect(requests[0]?.auth).toBeUndefined();
  });

  it('keeps one token per project and uses the region of each project', async () => {
    const now = T0;
    const { http, requests } = fakeIam({ now: () => now });
    const region = regionsByProject([{ projectId: 'p1', region: 'cn-north-4' }, { projectId: 'p2', region: 'ap-southeast-1' }]);
    const auth = passwordAuthenticator(creds, { http, region, clock: () => now });
    expect(await tokenSent(auth, 'p1')).toBe('token-1');
    expect(await tokenSent(auth, 'p2')).toBe('token-2');
    expect(await tokenSent(auth, 'p1')).toBe('token-1');
    expect(requests.map((r) => r.url)).toEqual([
      'https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens',
      'https://iam.ap-southeast-1.myhuaweicloud.com/v3/auth/tokens',
    ]);
    await expect(tokenSent(auth, 'p3')).rejects.toThrow('no IAM endpoint for project p3');
  });

  it('prefers iamEndpoint from the credentials', async () => {
    const { http, requests } = fakeIam({ now: () => T0 });
    const auth = passwordAuthenticator({ ...creds, iamEndpoint: 'http://127.0.0.1:9999' }, { http, clock: () => T0 });
    await tokenSent(auth);
    expect(requests[0]?.url).toBe('http://127.0.0.1:9999/v3/auth/tokens');
  });

  it('renews 5 minutes before expiry', async () => {
    let now = T0;
    const { http, requests } = fakeIam({ now: () => now });
    const auth = passwordAuthenticator(creds, { http, region: 'cn-north-4', clock: () => now });
    await tokenSent(auth);
    now = T0 + 24 * HOUR - 5 * 60_000 - 1;
    expect(await tokenSent(auth)).toBe('token-1');
    now += 1;
    expect(await tokenSent(auth)).toBe('token-2');
    expect(requests).toHaveLength(2);
  });

  it('concurrent first calls share one IAM request', async () => {
    const { http, requests } = fakeIam({ now: () => T0, delayMs: 20 });
    const auth = passwordAuthenticator(creds, { http, region: 'cn-north-4', clock: () => T0 });
    const tokens = await Promise.all(Array.from({ length: 8 }, () => tokenSent(auth)));
    expect(new Set(tokens)).toEqual(new Set(['token-1']));
    expect(requests).toHaveLength(1);
  });

  it('refresh after a 401 drops the token and fetches a new one once', async () => {
    let now = T0;
    const { http, requests } = fakeIam({ now: () => now, delayMs: 5 });
    const auth = passwordAuthenticator(creds, { http, region: 'cn-north-4', clock: () => now });
    expect(await tokenSent(auth)).toBe('token-1');
    now += 1000;
    // Eight requests in flight with token-1 all get 401: one IAM call, not eight.
    const results = await Promise.all(Array.from({ length: 8 }, () => auth.refresh('p1', 'APIGW.0307')));
    expect(results).toEqual(Array(8).fill(true));
    expect(requests).toHaveLength(2);
    expect(await tokenSent(auth)).toBe('token-2');
    // A later 401 (outside the coalescing window) renews again.
    now += 60_000;
    expect(await auth.refresh('p1', 'APIGW.0301')).toBe(true);
    expect(await tokenSent(auth)).toBe('token-3');
    expect(requests).toHaveLength(3);
  });

  it('a token cache passed in survives authenticators (warm Lambda invocations)', async () => {
    const { http, requests } = fakeIam({ now: () => T0 });
    const tokenCache = new ExpiringCache<IamToken>(() => T0);
    await tokenSent(passwordAuthenticator(creds, { http, region: 'cn-north-4', clock: () => T0, tokenCache }));
    expect(await tokenSent(passwordAuthenticator(creds, { http, region: 'cn-north-4', clock: () => T0, tokenCache }))).toBe('token-1');
    expect(requests).toHaveLength(1);
  });

  it('a short-lived token is used for half its life rather than renewed on every call', async () => {
    let now = T0;
    const { http, requests } = fakeIam({ now: () => now, lifeMs: 4 * 60_000 });
    const auth = passwordAuthenticator(creds, { http, region: 'cn-north-4', clock: () => now });
    await tokenSent(auth);
    now += 60_000;
    await tokenSent(auth);
    expect(requests).toHaveLength(1);
    now = T0 + 2 * 60_000;
    await tokenSent(auth);
    expect(requests).toHaveLength(2);
  });
});

describe('passwordAuthenticator failures', () => {
  const httpError = Object.assign(new Error('POST /v3/auth/tokens answered HTTP 401 APIGW.0301'), {
    name: 'HttpError',
    status: 401,
    errorCode: 'APIGW.0301',
  });

  /** `askedAgain`: whether a second call asks IAM again (failures are never cached; a rejected password is). */
  async function failure(fail: () => unknown, askedAgain = true): Promise<AuthError> {
    const { http, requests } = fakeIam({ now: () => T0, fail });
    const auth = passwordAuthenticator(creds, { http, region: 'cn-north-4', clock: () => T0 });
    const error = await tokenSent(auth).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).name).toBe('AuthError');
    expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toContain(creds.password);
    const again = await tokenSent(auth).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(AuthError);
    expect(requests).toHaveLength(askedAgain ? 2 : 1);
    return error as AuthError;
  }

  it('a rejected password names user and domain, not the password, and is not tried again in the run', async () => {
    const error = await failure(() => httpError, false);
    expect(error.message).toBe('IAM rejected the password credentials for user janitor in domain acme (HTTP 401 APIGW.0301)');
    expect(error).toMatchObject({ status: 401, errorCode: 'APIGW.0301', projectId: 'p1' });
    expect(error.cause).toBe(httpError);
  });

  it('a network failure says IAM could not be reached', async () => {
    const error = await failure(() => new Error('POST /v3/auth/tokens lost its connection on every attempt'));
    expect(error.message).toContain('could not get an IAM token for user janitor in domain acme from https://iam.cn-north-4.myhuaweicloud.com');
  });

  it('lock-out guard: one IAM request until the password is proven; a 401 ends asking for every project', async () => {
    const { http, requests } = fakeIam({ now: () => T0, delayMs: 30, fail: () => httpError });
    const auth = passwordAuthenticator(creds, { http, region: 'cn-north-4', clock: () => T0 });
    const projects = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    const errors = await Promise.all(projects.map((p) => tokenSent(auth, p).catch((e: unknown) => e as AuthError)));
    expect(requests).toHaveLength(1); // six targets, one IAM request: IAM locks a user after repeated failures
    expect(errors.map((e) => e instanceof AuthError)).toEqual(projects.map(() => true));
    expect((errors[1] as AuthError).message).toBe('not asking IAM again for user janitor in domain acme in this run: it rejected the password (HTTP 401)');
    expect(errors.map((e) => (e as AuthError).message).join(' ')).not.toContain(creds.password);
  });

  it('lock-out guard: once IAM issued a token, other projects ask at once and in parallel', async () => {
    let inFlight = 0;
    let most = 0;
    const { http, requests } = fakeIam({ now: () => T0, delayMs: 30 });
    const counting: Http = {
      async request(r) {
        most = Math.max(most, ++inFlight);
        try {
          return await http.request(r);
        } finally {
          inFlight -= 1;
        }
      },
    };
    const auth = passwordAuthenticator(creds, { http: counting, region: 'cn-north-4', clock: () => T0 });
    const tokens = await Promise.all(['p1', 'p2', 'p3'].map((p) => tokenSent(auth, p)));
    expect(new Set(tokens).size).toBe(3);
    expect(most).toBe(2); // the first one probes alone, then the two that waited go together
    await Promise.all(['p4', 'p5', 'p6'].map((p) => tokenSent(auth, p)));
    expect(most).toBe(3); // then no more waiting
    expect(requests).toHaveLength(6);
  });

  it('a run deadline also ends the wait behind the probe and the IAM request itself', async () => {
    const { http, requests } = fakeIam({ now: () => T0, delayMs: 200 });
    const seen: Array<AbortSignal | undefined> = [];
    const spying: Http = { request: (r) => (seen.push(r.signal), http.request(r)) };
    const auth = passwordAuthenticator(creds, { http: spying, region: 'cn-north-4', clock: () => T0 });
    const deadline = AbortSignal.timeout(50);
    const started = Date.now();
    const probe = auth.authorize(new Request('https://oms.example.com/'), 'p1', deadline).catch((e: unknown) => e);
    const waiting = auth.authorize(new Request('https://oms.example.com/'), 'p2', deadline).catch((e: unknown) => e);
    expect(await waiting).toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(180);
    await probe;
    expect(seen).toEqual([deadline]); // the probe's IAM request carried the deadline; the waiter sent none
    expect(requests).toHaveLength(1);
  });

  it('an answer without X-Subject-Token is an AuthError; refresh rethrows IAM failures', async () => {
    const http: Http = { request: async () => ({ status: 201, headers: new Headers(), body: '{}' }) };
    const auth = passwordAuthenticator(creds, { http, region: 'cn-north-4', clock: () => T0 });
    await expect(tokenSent(auth)).rejects.toThrow('without an X-Subject-Token header');
    await expect(auth.refresh('p1', 'APIGW.0307')).rejects.toBeInstanceOf(AuthError);
  });
});
