import { createHash, createHmac } from 'node:crypto';
import { akskAuthenticator } from '../../lib/auth/aksk.js';

const T = Date.UTC(2024, 2, 1, 10, 11, 12, 345);
const DATE = '20240301T101112Z';
const hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const sign = (canonical: string, sk: string) =>
  createHmac('sha256', sk).update(`SDK-HMAC-SHA256\n${DATE}\n${hex(canonical)}`, 'utf8').digest('hex');

describe('akskAuthenticator', () => {
  it('signs a GET with host (incl. a non-default port), x-sdk-date and x-project-id', async () => {
    const auth = akskAuthenticator({ ak: 'AK1', sk: 'SK1' }, () => T);
    const request = new Request('http://127.0.0.1:8443/v2/p1/tasks?offset=0&limit=100');
    await auth.authorize(request, 'p1');
    expect(request.headers.get('x-sdk-date')).toBe(DATE);
    expect(request.headers.get('x-project-id')).toBe('p1');
    expect(request.headers.has('x-security-token')).toBe(false);
    const canonical = [
      'GET',
      '/v2/p1/tasks/',
      'limit=100&offset=0',
      `host:127.0.0.1:8443\nx-project-id:p1\nx-sdk-date:${DATE}\n`,
      'host;x-project-id;x-sdk-date',
      hex(''),
    ].join('\n');
    expect(request.headers.get('authorization')).toBe(
      `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-project-id;x-sdk-date, Signature=${sign(canonical, 'SK1')}`,
    );
  });

  it('signs the body, content-type and the security token; omits the default port', async () => {
    const auth = akskAuthenticator({ ak: 'AK1', sk: 'SK1', securityToken: 'STS' }, () => T);
    const body = JSON.stringify({ a: 'é' });
    const request = new Request('https://oms.cn-north-4.myhuaweicloud.com:443/v2/p1/tasks/1/stop', {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json' },
    });
    await auth.authorize(request, 'p1');
    expect(request.headers.get('x-security-token')).toBe('STS');
    const canonical = [
      'POST',
      '/v2/p1/tasks/1/stop/',
      '',
      `content-type:application/json\nhost:oms.cn-north-4.myhuaweicloud.com\nx-project-id:p1\nx-sdk-date:${DATE}\nx-security-token:STS\n`,
      'content-type;host;x-project-id;x-sdk-date;x-security-token',
      hex(body),
    ].join('\n');
    expect(request.headers.get('authorization')).toContain(`Signature=${sign(canonical, 'SK1')}`);
    // The body is still readable by fetch after signing.
    expect(await request.text()).toBe(body);
  });

  it('re-signs each attempt with the current time', async () => {
    let now = T;
    const auth = akskAuthenticator({ ak: 'AK1', sk: 'SK1' }, () => now);
    const request = new Request('https://h.example/v2/p1/tasks');
    await auth.authorize(request, 'p1');
    const first = request.headers.get('authorization');
    auth.answered?.(503); // the attempt failed without a verdict on the signature: this retry is the probe again
    now += 1000;
    await auth.authorize(request, 'p1');
    expect(request.headers.get('x-sdk-date')).toBe('20240301T101113Z');
    expect(request.headers.get('authorization')).not.toBe(first);
  });

  it('signs what is sent: the old headers of a retried attempt are replaced, values as the header normalises them', async () => {
    // The signed values are the ones set, trimmed by the signer as Headers trims them: a token with spaces around it
    // is sent and signed without them.
    const auth = akskAuthenticator({ ak: 'AK1', sk: 'SK1', securityToken: ' STS\t' }, () => T);
    const request = new Request('https://h.example/v2/p1/tasks/1', {
      method: 'DELETE',
      headers: { Authorization: 'SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature=0', 'X-Project-Id': 'p0', 'X-Sdk-Date': '20200101T000000Z' },
    });
    await auth.authorize(request, 'p1');
    expect(request.headers.get('x-security-token')).toBe('STS');
    expect(request.headers.get('x-project-id')).toBe('p1');
    const canonical = [
      'DELETE',
      '/v2/p1/tasks/1/',
      '',
      `host:h.example\nx-project-id:p1\nx-sdk-date:${DATE}\nx-security-token:STS\n`,
      'host;x-project-id;x-sdk-date;x-security-token',
      hex(''),
    ].join('\n');
    expect(request.headers.get('authorization')).toBe(
      `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-project-id;x-sdk-date;x-security-token, Signature=${sign(canonical, 'SK1')}`,
    );
  });

  it('an empty project id sends and signs no X-Project-Id', async () => {
    const auth = akskAuthenticator({ ak: 'AK1', sk: 'SK1' }, () => T);
    // A retried attempt carries the last one's headers: an X-Project-Id left there is removed, not sent unsigned.
    const request = new Request('https://h.example/v3/x', { headers: { 'X-Project-Id': 'p0' } });
    await auth.authorize(request, '');
    expect(request.headers.has('x-project-id')).toBe(false);
    expect(request.headers.get('authorization')).toContain('SignedHeaders=host;x-sdk-date,');
  });

  it('refresh never helps: a wrong SK stays wrong and Huawei locks the AK after 5 failures', async () => {
    expect(await akskAuthenticator({ ak: 'AK1', sk: 'SK1' }).refresh('p1', 'APIGW.0301')).toBe(false);
  });

  it('until a signature is accepted only one request is signed; after a refusal none is, in any project', async () => {
    const auth = akskAuthenticator({ ak: 'AK1', sk: 'SK1' }, () => T);
    const signed: string[] = [];
    const sign = (project: string) => auth.authorize(new Request(`https://h.example/v2/${project}/tasks`), project).then(() => signed.push(project));
    const probe = sign('p1');
    const others = [sign('p2'), sign('p3')];
    await probe;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(signed).toEqual(['p1']); // the others wait for the probe's answer
    expect(await auth.refresh('p1', 'APIGW.0301')).toBe(false);
    const results = await Promise.allSettled(others);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/AuthError.*APIGW\.0301/);
    expect(String((results[0] as PromiseRejectedResult).reason)).not.toContain('SK1');
    await expect(sign('p4')).rejects.toThrow(/refused its signature/);
  });

  it('a probe that fails before it is sent lets the next request be the probe (no request waits forever)', async () => {
    const auth = akskAuthenticator({ ak: 'AK1', sk: 'SK1' }, () => T);
    const broken = new ReadableStream({ start: (c) => c.error(new Error('body unreadable')) });
    // As a retried attempt would, it carries the last attempt's signature: not left on it.
    const headers = { Authorization: 'SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature=0' };
    const bad = new Request('https://h.example/v2/p1/tasks/1/stop', { method: 'POST', body: broken, duplex: 'half', headers } as RequestInit);
    await expect(auth.authorize(bad, 'p1')).rejects.toThrow(/body unreadable/);
    expect(bad.headers.has('authorization')).toBe(false);
    const next = new Request('https://h.example/v2/p1/tasks');
    await auth.authorize(next, 'p1');
    expect(next.headers.get('authorization')).toMatch(/^SDK-HMAC-SHA256 /);
  });

  it('a 404 proves nothing about the signature (routing may answer before the check); a 403 does', async () => {
    const auth = akskAuthenticator({ ak: 'AK1', sk: 'SK1' }, () => T);
    await auth.authorize(new Request('https://h.example/v2/p1/tasks'), 'p1');
    auth.answered?.(404);
    await auth.authorize(new Request('https://h.example/v2/p1/tasks'), 'p1'); // the next probe
    let second = false;
    const waiting = auth.authorize(new Request('https://h.example/v2/p2/tasks'), 'p2').then(() => (second = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(second).toBe(false);
    auth.answered?.(403);
    await waiting;
    expect(second).toBe(true);
  });

  it('once a signature is accepted, requests are signed concurrently', async () => {
    const auth = akskAuthenticator({ ak: 'AK1', sk: 'SK1' }, () => T);
    await auth.authorize(new Request('https://h.example/v2/p1/tasks'), 'p1');
    auth.answered?.(200);
    await Promise.all(['p2', 'p3', 'p4'].map((p) => auth.authorize(new Request(`https://h.example/v2/${p}/tasks`), p)));
  });
});
