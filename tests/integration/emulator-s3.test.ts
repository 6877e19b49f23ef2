/**
 * The emulator's S3 as the archive uses it, spoken to in raw HTTP where the SDK would hide the wire: aws-chunked
 * bodies with a trailing checksum, HEAD, conditional writes, ListObjectsV2 paging; and through the real S3 client.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { crc32 } from 'node:zlib';
import type { Emulator } from '../../emulator/index.js';
import { emulator } from '../helpers/harness.js';

const SIGV4 = { authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00' };

function crcOf(body: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(body) >>> 0);
  return out.toString('base64');
}

describe('emulator S3', () => {
  let emu: Emulator;
  afterEach(async () => emu?.close());

  it('decodes an aws-chunked body with a trailing CRC32, and refuses one whose checksum or length is wrong', async () => {
    emu = await emulator({ buckets: ['b'] });
    const data = Buffer.from('hello archive, in two chunks');
    const framed = (crc: string, declared = data.length) => ({
      method: 'PUT',
      headers: { ...SIGV4, 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': String(declared), 'x-amz-trailer': 'x-amz-checksum-crc32' },
      body: Buffer.concat([Buffer.from(`a\r\n`), data.subarray(0, 10), Buffer.from(`\r\n${(data.length - 10).toString(16)}\r\n`), data.subarray(10), Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`)]),
    });
    expect((await fetch(`${emu.url}/b/k1`, framed(crcOf(data)))).status).toBe(200);
    expect(emu.s3Objects('b').get('k1')!.body.toString()).toBe(data.toString());
    const bad = await fetch(`${emu.url}/b/k2`, framed('AAAAAA=='));
    expect([bad.status, await bad.text()]).toEqual([400, expect.stringContaining('<Code>BadDigest</Code>')]);
    expect((await fetch(`${emu.url}/b/k3`, framed(crcOf(data), data.length + 1))).status).toBe(400);
    expect(emu.s3Objects('b').has('k2')).toBe(false);
  });

  it('HEAD, conditional writes (If-None-Match: *, If-Match), unknown buckets and keys, ListObjectsV2 pages', async () => {
    emu = await emulator({ buckets: ['b'], deniedBuckets: ['d'] });
    const put = (key: string, body: string, headers: Record<string, string> = {}) => fetch(`${emu.url}/b/${key}`, { method: 'PUT', headers: { ...SIGV4, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers }, body });
    const first = await put('n.json', 'v1', { 'if-none-match': '*' });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect((await put('n.json', 'v2', { 'if-none-match': '*' })).status).toBe(412);
    expect((await put('n.json', 'v2', { 'if-match': '"not-it"' })).status).toBe(412);
    expect((await put('n.json', 'v2', { 'if-match': etag })).status).toBe(200);
    expect((await put('missing.json', 'v', { 'if-match': etag })).status).toBe(404);
    const head = await fetch(`${emu.url}/b/n.json`, { method: 'HEAD', headers: SIGV4 });
    expect([head.status, head.headers.get('content-length')]).toEqual([200, '2']);
    expect((await fetch(`${emu.url}/b/none`, { method: 'HEAD', headers: SIGV4 })).status).toBe(404);
    expect(await (await fetch(`${emu.url}/b/none`, { headers: SIGV4 })).text()).toContain('<Code>NoSuchKey</Code>');
    expect(await (await fetch(`${emu.url}/zz/k`, { headers: SIGV4 })).text()).toContain('<Code>NoSuchBucket</Code>');
    expect((await fetch(`${emu.url}/d/k`, { headers: SIGV4 })).status).toBe(403);
    for (let i = 0; i < 5; i++) await put(`runs/${i}`, 'x');
    const page1 = await (await fetch(`${emu.url}/b?list-type=2&prefix=runs/&max-keys=3`, { headers: SIGV4 })).text();
    expect(page1).toMatch(/<KeyCount>3<\/KeyCount>.*<IsTruncated>true<\/IsTruncated>/);
    const token = /<NextContinuationToken>([^<]+)</.exec(page1)![1]!;
    const page2 = await (await fetch(`${emu.url}/b?list-type=2&prefix=runs/&max-keys=3&continuation-token=${token}`, { headers: SIGV4 })).text();
    expect(page2).toMatch(/<KeyCount>2<\/KeyCount>.*<IsTruncated>false<\/IsTruncated>/);
    expect(page2).toContain('<Key>runs/4</Key>');
  });
});
