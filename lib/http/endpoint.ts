/**
 * The OMS endpoint of a target. Credentials travel in every request (a token, or an AK/SK signature), so plain
 * http is refused except on loopback, where the local emulator runs. The endpoint is a base URL only: a path or a
 * query would silently change every request the client builds.
 */

/** Loopback host names as URL.hostname gives them (IPv6 in brackets): where the local emulator runs. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

// Scheme, then an authority with no path, query or fragment, then at most one trailing slash. Checked on the raw
// text before URL parsing, because the URL parser quietly repairs things (`https://h?` has an empty `search`).
const BASE_URL = /^https?:\/\/[^/?#\\\s]+\/?$/i;

/** The default endpoint of a region, as Huawei Cloud documents it. */
export function defaultEndpoint(region: string): string {
  return `https://oms.${region}.myhuaweicloud.com`;
}

export type EndpointResult = { ok: true; endpoint: string } | { ok: false; message: string };

/**
 * Validates a policy `endpoint` and normalises it to `scheme://host[:port]` (lowercase host, default port dropped,
 * no trailing slash), the form the client appends `/v2/...` to.
 */
export function normaliseEndpoint(text: string): EndpointResult {
  if (!BASE_URL.test(text)) {
    return {
      ok: false,
      message:
        'expected a base URL such as https://oms.cn-north-4.myhuaweicloud.com (no path, query or fragment), ' +
        `got ${JSON.stringify(text)}`,
    };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: `not a valid URL: ${JSON.stringify(text)}` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, message: 'must not contain a user name or password' };
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    const message = 'http:// is only allowed for loopback hosts (127.0.0.1, localhost, [::1]); use https://';
    return { ok: false, message };
  }
  return { ok: true, endpoint: url.origin };
}
