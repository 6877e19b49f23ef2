import { formatSdkDate, signRequest } from './signer.js';
import type { AkSkCredentials, Authenticator, Clock } from './types.js';

/**
 * AK/SK signing (SDK-HMAC-SHA256) of every attempt: a signature covers X-Sdk-Date, so it is recomputed each time.
 * Signed headers: host, x-sdk-date, x-project-id, x-security-token (temporary credentials) and content-type when
 * the request has one; the body is signed as the exact bytes sent.
 */
export function akskAuthenticator(credentials: Omit<AkSkCredentials, 'type'>, clock: Clock = Date.now): Authenticator {
  const { ak, sk, securityToken } = credentials;
  return {
    kind: 'aksk',
    async authorize(request, projectId) {
      const headers = request.headers;
      headers.set('X-Sdk-Date', formatSdkDate(new Date(clock())));
      // An empty projectId means a call outside any project (the HTTP layer passes ''): no header, not signed.
      if (projectId !== '') headers.set('X-Project-Id', projectId);
      else headers.delete('X-Project-Id');
      if (securityToken !== undefined) headers.set('X-Security-Token', securityToken);
      headers.delete('Authorization');
      // fetch sends Host itself, with the port when it is not the scheme's default; URL.host has exactly that form.
      const toSign: Record<string, string> = { host: new URL(request.url).host };
      const names = ['host', 'x-sdk-date'];
      if (projectId !== '') names.push('x-project-id');
      if (securityToken !== undefined) names.push('x-security-token');
      if (headers.has('content-type')) names.push('content-type');
      for (const name of names.slice(1)) toSign[name] = headers.get(name) ?? '';
      // Bytes, not text(): a decode/re-encode round trip could change a body that is not valid UTF-8.
      const body = request.body === null ? '' : new Uint8Array(await request.clone().arrayBuffer());
      const { authorization } = signRequest({ method: request.method, url: request.url, headers: toSign, body }, { ak, sk }, names);
      headers.set('Authorization', authorization);
    },
    async refresh() {
      // A 401 here means a wrong AK/SK or clock: retrying cannot help, and after 5 consecutive signature failures
      // Huawei locks the AK for 5 minutes. Callers stop the target on the first 401.
      return false;
    },
  };
}
