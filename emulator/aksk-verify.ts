import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AkSkCredential } from './types.js';

/**
 * Server-side verification of Huawei's SDK-HMAC-SHA256 (AK/SK) signatures, written from the algorithm in
 * Huawei's API reference rather than from the client's signer, so that one shared misreading cannot hide in both.
 * Pure: the clock and the credential store come in as arguments.
 */

export const ALGORITHM = 'SDK-HMAC-SHA256';
/** How far X-Sdk-Date may be from the server's clock, either way. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** The parts of an incoming request that a signature covers, as they arrived on the wire. */
export interface SignedRequestParts {
  method: string;
  /** The path as received (still percent-encoded), without the query. */
  path: string;
  /** The raw query string without '?'; '' when none. */
  query: string;
  /** Header name (any case) -> value. */
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array | string;
}

export interface VerifyContext {
  nowMs: number;
  lookup(ak: string): AkSkCredential | undefined;
  /** The project in the path; an X-Project-Id header, when sent, must equal it. */
  projectId?: string;
}

export type VerifyResult = { ok: true; ak: string } | { ok: false; ak: string | undefined; reason: string };

export interface ParsedAuthorization {
  ak: string;
  signedHeaders: string[];
  signature: string;
}

/** `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`, or undefined when it is not that shape. */
export function parseAuthorization(value: string | undefined): ParsedAuthorization | undefined {
  if (value === undefined || !value.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const ak = fields.get('Access');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!ak || !signed || !signature) return undefined;
  return { ak, signedHeaders: signed.split(';').map((h) => h.trim().toLowerCase()), signature: signature.toLowerCase() };
}

/** Percent-encodes all but A-Z a-z 0-9 - _ . ~ (uppercase hex), over the UTF-8 bytes. */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes a wire component; a malformed escape is kept as it is rather than refusing the request outright. */
function decode(text: string, plusIsSpace: boolean): string {
  const t = plusIsSpace ? text.replace(/\+/g, ' ') : text;
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}

/** Each segment decoded then re-encoded the signer's way; the URI always ends with '/'. */
export function canonicalUri(rawPath: string): string {
  const uri = rawPath.split('/').map((segment) => percentEncode(decode(segment, false))).join('/');
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** Keys sorted, values sorted within a key (both compared decoded), each `k=v` encoded, joined by '&'. */
export function canonicalQuery(rawQuery: string): string {
  const byKey = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq), true);
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1), true);
    const values = byKey.get(key) ?? [];
    values.push(value);
    byKey.set(key, values);
  }
  const keys = [...byKey.keys()].sort(compareCodeUnits);
  return keys
    .flatMap((key) => (byKey.get(key) ?? []).sort(compareCodeUnits).map((v) => `${percentEncode(key)}=${percentEncode(v)}`))
    .join('&');
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerHeaders(headers: SignedRequestParts['headers']): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(name.toLowerCase(), Array.isArray(value) ? value.join(',') : value);
  }
  return map;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The six lines of the canonical request; throws RangeError naming a signed header that was not sent. */
export function canonicalRequest(req: SignedRequestParts, signedHeaders: readonly string[]): string {
  const headers = lowerHeaders(req.headers);
  const names = [...signedHeaders].sort(compareCodeUnits);
  const canonicalHeaders = names
    .map((name) => {
      const value = headers.get(name);
      if (value === undefined) throw new RangeError(`signed header ${name} was not sent`);
      return `${name}:${value.trim()}\n`;
    })
    .join('');
  return [req.method.toUpperCase(), canonicalUri(req.path), canonicalQuery(req.query), canonicalHeaders, names.join(';'), sha256Hex(req.body)].join('\n');
}

export function stringToSign(sdkDate: string, canonical: string): string {
  return `${ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

export function signatureHex(sk: string, toSign: string): string {
  return createHmac('sha256', sk).update(toSign).digest('hex');
}

/** `YYYYMMDDTHHMMSSZ` as Unix ms, or undefined when it is not a valid date in exactly that form. */
export function parseSdkDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60 && s < 60 ? ms : undefined;
}

function constantTimeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Verifies one request's signature and the rules around it (date window, security token, project header). */
export function verifyAkSk(req: SignedRequestParts, ctx: VerifyContext): VerifyResult {
  const headers = lowerHeaders(req.headers);
  const auth = parseAuthorization(headers.get('authorization'));
  if (!auth) return { ok: false, ak: undefined, reason: 'malformed Authorization header' };
  const fail = (reason: string): VerifyResult => ({ ok: false, ak: auth.ak, reason });
  const cred = ctx.lookup(auth.ak);
  if (!cred) return fail('unknown AK');
  if (!auth.signedHeaders.includes('x-sdk-date')) return fail('x-sdk-date is not signed');
  const sdkDate = headers.get('x-sdk-date') ?? '';
  const dateMs = parseSdkDate(sdkDate);
  if (dateMs === undefined) return fail('X-Sdk-Date missing or malformed');
  if (Math.abs(ctx.nowMs - dateMs) > MAX_CLOCK_SKEW_MS) return fail('X-Sdk-Date outside the 15 minute window');
  if (cred.securityToken !== undefined) {
    if (headers.get('x-security-token') !== cred.securityToken) return fail('X-Security-Token missing or wrong');
    if (!auth.signedHeaders.includes('x-security-token')) return fail('X-Security-Token is not signed');
  }
  const projectHeader = headers.get('x-project-id');
  if (projectHeader !== undefined && ctx.projectId !== undefined && projectHeader !== ctx.projectId) {
    return fail('X-Project-Id does not match the project in the path');
  }
  let canonical: string;
  try {
    canonical = canonicalRequest(req, auth.signedHeaders);
  } catch (error) {
    return fail((error as Error).message);
  }
  const expected = signatureHex(cred.sk, stringToSign(sdkDate, canonical));
  return constantTimeEqualHex(expected, auth.signature) ? { ok: true, ak: auth.ak } : fail('signature mismatch');
}
