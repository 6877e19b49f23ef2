import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { canonicalUri, formatSdkDate, hmacSha256Hex, signRequest, SigningError } from '../../lib/auth/signer.js';

const creds = { ak: 'AccessKey', sk: 'SecretKey' };
const signatureOf = (authorization: string) => /Signature=([0-9a-f]{64})$/.exec(authorization)?.[1];

// Independent reference, written straight from Huawei's published algorithm with node:crypto; it shares no code with the signer.
const hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
function expectedSignature(canonicalRequest: string, sdkDate: string, sk: string): string {
  const toSign = ['SDK-HMAC-SHA256', sdkDate, hex(canonicalRequest)].join('\n');
  return createHmac('sha256', sk).update(toSign, 'utf8').digest('hex');
}

describe('published vectors', () => {
  it('Go SDK: GET with only x-sdk-date signed', () => {
    const r = signRequest(
      { method: 'GET', url: 'https://example.huaweicloud.com/path?limit=1', headers: { 'X-Sdk-Date': '20060102T150405Z' }, body: '' },
      creds,
      ['x-sdk-date'],
    );
    expect(signatureOf(r.authorization)).toBe('5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624');
    expect(r.authorization).toBe(
      'SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624',
    );
    expect(r.canonicalRequest).toBe(`GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n${hex('')}`);
  });

  const python = {
    url: 'https://service.endpoint.myhuaweicloud.com/resources?size=1',
    headers: { Host: 'service.endpoint.myhuaweicloud.com', 'X-Sdk-Date': '20200608T023900Z' },
  };

  it('Python SDK: GET signing host;x-sdk-date', () => {
    const r = signRequest({ method: 'GET', ...python, body: '' }, creds, ['host', 'x-sdk-date']);
    expect(r.signedHeaders).toBe('host;x-sdk-date');
    expect(signatureOf(r.authorization)).toBe('cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842');
  });

  it('Python SDK: POST with a JSON body', () => {
    const r = signRequest({ method: 'POST', ...python, body: '{"name":"test","id":1}' }, creds, ['host', 'x-sdk-date']);
    expect(signatureOf(r.authorization)).toBe('436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f');
  });

  it('the body may be given as bytes', () => {
    const body = new TextEncoder().encode('{"name":"test","id":1}');
    const r = signRequest({ method: 'POST', ...python, body }, creds, ['host', 'x-sdk-date']);
    expect(signatureOf(r.authorization)).toBe('436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f');
  });
});

describe('own vectors (expected values computed independently)', () => {
  const date = '20240301T101112Z';
  const baseHeaders = { Host: 'oms.cn-north-4.myhuaweicloud.com', 'X-Sdk-Date': date };
  const headerBlock = `host:oms.cn-north-4.myhuaweicloud.com\nx-sdk-date:${date}\n`;

  it('query with several keys and repeated keys: keys sorted, values sorted within a key', () => {
    const url = 'https://oms.cn-north-4.myhuaweicloud.com/v2/p1/tasks?offset=0&status=5&limit=100&status=3&a=z&a=b';
    const r = signRequest({ method: 'GET', url, headers: baseHeaders, body: '' }, creds);
    const canonical = ['GET', '/v2/p1/tasks/', 'a=b&a=z&limit=100&offset=0&status=3&status=5', headerBlock, 'host;x-sdk-date', hex('')].join('\n');
    expect(r.canonicalRequest).toBe(canonical);
    expect(signatureOf(r.authorization)).toBe(expectedSignature(canonical, date, 'SecretKey'));
  });

  it('path and query characters that need encoding: space, slash, *, ~, unicode', () => {
    // Path segment "a b*~é" (é = C3 A9), a segment holding an escaped slash, and an already-escaped segment.
    const url = 'https://oms.cn-north-4.myhuaweicloud.com/v2/a b*~é/x%2Fy/%7Etilde?name=a b/c*~é&sp=x+y&k%20ey=1&empty=';
    const r = signRequest({ method: 'GET', url, headers: baseHeaders, body: '' }, creds);
    const canonicalPath = '/v2/a%20b%2A~%C3%A9/x%2Fy/~tilde/';
    const canonicalQueryString = 'empty=&k%20ey=1&name=a%20b%2Fc%2A~%C3%A9&sp=x%20y';
    const canonical = ['GET', canonicalPath, canonicalQueryString, headerBlock, 'host;x-sdk-date', hex('')].join('\n');
    expect(r.canonicalRequest).toBe(canonical);
    expect(signatureOf(r.authorization)).toBe(expectedSignature(canonical, date, 'SecretKey'));
  });

  it('JSON body, content-type and x-project-id signed, values trimmed, names lowercased', () => {
    const body = JSON.stringify({ name: 'tâche', ids: ['191297407830872'] });
    const headers = { ...baseHeaders, 'Content-Type': ' application/json ', 'X-Project-Id': 'p1' };
    const url = 'https://oms.cn-north-4.myhuaweicloud.com/v2/p1/tasks/191297407830872/stop';
    const r = signRequest({ method: 'post', url, headers, body }, { ak: 'AK1', sk: 'sk-2' });
    const bodyHash = createHash('sha256').update(Buffer.from(body, 'utf8')).digest('hex');
    const canonical = [
      'POST',
      '/v2/p1/tasks/191297407830872/stop/',
      '',
      `content-type:application/json\n${headerBlock.replace('x-sdk-date', 'x-project-id:p1\nx-sdk-date')}`,
      'content-type;host;x-project-id;x-sdk-date',
      bodyHash,
    ].join('\n');
    expect(r.canonicalRequest).toBe(canonical);
    expect(r.stringToSign).toBe(`SDK-HMAC-SHA256\n${date}\n${hex(canonical)}`);
    expect(r.authorization).toBe(
      `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=${expectedSignature(canonical, date, 'sk-2')}`,
    );
  });

  it('root path canonicalises to /', () => {
    expect(canonicalUri('/')).toBe('/');
    expect(canonicalUri('')).toBe('/');
    expect(canonicalUri('/a/')).toBe('/a/');
  });
});

describe('errors and dates', () => {
  it('refuses to sign without x-sdk-date or with a signed header that is not set', () => {
    const req = { method: 'GET', url: 'https://h/x', headers: { Host: 'h' }, body: '' };
    expect(() => signRequest(req, creds)).toThrow(SigningError);
    const withDate = { ...req, headers: { 'X-Sdk-Date': '20240101T000000Z' } };
    expect(() => signRequest(withDate, creds, ['x-sdk-date', 'host'])).toThrow('signed header host is not set');
  });

  it('formats X-Sdk-Date in UTC', () => {
    expect(formatSdkDate(new Date(Date.UTC(2006, 0, 2, 15, 4, 5, 999)))).toBe('20060102T150405Z');
    // Cut from toISOString without regular expressions: the same text as removing its separators and milliseconds.
    fc.assert(
      fc.property(fc.date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)), noInvalidDate: true }), (date) => {
        expect(formatSdkDate(date)).toBe(date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, ''));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the signer against a plain reference (property)', () => {
  // The algorithm as Huawei's SDKs write it, in the plainest form: a Map of lowercased names, a Set, a sort by UTF-8
  // bytes, every path segment decoded and re-encoded. The signer takes shortcuts (a plain path is its own form, the
  // names kept sorted as they come); on generated requests both must give the same canonical request and signature.
  const encode = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  function reference(method: string, path: string, headers: Record<string, string>, names: string[]): string {
    const lower = new Map(Object.entries(headers).map(([n, v]) => [n.toLowerCase(), v]));
    const signed = [...new Set(names.map((n) => n.toLowerCase()))].sort(byBytes);
    const uri = path.split('/').map((s) => encode(decode(s))).join('/');
    return [method, uri.endsWith('/') ? uri : `${uri}/`, '', signed.map((n) => `${n}:${lower.get(n)!.trim()}\n`).join(''), signed.join(';'), hex('')].join('\n');
  }

  it('gives the reference canonical request and signature', () => {
    const segment = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9\-_.~]{0,12}$/),
      fc.constantFrom('a b', '%2F', '%41', '%zz', '100%', 'é', '中', '*', '+', "'", '%E4%B8%AD'),
    );
    const path = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => `/${segments.join('/')}`);
    const name = fc.constantFrom('Host', 'host', 'X-Project-Id', 'x-project-id', 'Content-Type', 'X-Security-Token', 'x-a', 'X-B', 'ä-x', 'zz');
    const headers = fc.dictionary(name, fc.stringMatching(/^ ?[ -~]{1,12} ?$/), { maxKeys: 6 });
    fc.assert(
      fc.property(fc.constantFrom('GET', 'DELETE', 'POST', 'PUT'), path, headers, fc.array(name, { maxLength: 6 }), (method, p, extra, picked) => {
        const all: Record<string, string> = { ...extra, 'X-Sdk-Date': '20240301T101112Z' };
        // Only names the request has (in any case), with x-sdk-date, in any order and repeated.
        const present = new Set(Object.keys(all).map((n) => n.toLowerCase()));
        const names = [...picked.filter((n) => present.has(n.toLowerCase())), 'x-sdk-date', ...picked.slice(0, 1).filter((n) => present.has(n.toLowerCase()))];
        // Two spellings of one name in the request: the signer and the reference both keep the later one.
        const r = signRequest({ method, url: `https://h${p}`, headers: all, body: '' }, creds, names);
        const canonical = reference(method, new URL(`https://h${p}`).pathname, all, names);
        expect(r.canonicalRequest).toBe(canonical);
        expect(signatureOf(r.authorization)).toBe(expectedSignature(canonical, '20240301T101112Z', creds.sk));
      }),
      { seed: 1919, numRuns: 2000 },
    );
  });
});

describe('HMAC-SHA256 over the one-shot hash', () => {
  it("is node:crypto's createHmac for any key and message (property)", () => {
    // Keys shorter than, as long as and longer than SHA-256's 64-byte block (a long key is hashed first), in UTF-8.
    const key = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('', 'k'.repeat(64), 'k'.repeat(65), 'é'.repeat(32), 'é'.repeat(33)));
    fc.assert(
      fc.property(key, fc.string({ unit: 'grapheme', maxLength: 300 }), (sk, message) => {
        const credentials = { ak: 'AK', sk };
        expect(hmacSha256Hex(credentials, message)).toBe(createHmac('sha256', sk).update(message, 'utf8').digest('hex'));
        // A second signature with the same credentials object uses its kept pads; a changed SK gets new ones.
        const changed = { ak: 'AK', sk: 'one' };
        hmacSha256Hex(changed, message);
        changed.sk = sk;
        expect(hmacSha256Hex(changed, message)).toBe(createHmac('sha256', sk).update(message, 'utf8').digest('hex'));
        expect(hmacSha256Hex(credentials, `${message}.`)).toBe(createHmac('sha256', sk).update(`${message}.`, 'utf8').digest('hex'));
      }),
      { seed: 2104, numRuns: 3000 },
    );
  });
});
