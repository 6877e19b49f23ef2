import { AuthError } from './errors.js';
import { ProbeGate } from './probe-gate.js';
import { formatSdkDate, signRequest } from './signer.js';
import type { AkSkCredentials, Authenticator, Clock } from './types.js';

/**
 * AK/SK signing (SDK-HMAC-SHA256) of every attempt: a signature covers X-Sdk-Date, so it is recomputed each time.
 * Signed headers: host, x-sdk-date, x-project-id, x-security-token (temporary credentials) and content-type when
 * the request has one; the body is signed as the exact bytes sent.
 */
export function akskAuthenticator(credentials: Omit<AkSkCredentials, 'type'>, clock: Clock = Date.now): Authenticator {
  const { ak, sk, securityToken } = credentials;
  const signing = { ak, sk }; // one object for every signature: the signer keeps its HMAC pads with it
  // After 5 consecutive signature failures Huawei locks the AK for 5 minutes: until one signature has been accepted,
  // only one signed request is in flight; once one is refused (401), nothing more is signed with this AK, in any
  // target. A wrong SK thus costs one failure per run.
  const gate = new ProbeGate();
  // X-Sdk-Date has whole seconds: formatted once a second, not for every request.
  let dated = { second: Number.NaN, text: '' };
  const sdkDate = (ms: number) => {
    const second = Math.floor(ms / 1000);
    if (second !== dated.second) dated = { second, text: formatSdkDate(new Date(ms)) };
    return dated.text;
  };

  return {
    kind: 'aksk',
    async authorize(request, projectId, signal) {
      // Once proven (every request after the first), nothing to wait for: no promise to await.
      if (gate.state !== 'proven' || signal?.aborted) await gate.enter(signal);
      try {
        sign(request, projectId, request.body === null ? '' : await bodyBytes(request));
      } catch (error) {
        // Nothing is sent now; still, no earlier attempt's signature stays on the Request beside a new X-Sdk-Date.
        request.headers.delete('Authorization');
        gate.release(); // nothing was sent: let another request be the probe
        throw error;
      }
    },
    async refresh(projectId, errorCode) {
      // A 401 here means a wrong AK/SK or clock: retrying cannot help.
      const code = errorCode ?? 'unknown';
      gate.refuse(
        () => new AuthError(`not signing more requests with AK ${ak}: API Gateway refused its signature (HTTP 401 ${code})`, { projectId, status: 401, errorCode: code }),
      );
      return false;
    },
    answered(status) {
      if (status === 401) return; // refresh() follows and refuses
      // Answers that only come after API Gateway checked the signature prove it: 2xx, 400 (the API's own refusal)
      // and 403 (authenticated, not permitted). 404 may come from routing before the check; 429, 3xx and 5xx prove
      // nothing, and neither does no answer at all.
      if (status !== undefined && ((status >= 200 && status < 300) || status === 400 || status === 403)) gate.prove();
      else gate.release();
    },
  };

  function sign(request: Request, projectId: string, body: string | Uint8Array): void {
    // Every Headers call validates and normalises (about a microsecond each): the headers this function sets are
    // signed from the values it set, and only content-type is read back. The signer trims each value, and what
    // Headers strips from a value (spaces, tabs, CR, LF at either end) is a part of what trim() removes: the same
    // signature either way. A retried attempt may carry the last attempt's headers: each is set again, and the
    // Authorization header is replaced at the end.
    const headers = request.headers;
    const date = sdkDate(clock());
    headers.set('X-Sdk-Date', date);
    // An empty projectId means a call outside any project (the HTTP layer passes ''): no header, not signed.
    if (projectId !== '') headers.set('X-Project-Id', projectId);
    else headers.delete('X-Project-Id');
    if (securityToken !== undefined) headers.set('X-Security-Token', securityToken);
    // fetch sends Host itself, with the port when it is not the scheme's default; URL.host has exactly that form.
    const url = new URL(request.url); // parsed once: its host here, its path and query for the signature
    const toSign: Record<string, string> = { host: url.host, 'x-sdk-date': date };
    const names = ['host', 'x-sdk-date'];
    if (projectId !== '') {
      names.push('x-project-id');
      toSign['x-project-id'] = projectId;
    }
    if (securityToken !== undefined) {
      names.push('x-security-token');
      toSign['x-security-token'] = securityToken;
    }
    const contentType = headers.get('content-type');
    if (contentType !== null) {
      names.push('content-type');
      toSign['content-type'] = contentType;
    }
    const { authorization } = signRequest({ method: request.method, url, headers: toSign, body }, signing, names);
    headers.set('Authorization', authorization);
  }
}

/** Bytes, not text(): a decode/re-encode round trip could change a body that is not valid UTF-8. */
async function bodyBytes(request: Request): Promise<Uint8Array> {
  return new Uint8Array(await request.clone().arrayBuffer());
}
