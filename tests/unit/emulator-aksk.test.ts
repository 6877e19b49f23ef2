import { AkLockout, LOCK_MS } from '../../emulator/aksk-lockout.js';
import { canonicalQuery, canonicalUri, parseSdkDate, verifyAkSk } from '../../emulator/aksk-verify.js';
import type { SignedRequestParts } from '../../emulator/aksk-verify.js';
import type { AkSkCredential } from '../../emulator/types.js';

const CRED: AkSkCredential = { ak: 'AccessKey', sk: 'SecretKey' };
const lookup = (ak: string): AkSkCredential | undefined => (ak === CRED.ak ? CRED : undefined);

function auth(signedHeaders: string, signature: string, ak = 'AccessKey'): string {
  return `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

/** Changes one hex character of a signature. */
function flip(signature: string): string {
  return (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1);
}

const GO_SIG = '5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624';
const PY_GET_SIG = 'cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842';
const PY_POST_SIG = '436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f';

function goVector(signature = GO_SIG): SignedRequestParts {
  return {
    method: 'GET',
    path: '/path',
    query: 'limit=1',
    headers: { 'x-sdk-date': '20060102T150405Z', authorization: auth('x-sdk-date', signature) },
    body: '',
  };
}

function pyVector(method: 'GET' | 'POST', signature: string, body: Uint8Array | string = ''): SignedRequestParts {
  return {
    method,
    path: '/resources',
    query: 'size=1',
    headers: {
      host: 'service.endpoint.myhuaweicloud.com',
      'x-sdk-date': '20200608T023900Z',
      authorization: auth('host;x-sdk-date', signature),
    },
    body,
  };
}

const GO_NOW = Date.UTC(2006, 0, 2, 15, 4, 5);
const PY_NOW = Date.UTC(2020, 5, 8, 2, 39, 0);
const PY_BODY = '{"name":"test","id":1}';

describe('verifyAkSk against the published vectors', () => {
  it('accepts the Go SDK vector (only x-sdk-date signed)', () => {
    expect(verifyAkSk(goVector(), { nowMs: GO_NOW, lookup })).toEqual({ ok: true, ak: 'AccessKey' });
  });

  it('accepts the Python SDK GET vector (host;x-sdk-date)', () => {
    expect(verifyAkSk(pyVector('GET', PY_GET_SIG), { nowMs: PY_NOW, lookup }).ok).toBe(true);
  });

  it('accepts the Python SDK POST vector with a body', () => {
    expect(verifyAkSk(pyVector('POST', PY_POST_SIG, PY_BODY), { nowMs: PY_NOW, lookup }).ok).toBe(true);
    expect(verifyAkSk(pyVector('POST', PY_POST_SIG, Buffer.from(PY_BODY)), { nowMs: PY_NOW, lookup }).ok).toBe(true);
  });

  it('rejects a one-character change of the signature', () => {
    expect(verifyAkSk(goVector(flip(GO_SIG)), { nowMs: GO_NOW, lookup })).toMatchObject({ ok: false, reason: 'signature mismatch' });
    expect(verifyAkSk(pyVector('GET', flip(PY_GET_SIG)), { nowMs: PY_NOW, lookup }).ok).toBe(false);
    expect(verifyAkSk(pyVector('POST', flip(PY_POST_SIG), PY_BODY), { nowMs: PY_NOW, lookup }).ok).toBe(false);
  });

  it('rejects a one-character change of what was signed (path, query, body, method, host)', () => {
    const ctx = { nowMs: PY_NOW, lookup };
    expect(verifyAkSk({ ...goVector(), path: '/patH' }, { nowMs: GO_NOW, lookup }).ok).toBe(false);
    expect(verifyAkSk({ ...goVector(), query: 'limit=2' }, { nowMs: GO_NOW, lookup }).ok).toBe(false);
    expect(verifyAkSk(pyVector('POST', PY_POST_SIG, PY_BODY.replace('1', '2')), ctx).ok).toBe(false);
    expect(verifyAkSk(pyVector('GET', PY_POST_SIG), ctx).ok).toBe(false);
    const v = pyVector('GET', PY_GET_SIG);
    expect(verifyAkSk({ ...v, headers: { ...v.headers, host: 'service.endpoint.myhuaweicloud.con' } }, ctx).ok).toBe(false);
  });

  it('accepts the Go vector with a trailing slash in the path and an unsigned extra header', () => {
    const v = goVector();
    expect(verifyAkSk({ ...v, path: '/path/', headers: { ...v.headers, 'x-extra': 'free' } }, { nowMs: GO_NOW, lookup }).ok).toBe(true);
  });
});

describe('verifyAkSk rules around the signature', () => {
  it('refuses an unknown AK and a malformed Authorization header', () => {
    const v = goVector();
    expect(verifyAkSk({ ...v, headers: { ...v.headers, authorization: auth('x-sdk-date', GO_SIG, 'Other') } }, { nowMs: GO_NOW, lookup })).toMatchObject({ ok: false, ak: 'Other', reason: 'unknown AK' });
    expect(verifyAkSk({ ...v, headers: { ...v.headers, authorization: 'Bearer x' } }, { nowMs: GO_NOW, lookup })).toMatchObject({ ok: false, ak: undefined });
  });

  it('refuses X-Sdk-Date more than 15 minutes from now, either way, and accepts within', () => {
    const min = 60_000;
    expect(verifyAkSk(goVector(), { nowMs: GO_NOW + 14 * min, lookup }).ok).toBe(true);
    expect(verifyAkSk(goVector(), { nowMs: GO_NOW - 14 * min, lookup }).ok).toBe(true);
    expect(verifyAkSk(goVector(), { nowMs: GO_NOW + 16 * min, lookup }).ok).toBe(false);
    expect(verifyAkSk(goVector(), { nowMs: GO_NOW - 16 * min, lookup }).ok).toBe(false);
  });

  it('requires x-sdk-date to be signed', () => {
    const v = pyVector('GET', PY_GET_SIG);
    const headers = { ...v.headers, authorization: auth('host', PY_GET_SIG) };
    expect(verifyAkSk({ ...v, headers }, { nowMs: PY_NOW, lookup })).toMatchObject({ reason: 'x-sdk-date is not signed' });
  });

  it('requires a configured security token to be sent and signed', () => {
    const withToken = (ak: string): AkSkCredential | undefined => (ak === 'AccessKey' ? { ...CRED, securityToken: 'sts' } : undefined);
    expect(verifyAkSk(goVector(), { nowMs: GO_NOW, lookup: withToken })).toMatchObject({ ok: false, reason: 'X-Security-Token missing or wrong' });
    const v = goVector();
    const sent = { ...v, headers: { ...v.headers, 'x-security-token': 'sts' } };
    expect(verifyAkSk(sent, { nowMs: GO_NOW, lookup: withToken })).toMatchObject({ ok: false, reason: 'X-Security-Token is not signed' });
  });

  it('requires X-Project-Id, when sent, to match the project in the path', () => {
    const v = goVector();
    const sent = { ...v, headers: { ...v.headers, 'x-project-id': 'p1' } };
    expect(verifyAkSk(sent, { nowMs: GO_NOW, lookup, projectId: 'p2' })).toMatchObject({ ok: false });
    expect(verifyAkSk(sent, { nowMs: GO_NOW, lookup, projectId: 'p1' }).ok).toBe(true);
  });
});

describe('canonical pieces', () => {
  it('encodes path segments and always ends the URI with a slash', () => {
    expect(canonicalUri('/v2/p/tasks')).toBe('/v2/p/tasks/');
    expect(canonicalUri('/')).toBe('/');
    expect(canonicalUri('/a%20b/c~d/%E4%B8%AD')).toBe('/a%20b/c~d/%E4%B8%AD/');
    expect(canonicalUri('/a b/x*y')).toBe('/a%20b/x%2Ay/');
  });

  it('sorts keys, and values within a key, and encodes them', () => {
    expect(canonicalQuery('offset=0&limit=10&status=5')).toBe('limit=10&offset=0&status=5');
    expect(canonicalQuery('b=2&a=z&a=y&c')).toBe('a=y&a=z&b=2&c=');
    expect(canonicalQuery('q=a%2Fb&r=a+b')).toBe('q=a%2Fb&r=a%20b');
    expect(canonicalQuery('')).toBe('');
  });

  it('parses X-Sdk-Date strictly', () => {
    expect(parseSdkDate('20060102T150405Z')).toBe(GO_NOW);
    expect(parseSdkDate('2006-01-02T15:04:05Z')).toBeUndefined();
    expect(parseSdkDate('20060230T150405Z')).toBeUndefined();
  });
});

describe('AkLockout', () => {
  it('locks an AK after 5 consecutive failures for 5 minutes; a success resets the count', () => {
    let now = 1_000_000;
    const listed: string[] = [];
    const lockout = new AkLockout(() => now, listed);
    for (let i = 0; i < 4; i++) lockout.recordFailure('ak');
    lockout.recordSuccess('ak');
    for (let i = 0; i < 4; i++) lockout.recordFailure('ak');
    expect(lockout.isLocked('ak')).toBe(false);
    lockout.recordFailure('ak');
    expect(lockout.isLocked('ak')).toBe(true);
    expect(listed).toEqual(['ak']);
    now += LOCK_MS - 1;
    expect(lockout.isLocked('ak')).toBe(true);
    now += 1;
    expect(lockout.isLocked('ak')).toBe(false);
    expect(listed).toEqual([]);
  });
});
