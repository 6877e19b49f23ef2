import type { Http } from '../http/types.js';
import { AuthError } from './errors.js';
import { ExpiringCache, type Expiring } from './expiring-cache.js';
import { ProbeGate } from './probe-gate.js';
import type { Authenticator, Clock, PasswordCredentials } from './types.js';

/** A project-scoped IAM token as cached. */
export interface IamToken {
  token: string;
  expiresAtMs: number;
  obtainedAtMs: number;
  /** Obtained because of a 401 (see REFRESH_COALESCE_MS). */
  viaRefresh: boolean;
}

export interface PasswordAuthOptions {
  /** Carries the IAM request (its retries for 5xx and timeouts apply); the call itself is unauthenticated. */
  http: Http;
  /**
   * Region of an OMS project (the policy target's `region`): IAM is https://iam.{region}.myhuaweicloud.com unless
   * the credentials set `iamEndpoint`. A string serves every project; a function looks it up per project.
   */
  region?: string | ((projectId: string) => string | undefined);
  /** Default Date.now. */
  clock?: Clock;
  /**
   * Default: one cache per process, shared by every password authenticator, so a warm Lambda invocation reuses
   * the token of the previous one (a private cache is made when only `clock` is injected).
   */
  tokenCache?: ExpiringCache<IamToken>;
  /** Renew this long before expires_at. Default 5 minutes. */
  renewBeforeExpiryMs?: number;
  /** Told every token in use, so that the log redaction knows it (tokens are obtained at run time). */
  onSecret?: (value: string) => void;
}

export const DEFAULT_RENEW_BEFORE_EXPIRY_MS = 5 * 60 * 1000;
/** Used when IAM's answer has no readable token.expires_at (Huawei documents 24 h; assume much less). */
export const FALLBACK_TOKEN_LIFE_MS = 60 * 60 * 1000;
/**
 * 401s reported within this long after a 401-triggered renewal reuse that renewal instead of asking IAM again:
 * requests in flight when a token went bad were signed with the old one, and each of them reports its own 401.
 */
export const REFRESH_COALESCE_MS = 10_000;

const sharedTokenCache = new ExpiringCache<IamToken>();

/** Builds a `region` lookup from policy targets. */
export function regionsByProject(targets: readonly { projectId: string; region: string }[]): (projectId: string) => string | undefined {
  const map = new Map(targets.map((t) => [t.projectId, t.region]));
  return (projectId) => map.get(projectId);
}

/**
 * IAM password credentials: one project-scoped token per project (and endpoint, domain, user) from
 * POST {iam}/v3/auth/tokens, sent as X-Auth-Token, renewed 5 minutes before expiry; concurrent first calls share
 * one IAM request. After a 401, refresh() renews the token once and resolves true; if IAM then fails, it throws
 * the AuthError (a retry could not help).
 */
export function passwordAuthenticator(credentials: Omit<PasswordCredentials, 'type'>, options: PasswordAuthOptions): Authenticator {
  const clock = options.clock ?? Date.now;
  const cache = options.tokenCache ?? (options.clock ? new ExpiringCache<IamToken>(options.clock) : sharedTokenCache);
  const renewBeforeMs = options.renewBeforeExpiryMs ?? DEFAULT_RENEW_BEFORE_EXPIRY_MS;
  const who = `user ${credentials.username} in domain ${credentials.domain}`;

  function endpointFor(projectId: string): string {
    if (projectId === '') throw new AuthError(`an IAM token for ${who} needs a project id`, { projectId });
    if (credentials.iamEndpoint) return credentials.iamEndpoint;
    const region = typeof options.region === 'function' ? options.region(projectId) : options.region;
    if (!region || !/^[a-z0-9-]+$/.test(region)) {
      throw new AuthError(`no IAM endpoint for project ${projectId}: set "iamEndpoint" in the credentials or the target's region`, { projectId });
    }
    return `https://iam.${region}.myhuaweicloud.com`;
  }

  const keyFor = (projectId: string) => [endpointFor(projectId), credentials.domain, credentials.username, projectId].join('\n');
  // IAM locks a user after repeated wrong passwords. Until IAM has once issued a token for this user in this run,
  // one token request is in flight at a time; once IAM rejects the password (401), no more are sent this run.
  const gate = new ProbeGate();

  async function fetchToken(projectId: string, viaRefresh: boolean, signal: AbortSignal | undefined): Promise<Expiring<IamToken>> {
    const endpoint = endpointFor(projectId);
    await gate.enter(signal);
    try {
      const token = await requestToken(endpoint, projectId, viaRefresh, signal);
      gate.prove();
      return token;
    } catch (error) {
      if (error instanceof AuthError && error.status === 401) {
        gate.refuse(() => new AuthError(`not asking IAM again for ${who} in this run: it rejected the password (HTTP 401)`, { projectId, status: 401 }));
      } else gate.release();
      throw error;
    }
  }

  async function requestToken(endpoint: string, projectId: string, viaRefresh: boolean, signal: AbortSignal | undefined): Promise<Expiring<IamToken>> {
    const json = {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: credentials.username, password: credentials.password, domain: { name: credentials.domain } } },
        },
        scope: { project: { id: projectId } },
      },
    };
    let answer;
    try {
      // The answer's body holds expires_at and the service catalog (tens of KB): 1 MiB is plenty.
      answer = await options.http.request({ method: 'POST', url: `${endpoint}/v3/auth/tokens`, json, maxBodyBytes: 1024 * 1024, ...(signal ? { signal } : {}) });
    } catch (error) {
      throw iamFailure(error, who, endpoint, projectId);
    }
    const token = answer.headers.get('x-subject-token');
    if (!token) throw new AuthError(`IAM at ${endpoint} answered without an X-Subject-Token header for ${who}`, { projectId, status: answer.status });
    const obtainedAtMs = clock();
    const expiresAtMs = readExpiresAt(answer.body) ?? obtainedAtMs + FALLBACK_TOKEN_LIFE_MS;
    // Renew 5 minutes ahead; a short-lived token is used for at least half its life (and 10 s), so a token that
    // lives less than the margin does not send every request to IAM.
    const renewAtMs = Math.max(expiresAtMs - renewBeforeMs, obtainedAtMs + (expiresAtMs - obtainedAtMs) / 2, obtainedAtMs + 10_000);
    return { value: { token, expiresAtMs, obtainedAtMs, viaRefresh }, expiresAtMs: renewAtMs };
  }

  return {
    kind: 'password',
    async authorize(request, projectId, signal) {
      const { token } = await cache.get(keyFor(projectId), () => fetchToken(projectId, false, signal));
      options.onSecret?.(token);
      request.headers.set('X-Auth-Token', token);
    },
    async refresh(projectId, _errorCode, signal) {
      const key = keyFor(projectId);
      const entry = cache.peek(key);
      const now = clock();
      if (entry?.value.viaRefresh && now - entry.value.obtainedAtMs < REFRESH_COALESCE_MS && now < entry.expiresAtMs) return true;
      await cache.get(key, () => fetchToken(projectId, true, signal), { bypass: true });
      return true;
    },
  };
}

/** token.expires_at of IAM's answer as Unix ms, or undefined when absent or unreadable. */
function readExpiresAt(body: string): number | undefined {
  try {
    const parsed = JSON.parse(body) as { token?: { expires_at?: unknown } };
    const text = parsed?.token?.expires_at;
    const ms = typeof text === 'string' ? Date.parse(text) : NaN;
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** Duck-typed on the HTTP layer's HttpError (status, errorCode) so that any Http implementation works. */
function iamFailure(error: unknown, who: string, endpoint: string, projectId: string): AuthError {
  const { status, errorCode, redirectHost } = (error ?? {}) as { status?: unknown; errorCode?: unknown; redirectHost?: unknown };
  const code = typeof errorCode === 'string' && errorCode && errorCode !== String(status) ? ` ${errorCode}` : '';
  const redirect = typeof redirectHost === 'string' ? `: redirected to ${redirectHost}, not followed` : '';
  if (typeof status === 'number') {
    const context = { projectId, status, cause: error, ...(code ? { errorCode: code.trim() } : {}) };
    if (status === 401) return new AuthError(`IAM rejected the password credentials for ${who} (HTTP 401${code})`, context);
    return new AuthError(`IAM at ${endpoint} refused a token for ${who} scoped to project ${projectId} (HTTP ${status}${code}${redirect})`, context);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new AuthError(`could not get an IAM token for ${who} from ${endpoint}: ${reason}`, { projectId, cause: error });
}
