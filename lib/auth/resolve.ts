import { HostAllowList } from '../http/allowed-hosts.js';
import type { Http } from '../http/types.js';
import { akskAuthenticator } from './aksk.js';
import { CredentialsError } from './errors.js';
import { passwordAuthenticator, type PasswordAuthOptions } from './iam.js';
import { validateCredentials } from './secret.js';
import { createSecretSource, type SecretSource } from './secret-source.js';
import { tokenAuthenticator, type Authenticator, type Clock, type Credentials } from './types.js';

export interface AuthenticatorDeps {
  /** Needed for password credentials (the IAM call). */
  http?: Http;
  /** Region per project for the default IAM endpoint (see PasswordAuthOptions.region). */
  region?: PasswordAuthOptions['region'];
  clock?: Clock;
  tokenCache?: PasswordAuthOptions['tokenCache'];
  /** Told every secret obtained at run time (IAM tokens), for log redaction. */
  onSecret?: (value: string) => void;
  /**
   * Where a password secret's `iamEndpoint` may point (lib/http/allowed-hosts.ts). Default: loopback and Huawei
   * Cloud's official API domains. The CLI and the Lambda pass HostAllowList.fromEnv(process.env).
   */
  allowedHosts?: HostAllowList;
}

/** Maps validated credentials to the Authenticator that uses them. */
export function authenticatorFor(credentials: Credentials, deps: AuthenticatorDeps = {}): Authenticator {
  switch (credentials.type) {
    case 'token':
      return tokenAuthenticator(credentials.token);
    case 'aksk':
      return akskAuthenticator(credentials, deps.clock);
    case 'password': {
      if (!deps.http) throw new TypeError('password credentials need an Http for the IAM call');
      const { http, region, clock, tokenCache, onSecret } = deps;
      return passwordAuthenticator(credentials, {
        http,
        ...(onSecret === undefined ? {} : { onSecret }),
        ...(region === undefined ? {} : { region }),
        ...(clock === undefined ? {} : { clock }),
        ...(tokenCache === undefined ? {} : { tokenCache }),
      });
    }
  }
}

export type CredentialsSource = 'secret' | 'env-aksk' | 'env-token';

export interface ResolvedCredentials {
  authenticator: Authenticator;
  /** Safe to log. */
  source: CredentialsSource;
  /** Safe to log. */
  kind: Credentials['type'];
  /** The secret id when source is 'secret' (safe to log). */
  secretId?: string;
  /**
   * The credentials themselves, for secretValues() (log redaction). Not enumerable, so that logging or
   * JSON.stringify of this object cannot reveal them.
   */
  readonly credentials: Credentials;
}

export interface CliCredentialsDeps extends AuthenticatorDeps {
  /** Default: a source with the default SecretsManagerClient and no cache (a CLI run reads the secret once). */
  secrets?: SecretSource;
}

export const ENV = {
  secretId: 'OMS_CREDENTIALS_SECRET_ID',
  ak: 'CLOUD_SDK_AK',
  sk: 'CLOUD_SDK_SK',
  securityToken: 'CLOUD_SDK_SECURITY_TOKEN',
  token: 'OMS_AUTH_TOKEN',
} as const;

/**
 * The CLI's credentials, first found wins: `--secret-id` (or OMS_CREDENTIALS_SECRET_ID); CLOUD_SDK_AK + CLOUD_SDK_SK
 * (+ optional CLOUD_SDK_SECURITY_TOKEN); OMS_AUTH_TOKEN. Empty values count as unset. A half-set AK/SK pair, or a
 * security token without them, is an error rather than a silent fall-through to the next way.
 */
export async function resolveCliCredentials(
  args: { secretId?: string },
  env: NodeJS.ProcessEnv,
  deps: CliCredentialsDeps = {},
): Promise<ResolvedCredentials> {
  const get = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const secretId = args.secretId || get(ENV.secretId);
  if (secretId) {
    const secrets = deps.secrets ?? createSecretSource({ cacheSeconds: 0 });
    return resolved(await secrets.credentials(secretId), 'secret', deps, secretId);
  }
  const ak = get(ENV.ak);
  const sk = get(ENV.sk);
  const securityToken = get(ENV.securityToken);
  if (ak || sk || securityToken) {
    const missing: string[] = [];
    if (!ak) missing.push(ENV.ak);
    if (!sk) missing.push(ENV.sk);
    if (missing.length > 0) {
      const present = [ak ? ENV.ak : '', sk ? ENV.sk : '', securityToken ? ENV.securityToken : ''].filter((n) => n !== '');
      const verb = (names: string[]) => (names.length > 1 ? 'are' : 'is');
      throw new CredentialsError(
        `${missing.join(' and ')} ${verb(missing)} not set, but ${present.join(' and ')} ${verb(present)}: ` +
          `AK/SK signing needs both ${ENV.ak} and ${ENV.sk}`,
        { source: 'environment', field: missing[0] ?? ENV.ak },
      );
    }
    const envName: Record<string, string> = { ak: ENV.ak, sk: ENV.sk, securityToken: ENV.securityToken };
    const credentials = validateCredentials(
      { type: 'aksk', ak, sk, ...(securityToken ? { securityToken } : {}) },
      'environment',
      (field) => envName[field] ?? field,
      'environment',
    );
    return resolved(credentials, 'env-aksk', deps);
  }
  const token = get(ENV.token);
  if (token) {
    const credentials = validateCredentials({ type: 'token', token }, 'environment', () => ENV.token, 'environment');
    return resolved(credentials, 'env-token', deps);
  }
  throw new CredentialsError(
    `no credentials: pass --secret-id ID (or set ${ENV.secretId}), or set ${ENV.ak} and ${ENV.sk}, or set ${ENV.token}`,
    { source: 'environment' },
  );
}

/** The Lambda's (and any other caller's) path: credentials from one secret, through a long-lived SecretSource. */
export async function resolveSecretCredentials(
  secretId: string,
  secrets: SecretSource,
  deps: AuthenticatorDeps = {},
  options: { signal?: AbortSignal } = {},
): Promise<ResolvedCredentials> {
  return resolved(await secrets.credentials(secretId, options.signal ? { signal: options.signal } : {}), 'secret', deps, secretId);
}

function resolved(credentials: Credentials, source: CredentialsSource, deps: AuthenticatorDeps, secretId?: string): ResolvedCredentials {
  if (credentials.type === 'password' && credentials.iamEndpoint !== undefined) {
    // Checked before the authenticator exists, so no password is ever sent to a host the operator did not allow.
    const why = (deps.allowedHosts ?? HostAllowList.official()).refusal(credentials.iamEndpoint);
    const where = secretId === undefined ? 'credentials' : `secret "${secretId}"`;
    if (why !== undefined) throw new CredentialsError(`${where}: field "iamEndpoint": ${why}`, { source: secretId ?? source, field: 'iamEndpoint' });
  }
  const result = {
    authenticator: authenticatorFor(credentials, deps),
    source,
    kind: credentials.type,
    ...(secretId === undefined ? {} : { secretId }),
  };
  Object.defineProperty(result, 'credentials', { value: credentials, enumerable: false });
  return result as ResolvedCredentials;
}

/** A target's own credentials, or why it has none this run (that target stops; the others go on). */
export type TargetCredentials = { ok: true; resolved: ResolvedCredentials } | { ok: false; error: Error };

/**
 * The credentials of targets that name their own (`targets[].credentials.secretId`: another Huawei account), each
 * secret read once for the run through `secrets` (the Lambda's cached source, or the CLI's), by target name. A
 * secret that cannot be read or used fails only the targets that name it. Every value obtained is given to
 * `onResolved` (log redaction) before anything else happens with it.
 */
export async function resolveTargetCredentials(
  targets: readonly { name: string; credentials?: { secretId: string } }[],
  secrets: SecretSource,
  deps: AuthenticatorDeps & { onResolved?: (credentials: Credentials) => void },
  options: { signal?: AbortSignal } = {},
): Promise<Map<string, TargetCredentials>> {
  const bySecret = new Map<string, Promise<TargetCredentials>>();
  const out = new Map<string, TargetCredentials>();
  for (const target of targets) {
    const secretId = target.credentials?.secretId;
    if (secretId === undefined) continue;
    let pending = bySecret.get(secretId);
    if (pending === undefined) {
      pending = resolveSecretCredentials(secretId, secrets, deps, options).then(
        (resolved) => {
          deps.onResolved?.(resolved.credentials);
          return { ok: true as const, resolved };
        },
        (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error : new Error(String(error)) }),
      );
      bySecret.set(secretId, pending);
    }
    const entry = await pending;
    // A secret that would send a password to a host outside the allow-list is a configuration error of the run
    // (exit 2 / an invocation error, as for the run's own secret), not a failure of one target.
    if (!entry.ok && entry.error instanceof CredentialsError && entry.error.field === 'iamEndpoint') throw entry.error;
    out.set(target.name, entry);
  }
  return out;
}

/** One line per target with credentials of its own: which secret and kind, or (a warning) why they failed. */
export function logTargetCredentials(
  log: { info(message: string, fields?: Record<string, unknown>): void; warn(message: string, fields?: Record<string, unknown>): void },
  targets: readonly { name: string; credentials?: { secretId: string } }[],
  resolved: ReadonlyMap<string, TargetCredentials>,
): void {
  for (const target of targets) {
    const entry = resolved.get(target.name);
    if (entry === undefined) continue;
    const secretId = target.credentials?.secretId;
    if (entry.ok) log.info('target credentials resolved', { target: target.name, secretId, kind: entry.resolved.kind });
    else log.warn('target credentials failed', { target: target.name, secretId, error: entry.error });
  }
}

/**
 * In Lambda the function may read only the stage's secret and the secrets under it (`<stage secret>/...`, the IAM
 * policy in serverless.yml): a target naming any other secret is refused at cold start, naming its field, instead of
 * failing with AccessDenied in the middle of a run. Throws CredentialsError.
 */
export function checkStagePrefix(targets: readonly { credentials?: { secretId: string } }[], stageSecret: string | undefined): void {
  if (!stageSecret) return; // the invocation reports a missing stage secret
  const prefix = `${stageSecret}/`;
  targets.forEach((target, index) => {
    const secretId = target.credentials?.secretId;
    if (secretId !== undefined && !(secretId.startsWith(prefix) && secretId.length > prefix.length)) {
      const field = `targets[${index}].credentials.secretId`;
      throw new CredentialsError(
        `${field}: ${JSON.stringify(secretId)} is not under this stage's prefix ${JSON.stringify(prefix)}: the function may read only those secrets (give the secret's name, not its ARN); nothing was done`,
        { field },
      );
    }
  });
}
