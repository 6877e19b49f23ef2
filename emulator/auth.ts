import type { Exchange } from './http-util.js';
import { headerValue } from './http-util.js';
import type { AkLockout } from './aksk-lockout.js';
import { verifyAkSk } from './aksk-verify.js';
import type { IamTokenStore } from './iam.js';
import type { AkSkCredential } from './types.js';

export type AuthOutcome = { ok: true } | { ok: false; errorCode: 'APIGW.0301' | 'APIGW.0307'; errorMsg: string };

const INCORRECT = 'Incorrect IAM authentication information: ';

export interface OmsAuthDeps {
  requireAuth: boolean;
  /** `accounts`: the account of each bound project and of each bound token or AK. */
  accountOfProject?: ReadonlyMap<string, string>;
  accountOfCredential?: ReadonlyMap<string, string>;
  tokens: ReadonlySet<string>;
  credentials: ReadonlyMap<string, AkSkCredential>;
  iam: IamTokenStore;
  lockout: AkLockout;
  now: () => number;
}

/**
 * Authenticates one OMS call: a static or IAM-issued X-Auth-Token, or an AK/SK signature. A request that carries
 * a signature is judged by it alone (a token sent beside a bad signature does not rescue it).
 */
export function authenticate(ex: Exchange, projectId: string, deps: OmsAuthDeps): AuthOutcome {
  if (!deps.requireAuth) return { ok: true };
  const authorization = headerValue(ex.req, 'authorization');
  if (authorization !== undefined && authorization.startsWith('SDK-HMAC-SHA256')) {
    const outcome = authenticateSignature(ex, projectId, deps);
    return outcome.ok ? sameAccount(ex, projectId, parseAk(authorization), deps) : outcome;
  }
  const token = headerValue(ex.req, 'x-auth-token');
  if (token === undefined || token === '') return { ok: false, errorCode: 'APIGW.0301', errorMsg: `${INCORRECT}no credentials` };
  if (deps.tokens.has(token)) return sameAccount(ex, projectId, token, deps);
  switch (deps.iam.use(token, projectId)) {
    case 'ok':
      return { ok: true };
    case 'expired':
      return { ok: false, errorCode: 'APIGW.0307', errorMsg: 'The token must be updated: token expired.' };
    case 'wrong-project':
      return { ok: false, errorCode: 'APIGW.0307', errorMsg: 'The token must be updated: token scoped to another project.' };
    case 'unknown':
      return { ok: false, errorCode: 'APIGW.0301', errorMsg: `${INCORRECT}token is invalid` };
  }
}

function authenticateSignature(ex: Exchange, projectId: string, deps: OmsAuthDeps): AuthOutcome {
  const { stats } = ex;
  stats.signedRequests += 1;
  const raw = ex.req.url ?? '/';
  const q = raw.indexOf('?');
  const result = verifyAkSk(
    {
      method: ex.req.method ?? 'GET',
      path: q < 0 ? raw : raw.slice(0, q),
      query: q < 0 ? '' : raw.slice(q + 1),
      headers: ex.req.headers,
      body: ex.body,
    },
    { nowMs: deps.now(), lookup: (ak) => deps.credentials.get(ak), projectId },
  );
  if (result.ak !== undefined && deps.lockout.isLocked(result.ak)) {
    stats.signatureFailures += 1;
    return { ok: false, errorCode: 'APIGW.0301', errorMsg: `${INCORRECT}the AK is locked after repeated failures` };
  }
  if (result.ok) {
    stats.signedVerified += 1;
    deps.lockout.recordSuccess(result.ak);
    return { ok: true };
  }
  stats.signatureFailures += 1;
  if (result.ak !== undefined) deps.lockout.recordFailure(result.ak);
  // The reason is in the message because this is a test double: a client author debugging a signer needs it.
  return { ok: false, errorCode: 'APIGW.0301', errorMsg: `${INCORRECT}${result.reason}` };
}

/** `Access=AK` of an SDK-HMAC-SHA256 Authorization header. */
function parseAk(authorization: string): string | undefined {
  return /Access=([^,\s]+)/.exec(authorization)?.[1];
}

/**
 * With `accounts`, a token or AK of one account is refused on another account's project (as IAM scopes them), and
 * every such attempt is counted: a janitor must never send them there at all.
 */
function sameAccount(ex: Exchange, projectId: string, credential: string | undefined, deps: OmsAuthDeps): AuthOutcome {
  const projectAccount = deps.accountOfProject?.get(projectId);
  const credentialAccount = credential === undefined ? undefined : deps.accountOfCredential?.get(credential);
  if (projectAccount === undefined || credentialAccount === undefined) return { ok: true };
  if (projectAccount !== credentialAccount) {
    ex.stats.crossAccount += 1;
    return { ok: false, errorCode: 'APIGW.0301', errorMsg: `${INCORRECT}the credentials belong to another account` };
  }
  const seen = (ex.stats.accountsSeen[projectId] ??= []);
  if (!seen.includes(credentialAccount)) seen.push(credentialAccount);
  return { ok: true };
}
