import { createHash, createHmac } from 'node:crypto';
import { startEmulator } from '../../emulator/index.js';
import type { Emulator } from '../../emulator/index.js';

const P = 'proj1';
const P2 = 'proj2';
const USER = { domain: 'acme', username: 'janitor', password: 's3cret' };
const AK = 'AKEXAMPLE';
const SK = 'SKEXAMPLE';

function passwordBody(projectId: string, password = USER.password): string {
  return JSON.stringify({
    auth: {
      identity: { methods: ['password'], password: { user: { name: USER.username, password, domain: { name: USER.domain } } } },
      scope: { project: { id: projectId } },
    },
  });
}

async function issueToken(emu: Emulator, projectId: string): Promise<string> {
  const res = await fetch(`${emu.url}/v3/auth/tokens`, { method: 'POST', body: passwordBody(projectId), headers: { 'Content-Type': 'application/json' } });
  expect(res.status).toBe(201);
  return res.headers.get('x-subject-token') ?? '';
}

async function list(emu: Emulator, headers: Record<string, string>, projectId = P): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${emu.url}/v2/${projectId}/tasks`, { headers });
  const body = (await res.json()) as { error_code?: string };
  return { status: res.status, code: body.error_code };
}

/** An SDK-HMAC-SHA256 signer written independently here, straight from oms-api.md, for the HTTP plumbing test. */
function signedHeaders(emu: Emulator, method: string, path: string, query: string, body: string, opts: { sk?: string; dateMs?: number; project?: string } = {}): Record<string, string> {
  const date = new Date(opts.dateMs ?? Date.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const headers: Record<string, string> = { host: new URL(emu.url).host, 'x-sdk-date': date, 'x-project-id': opts.project ?? P };
  const names = Object.keys(headers).sort();
  const canonical = [
    method,
    `${path}/`,
    query.split('&').sort().join('&'),
    names.map((n) => `${n}:${headers[n]}\n`).join(''),
    names.join(';'),
    createHash('sha256').update(body).digest('hex'),
  ].join('\n');
  const toSign = `SDK-HMAC-SHA256\n${date}\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', opts.sk ?? SK).update(toSign).digest('hex');
  const { host: _host, ...sent } = headers;
  return { ...sent, Authorization: `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

describe('OMS authentication', () => {
  let emu: Emulator;
  let clock = Date.now();

  beforeEach(async () => {
    clock = Date.now();
    emu = await startEmulator({
      tokens: ['static'],
      users: [USER],
      akskCredentials: [{ ak: AK, sk: SK }],
      iamTokenMaxUses: 3,
      iamTokenTtlMs: 60_000,
      projects: { [P]: [{ id: '11', status: 5, start_time: 1 }, { id: '12', status: 4, start_time: 2 }] },
      now: () => clock,
    });
  });
  afterEach(() => emu.close());

  it('answers 401 APIGW.0301 without credentials or with an unknown token, 200 with a static token', async () => {
    expect(await list(emu, {})).toEqual({ status: 401, code: 'APIGW.0301' });
    expect(await list(emu, { 'X-Auth-Token': 'nope' })).toEqual({ status: 401, code: 'APIGW.0301' });
    expect((await list(emu, { 'X-Auth-Token': 'static' })).status).toBe(200);
    expect(emu.stats.calls.unauthorized).toBe(2);
  });

  it('issues IAM tokens: 201, X-Subject-Token, expires_at with microseconds, project scope', async () => {
    const res = await fetch(`${emu.url}/v3/auth/tokens`, { method: 'POST', body: passwordBody(P) });
    const body = (await res.json()) as { token: { expires_at: string; project: { id: string } } };
    expect(res.status).toBe(201);
    expect(res.headers.get('x-subject-token')).toMatch(/^MII/);
    expect(body.token.expires_at).toBe(new Date(clock + 60_000).toISOString().replace('Z', '000Z'));
    expect(body.token.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(body.token.project.id).toBe(P);
    expect(emu.stats.calls['iam-token']).toBe(1);
  });

  it('refuses a wrong password (401) and a malformed body (400) with IAM-style errors', async () => {
    const bad = await fetch(`${emu.url}/v3/auth/tokens`, { method: 'POST', body: passwordBody(P, 'wrong') });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { code: number } }).error.code).toBe(401);
    for (const body of ['not json', '{}', JSON.stringify({ auth: { identity: { methods: ['password'] } } })]) {
      expect((await fetch(`${emu.url}/v3/auth/tokens`, { method: 'POST', body })).status).toBe(400);
    }
  });

  it('IAM tokens answer APIGW.0307 after iamTokenMaxUses, on another project, after expiry and after expireIamTokens', async () => {
    const token = await issueToken(emu, P);
    expect(await list(emu, { 'X-Auth-Token': token }, P2)).toEqual({ status: 401, code: 'APIGW.0307' });
    for (let i = 0; i < 3; i++) expect((await list(emu, { 'X-Auth-Token': token })).status).toBe(200);
    expect(await list(emu, { 'X-Auth-Token': token })).toEqual({ status: 401, code: 'APIGW.0307' });

    const second = await issueToken(emu, P);
    expect((await list(emu, { 'X-Auth-Token': second })).status).toBe(200);
    clock += 60_000;
    expect(await list(emu, { 'X-Auth-Token': second })).toEqual({ status: 401, code: 'APIGW.0307' });

    const third = await issueToken(emu, P);
    emu.expireIamTokens();
    expect(await list(emu, { 'X-Auth-Token': third })).toEqual({ status: 401, code: 'APIGW.0307' });
    expect((await list(emu, { 'X-Auth-Token': await issueToken(emu, P) })).status).toBe(200);
  });

  it('applies a per-task fault after auth, for the given method and number of times', async () => {
    emu.setTaskFault(P, '11', { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'API access denied.', times: 1 });
    const anon = await fetch(`${emu.url}/v2/${P}/tasks/11`, { method: 'DELETE' });
    expect(anon.status).toBe(401);
    const denied = await fetch(`${emu.url}/v2/${P}/tasks/11`, { method: 'DELETE', headers: { 'X-Auth-Token': 'static' } });
    const body = (await denied.json()) as Record<string, string>;
    expect([denied.status, body.error_code, body.error_msg]).toEqual([403, 'APIGW.0306', 'API access denied.']);
    expect(body.request_id).toBe(denied.headers.get('x-request-id'));
    expect((await fetch(`${emu.url}/v2/${P}/tasks/11`, { headers: { 'X-Auth-Token': 'static' } })).status).toBe(200);
    expect((await fetch(`${emu.url}/v2/${P}/tasks/11`, { method: 'DELETE', headers: { 'X-Auth-Token': 'static' } })).status).toBe(200);
    expect(emu.stats.faultsInjected['task-fault']).toBe(1);
  });

  it('accepts AK/SK signed requests (GET with query, DELETE) and refuses a wrong SK', async () => {
    const query = 'limit=5&offset=0';
    const ok = await fetch(`${emu.url}/v2/${P}/tasks?${query}`, { headers: signedHeaders(emu, 'GET', `/v2/${P}/tasks`, query, '') });
    expect(ok.status).toBe(200);
    const del = await fetch(`${emu.url}/v2/${P}/tasks/12`, { method: 'DELETE', headers: signedHeaders(emu, 'DELETE', `/v2/${P}/tasks/12`, '', '') });
    expect(del.status).toBe(200);
    const bad = await fetch(`${emu.url}/v2/${P}/tasks`, { headers: signedHeaders(emu, 'GET', `/v2/${P}/tasks`, '', '', { sk: 'wrong' }) });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error_code: string }).error_code).toBe('APIGW.0301');
    const stale = signedHeaders(emu, 'GET', `/v2/${P}/tasks`, '', '', { dateMs: clock - 16 * 60_000 });
    expect((await fetch(`${emu.url}/v2/${P}/tasks`, { headers: stale })).status).toBe(401);
    const otherProject = signedHeaders(emu, 'GET', `/v2/${P}/tasks`, '', '', { project: P2 });
    expect((await fetch(`${emu.url}/v2/${P}/tasks`, { headers: otherProject })).status).toBe(401);
    expect(emu.stats).toMatchObject({ signedRequests: 5, signedVerified: 2, signatureFailures: 3 });
  });

  it('locks an AK after 5 consecutive failures: even a good signature gets 401 until the lock ends', async () => {
    const path = `/v2/${P}/tasks`;
    for (let i = 0; i < 5; i++) {
      expect((await fetch(`${emu.url}${path}`, { headers: signedHeaders(emu, 'GET', path, '', '', { sk: 'bad' }) })).status).toBe(401);
    }
    expect(emu.stats.lockedAks).toEqual([AK]);
    expect((await fetch(`${emu.url}${path}`, { headers: signedHeaders(emu, 'GET', path, '', '') })).status).toBe(401);
    clock += 5 * 60_000;
    expect((await fetch(`${emu.url}${path}`, { headers: signedHeaders(emu, 'GET', path, '', '', { dateMs: clock }) })).status).toBe(200);
    expect(emu.stats.lockedAks).toEqual([]);
  });

  it('lets everything through with requireAuth: false', async () => {
    const open = await startEmulator({ requireAuth: false, projects: { [P]: [{ id: '1', start_time: 1 }] } });
    try {
      expect((await list(open, {})).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
