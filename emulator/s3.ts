import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Exchange } from './http-util.js';
import { headerValue } from './http-util.js';
import { bump } from './stats.js';

/**
 * Amazon S3 as @aws-sdk/client-s3 speaks it with path-style addressing (`forcePathStyle`, which the janitor sets when
 * AWS_ENDPOINT_URL_S3 is set): PutObject, GetObject, HeadObject and ListObjectsV2, with the behaviour the archive
 * relies on, as the S3 API reference documents it:
 * - PutObject with `If-None-Match: *` fails 412 PreconditionFailed when the key exists, and with `If-Match: "etag"`
 *   when the object's ETag differs (S3 conditional writes, "Conditional requests" in the S3 user guide);
 * - an `aws-chunked` body (`Content-Encoding: aws-chunked`, `x-amz-content-sha256: STREAMING-…`) is decoded, and its
 *   length must be `x-amz-decoded-content-length`;
 * - a `x-amz-checksum-crc32` value (header or trailer) must match the body, else 400 BadDigest;
 * - an unknown bucket is 404 NoSuchBucket, an unknown key 404 NoSuchKey; ListObjectsV2 returns keys in UTF-8 binary
 *   order, at most `max-keys` (default 1000) per page with a continuation token.
 */
export interface S3Object {
  body: Buffer;
  etag: string;
  lastModified: Date;
  contentType: string;
}

/** An injected fault, on every call or (`keyPrefix`) only on objects whose key starts so, such as `prod/runs/`. */
export type S3Fault = ({ kind: 'error'; status: number; code: string; message: string } | { kind: 'hang' }) & { keyPrefix?: string };

/** The buckets the emulator serves (created up front), those that refuse every call (403), and an injected fault. */
export class S3Buckets {
  private readonly buckets = new Map<string, Map<string, S3Object>>();
  private readonly denied: Set<string>;
  fault: S3Fault | undefined;

  constructor(buckets: readonly string[] = [], denied: readonly string[] = []) {
    for (const name of buckets) this.buckets.set(name, new Map());
    this.denied = new Set(denied);
  }

  bucket(name: string): Map<string, S3Object> | undefined {
    return this.buckets.get(name);
  }

  isDenied(name: string): boolean {
    return this.denied.has(name);
  }

  /** Every object of a bucket, by key (for tests). */
  objects(name: string): ReadonlyMap<string, S3Object> {
    return this.buckets.get(name) ?? new Map();
  }
}

/** S3 calls carry SigV4 for the `s3` service or the payload hash header that S3 requires. */
export function isS3Request(ex: Exchange): boolean {
  const auth = headerValue(ex.req, 'authorization') ?? '';
  return headerValue(ex.req, 'x-amz-content-sha256') !== undefined || /\/s3\/aws4_request/.test(auth);
}

export function handleS3(ex: Exchange, s3: S3Buckets): void {
  const [, bucketName = '', ...rest] = ex.url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const fault = s3.fault && (s3.fault.keyPrefix === undefined || (key !== '' && key.startsWith(s3.fault.keyPrefix))) ? s3.fault : undefined;
  if (fault?.kind === 'hang') return;
  if (fault?.kind === 'error') return sendError(ex, fault.status, fault.code, fault.message);
  if (s3.isDenied(bucketName)) return sendError(ex, 403, 'AccessDenied', 'Access Denied');
  const bucket = s3.bucket(bucketName);
  if (bucket === undefined) return sendError(ex, 404, 'NoSuchBucket', 'The specified bucket does not exist');
  const method = ex.req.method ?? '';
  if (key === '' && method === 'GET') {
    bump(ex.stats.calls, 's3-list');
    return listObjects(ex, bucketName, bucket);
  }
  if (key === '') return sendError(ex, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  if (method === 'PUT') {
    bump(ex.stats.calls, 's3-put');
    return putObject(ex, bucket, key);
  }
  if (method === 'GET' || method === 'HEAD') {
    bump(ex.stats.calls, method === 'GET' ? 's3-get' : 's3-head');
    const object = bucket.get(key);
    if (object === undefined) return method === 'HEAD' ? sendRaw(ex, 404, Buffer.alloc(0), {}) : sendError(ex, 404, 'NoSuchKey', 'The specified key does not exist.');
    const headers = { ETag: object.etag, 'Last-Modified': object.lastModified.toUTCString(), 'Content-Type': object.contentType, 'Content-Length': String(object.body.length) };
    return sendRaw(ex, 200, method === 'GET' ? object.body : Buffer.alloc(0), headers);
  }
  sendError(ex, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
}

function putObject(ex: Exchange, bucket: Map<string, S3Object>, key: string): void {
  const decoded = decodeBody(ex);
  if ('error' in decoded) return sendError(ex, 400, decoded.error.code, decoded.error.message);
  const { body, trailers } = decoded;
  const checksum = headerValue(ex.req, 'x-amz-checksum-crc32') ?? trailers.get('x-amz-checksum-crc32');
  if (checksum !== undefined && checksum !== crc32Base64(body)) return sendError(ex, 400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
  const existing = bucket.get(key);
  const ifNoneMatch = headerValue(ex.req, 'if-none-match');
  const ifMatch = headerValue(ex.req, 'if-match');
  if (ifNoneMatch === '*' && existing !== undefined) return sendError(ex, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  if (ifMatch !== undefined && existing?.etag !== ifMatch) {
    return existing === undefined
      ? sendError(ex, 404, 'NoSuchKey', 'The specified key does not exist.')
      : sendError(ex, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  }
  const etag = `"${createHash('md5').update(body).digest('hex')}"`;
  bucket.set(key, { body, etag, lastModified: new Date(), contentType: headerValue(ex.req, 'content-type') ?? 'binary/octet-stream' });
  sendRaw(ex, 200, Buffer.alloc(0), { ETag: etag });
}

/** The object's bytes: the body as sent, or decoded from aws-chunked framing (with its trailers). */
function decodeBody(ex: Exchange): { body: Buffer; trailers: Map<string, string> } | { error: { code: string; message: string } } {
  const encoding = headerValue(ex.req, 'content-encoding') ?? '';
  const sha = headerValue(ex.req, 'x-amz-content-sha256') ?? '';
  const trailers = new Map<string, string>();
  if (!encoding.split(',').some((e) => e.trim() === 'aws-chunked') && !sha.startsWith('STREAMING-')) return { body: ex.body, trailers };
  const raw = ex.body;
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) return { error: { code: 'IncompleteBody', message: 'aws-chunked body ended inside a chunk header' } };
    const size = Number.parseInt(raw.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0) return { error: { code: 'InvalidRequest', message: 'malformed aws-chunked chunk size' } };
    at = lineEnd + 2;
    if (size === 0) break;
    if (at + size + 2 > raw.length) return { error: { code: 'IncompleteBody', message: 'aws-chunked body ended inside a chunk' } };
    parts.push(raw.subarray(at, at + size));
    at += size + 2;
  }
  // Trailers, one per line, then an empty line (or the end).
  for (const line of raw.subarray(at).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = Buffer.concat(parts);
  const declared = headerValue(ex.req, 'x-amz-decoded-content-length');
  if (declared !== undefined && Number(declared) !== body.length) {
    return { error: { code: 'IncompleteBody', message: `x-amz-decoded-content-length says ${declared}, the chunks hold ${body.length}` } };
  }
  return { body, trailers };
}

function listObjects(ex: Exchange, bucketName: string, bucket: Map<string, S3Object>): void {
  const q = ex.url.searchParams;
  if (q.get('list-type') !== '2') return sendError(ex, 400, 'InvalidArgument', 'The emulator serves ListObjectsV2 only (list-type=2).');
  const prefix = q.get('prefix') ?? '';
  const maxKeys = Math.min(1000, Math.max(1, Number(q.get('max-keys') ?? 1000) || 1000));
  const after = q.get('continuation-token') ? Buffer.from(q.get('continuation-token')!, 'base64url').toString('utf8') : (q.get('start-after') ?? '');
  const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const page = keys.slice(0, maxKeys);
  const truncated = keys.length > page.length;
  const contents = page
    .map((k) => {
      const o = bucket.get(k)!;
      return `<Contents><Key>${xml(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xml(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    })
    .join('');
  const next = truncated ? `<NextContinuationToken>${Buffer.from(page[page.length - 1]!).toString('base64url')}</NextContinuationToken>` : '';
  const body =
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucketName)}</Name><Prefix>${xml(prefix)}</Prefix>` +
    `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`;
  sendRaw(ex, 200, Buffer.from(body), { 'Content-Type': 'application/xml' });
}

function crc32Base64(body: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(body) >>> 0);
  return out.toString('base64');
}

function sendError(ex: Exchange, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xml(message)}</Message><RequestId>${ex.requestId}</RequestId></Error>`;
  sendRaw(ex, status, ex.req.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(body), { 'Content-Type': 'application/xml' });
}

function sendRaw(ex: Exchange, status: number, body: Buffer, headers: Record<string, string>): void {
  const { res } = ex;
  if (res.headersSent || res.destroyed) return;
  bump(ex.stats.byStatus, String(status));
  res.statusCode = status;
  res.setHeader('x-amz-request-id', ex.requestId);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(body);
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
