import { hash } from 'node:crypto';

/**
 * Huawei Cloud's SDK-HMAC-SHA256 (AK/SK) request signing, as the official SDKs sign (their signer sources and
 * published test vectors). Pure: no clock, no I/O; the caller puts X-Sdk-Date (and friends) into `headers` first.
 */

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

export interface SignInput {
  method: string;
  /** Absolute URL as it will be sent (or it parsed); existing percent-escapes are decoded before canonical re-encoding. */
  url: string | URL;
  /** Header name (any case) -> value. Must contain X-Sdk-Date. */
  headers: Record<string, string>;
  /** The exact bytes sent; a string is hashed as UTF-8. Empty for no body. */
  body: string | Uint8Array;
}

export interface SigningCredentials {
  ak: string;
  sk: string;
}

export interface SignResult {
  /** The whole Authorization header value. */
  authorization: string;
  /** Lowercase, sorted, `;`-joined. */
  signedHeaders: string;
  canonicalRequest: string;
  stringToSign: string;
}

export class SigningError extends Error {
  override name = 'SigningError';
  constructor(
    message: string,
    readonly header?: string,
  ) {
    super(message);
  }
}

/** `YYYYMMDDTHHMMSSZ` in UTC, the X-Sdk-Date format (cut from toISOString: `YYYY-MM-DDTHH:MM:SS.sssZ`). */
export function formatSdkDate(date: Date): string {
  const iso = date.toISOString();
  if (iso.length !== 24) return iso.replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, ''); // a year beyond 9999: the general way
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

const UNRESERVED_ONLY = /^[A-Za-z0-9\-_.~]*$/;
/** Unreserved characters and slashes only: every segment is unreserved, with no escape to decode. */
const PLAIN_PATH = /^[A-Za-z0-9\-_.~/]*$/;
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Percent-encodes the UTF-8 bytes of `text`, leaving only A-Z a-z 0-9 - _ . ~ as they are; uppercase hex. */
export function percentEncode(text: string): string {
  if (UNRESERVED_ONLY.test(text)) return text; // the usual case (path segments, ids): nothing to encode
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const unreserved =
      (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) ||
      byte === 0x2d || byte === 0x5f || byte === 0x2e || byte === 0x7e;
    out += unreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** decodeURIComponent that keeps a malformed escape as written instead of throwing. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Each segment of the (still escaped) path is decoded, then re-encoded; the result always ends with '/'.
 * Splitting before decoding keeps an escaped slash (%2F) inside its segment.
 */
export function canonicalUri(rawPath: string): string {
  // The usual path (/v2/<project>/tasks/<id>): nothing decodes and nothing needs encoding, so it is its own form.
  if (PLAIN_PATH.test(rawPath)) return rawPath.endsWith('/') ? rawPath : `${rawPath}/`;
  const uri = rawPath.split('/').map((segment) => percentEncode(safeDecode(segment))).join('/');
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** Code point order, as Go's and Python's string sorts (byte / code point) order the SDKs' keys. */
function compareCodePoints(a: string, b: string): number {
  // ASCII strings order the same by UTF-16 code unit as by byte: no need to encode them.
  if (ASCII_ONLY.test(a) && ASCII_ONLY.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Keys sorted, values sorted within a key (compared decoded), `k=v` with both encoded, joined by '&'.
 * The query is read as application/x-www-form-urlencoded (as URLSearchParams and the SDKs do: '+' is a space).
 */
export function canonicalQuery(search: string): string {
  if (search === '' || search === '?') return ''; // a delete's, a pause's, a show's: no query at all
  const byKey = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(search)) {
    const values = byKey.get(key);
    if (values) values.push(value);
    else byKey.set(key, [value]);
  }
  return [...byKey.keys()]
    .sort(compareCodePoints)
    .flatMap((key) => (byKey.get(key) ?? []).sort(compareCodePoints).map((v) => `${percentEncode(key)}=${percentEncode(v)}`))
    .join('&');
}

/** Hex SHA-256 of the empty body (most requests: list, show, delete, pause), computed once. */
const EMPTY_SHA256 = hash('sha256', '', 'hex');

/** Node's one-shot hash (every Node this runs on, 20.19 and later): about half the time of createHash. */
function sha256Hex(data: string | Uint8Array): string {
  if (data.length === 0) return EMPTY_SHA256;
  return hash('sha256', data, 'hex');
}

/** SHA-256's block: a longer HMAC key is hashed first, a shorter one padded with zeros to it (RFC 2104). */
const BLOCK_BYTES = 64;
/** The HMAC pads of each credentials object's SK (made again if its `sk` changes), gone with the object. */
const padsOf = new WeakMap<SigningCredentials, { sk: string; inner: Uint8Array; outer: Uint8Array }>();

/**
 * HMAC-SHA256 (RFC 2104: H((K ^ opad) || H((K ^ ipad) || message))) over Node's one-shot hash, the key's pads made
 * once per credentials object. createHmac sets up OpenSSL's HMAC again for every signature: about 6 us a request
 * in a purge, more than the two hashes. Checked against createHmac on generated keys and messages (auth-signer tests).
 */
export function hmacSha256Hex(credentials: SigningCredentials, message: string): string {
  let pads = padsOf.get(credentials);
  if (pads === undefined || pads.sk !== credentials.sk) {
    const raw = Buffer.from(credentials.sk, 'utf8');
    const key = Buffer.alloc(BLOCK_BYTES);
    (raw.length > BLOCK_BYTES ? hash('sha256', raw, 'buffer') : raw).copy(key);
    pads = { sk: credentials.sk, inner: key.map((byte) => byte ^ 0x36), outer: key.map((byte) => byte ^ 0x5c) };
    key.fill(0);
    padsOf.set(credentials, pads);
  }
  const inner = hash('sha256', Buffer.concat([pads.inner, Buffer.from(message, 'utf8')]), 'buffer');
  return hash('sha256', Buffer.concat([pads.outer, inner]), 'hex');
}

/**
 * Signs one request. `signedHeaderNames` defaults to every header in `input.headers`; every name must be present
 * (case-insensitive) and x-sdk-date must be among them, else a SigningError naming the header.
 */
export function signRequest(input: SignInput, credentials: SigningCredentials, signedHeaderNames?: string[]): SignResult {
  // Every attempt of an AK/SK run is signed: plain loops over a handful of headers, no Map, Set or iterator objects.
  const headers: Record<string, string> = Object.create(null);
  for (const name in input.headers) if (Object.hasOwn(input.headers, name)) headers[name.toLowerCase()] = input.headers[name]!;
  const names: string[] = []; // lowercase, distinct, in code point order (kept sorted as they come: a handful)
  for (const name of signedHeaderNames ?? Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (names.includes(lower)) continue;
    let at = names.length;
    while (at > 0 && compareCodePoints(names[at - 1]!, lower) > 0) at -= 1;
    names.splice(at, 0, lower);
  }
  const sdkDate = headers['x-sdk-date'];
  if (sdkDate === undefined || !names.includes('x-sdk-date')) {
    throw new SigningError('X-Sdk-Date must be set and signed', 'x-sdk-date');
  }
  let canonicalHeaders = '';
  for (const name of names) {
    const value = headers[name];
    if (value === undefined) throw new SigningError(`signed header ${name} is not set`, name);
    canonicalHeaders += `${name}:${value.trim()}\n`;
  }
  const url = typeof input.url === 'string' ? new URL(input.url) : input.url;
  const signedHeaders = names.join(';');
  const canonicalRequest = `${input.method.toUpperCase()}\n${canonicalUri(url.pathname)}\n${canonicalQuery(url.search)}\n${canonicalHeaders}\n${signedHeaders}\n${sha256Hex(input.body)}`;
  const stringToSign = `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonicalRequest)}`;
  const signature = hmacSha256Hex(credentials, stringToSign);
  return {
    authorization: `${SIGNING_ALGORITHM} Access=${credentials.ak}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    signedHeaders,
    canonicalRequest,
    stringToSign,
  };
}
