import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CredentialsError } from './errors.js';
import { ExpiringCache } from './expiring-cache.js';
import { parseCredentialsSecret } from './secret.js';
import type { Clock, Credentials } from './types.js';

export const DEFAULT_SECRET_CACHE_SECONDS = 300;

export interface SecretSourceOptions {
  /** Default: one `new SecretsManagerClient({})` per cold start (the standard AWS SDK environment applies). */
  client?: Pick<SecretsManagerClient, 'send'>;
  /** How long a read secret is served from memory; 0 = read it on every call. Default 300 (SECRET_CACHE_SECONDS). */
  cacheSeconds?: number;
  /** Default Date.now. */
  clock?: Clock;
  /**
   * How long one read may take, retries included, before it fails naming the secret. Default 30000: the SDK sets no
   * deadline of its own, and an endpoint that accepts a connection and never answers would otherwise hang the CLI.
   */
  readTimeoutMs?: number;
}

/** The default of SecretSourceOptions.readTimeoutMs. */
export const DEFAULT_SECRET_READ_TIMEOUT_MS = 30_000;

export interface SecretSource {
  /**
   * Reads and validates the secret; `bypassCache` forces a read (the result still refreshes the cache); `signal`
   * ends the read (the run's deadline: the SDK sets no timeout of its own on a request).
   */
  credentials(secretId: string, options?: { bypassCache?: boolean; signal?: AbortSignal }): Promise<Credentials>;
}

type SecretsManagerSdk = typeof import('@aws-sdk/client-secrets-manager');
let sdk: Promise<SecretsManagerSdk> | undefined;

/**
 * The SDK module is loaded on the first secret read, not when this module is imported: requiring it (and its
 * @smithy/* graph) is the largest single cost of the Lambda's cold import (~60 ms of ~185 ms, bench/bundle-size.ts),
 * and a refused invocation never needs it. In the bundle this is a lazy `require` (serverless.yml: esbuild with
 * `supported: dynamic-import: false`, so that NODE_PATH finds the Lambda runtime's SDK).
 */
function loadSdk(): Promise<SecretsManagerSdk> {
  sdk ??= import('@aws-sdk/client-secrets-manager');
  return sdk;
}

let defaultClient: SecretsManagerClient | undefined;

/** Built on first use, then shared for the life of the process (a warm Lambda reuses its connections). */
export async function defaultSecretsManagerClient(): Promise<SecretsManagerClient> {
  const { SecretsManagerClient } = await loadSdk();
  defaultClient ??= new SecretsManagerClient({});
  return defaultClient;
}

/**
 * Reads credentials from AWS Secrets Manager. The cache rules (TTL, bypass, failures never cached, shared in-flight
 * reads) are those of ExpiringCache. Create one source per process (module scope in the Lambda) so that warm
 * invocations reuse it.
 */
export function createSecretSource(options: SecretSourceOptions = {}): SecretSource {
  const cacheSeconds = options.cacheSeconds ?? DEFAULT_SECRET_CACHE_SECONDS;
  if (!Number.isFinite(cacheSeconds) || cacheSeconds < 0) {
    throw new CredentialsError('secret cache seconds must be a number >= 0', { field: 'SECRET_CACHE_SECONDS' });
  }
  const clock = options.clock ?? Date.now;
  const readTimeoutMs = options.readTimeoutMs ?? DEFAULT_SECRET_READ_TIMEOUT_MS;
  const cache = new ExpiringCache<Credentials>(clock);
  const client = async () => options.client ?? (await defaultSecretsManagerClient());
  return {
    credentials(secretId, { bypassCache = false, signal } = {}) {
      return cache.get(
        secretId,
        async () => {
          const timeout = AbortSignal.timeout(readTimeoutMs);
          const ends = signal ? AbortSignal.any([signal, timeout]) : timeout;
          let text: string;
          try {
            text = await readSecretString(await client(), secretId, ends);
          } catch (error) {
            if (!timeout.aborted || signal?.aborted) throw error;
            throw new CredentialsError(`secret "${secretId}" was not read within ${readTimeoutMs >= 1000 ? `${Math.round(readTimeoutMs / 1000)} s` : `${readTimeoutMs} ms`}: Secrets Manager did not answer (check AWS_ENDPOINT_URL_SECRETS_MANAGER, the region and the network)`, { source: secretId, cause: error });
          }
          const value = parseCredentialsSecret(text, secretId);
          return { value, expiresAtMs: clock() + cacheSeconds * 1000 };
        },
        { bypass: bypassCache },
      );
    },
  };
}

/** SECRET_CACHE_SECONDS as a whole number of seconds >= 0; unset or empty -> the default. */
export function parseSecretCacheSeconds(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_SECRET_CACHE_SECONDS;
  if (!/^\d+$/.test(value.trim())) {
    throw new CredentialsError('SECRET_CACHE_SECONDS must be a whole number of seconds (0 disables the cache)', {
      field: 'SECRET_CACHE_SECONDS',
    });
  }
  return Number(value.trim());
}

async function readSecretString(client: Pick<SecretsManagerClient, 'send'>, secretId: string, signal: AbortSignal | undefined): Promise<string> {
  const { GetSecretValueCommand } = await loadSdk(); // outside the try: a missing SDK is not a secret problem
  let answer;
  try {
    answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }), signal ? { abortSignal: signal } : {});
  } catch (error) {
    throw sdkFailure(error, secretId);
  }
  if (typeof answer.SecretString !== 'string') {
    const what = answer.SecretBinary ? 'holds binary data (SecretBinary)' : 'has no SecretString';
    throw new CredentialsError(`secret "${secretId}" ${what}: store the credentials JSON as a SecretString`, {
      source: secretId,
    });
  }
  return answer.SecretString;
}

/** SDK errors carry no secret value, so they are kept as `cause`. */
function sdkFailure(error: unknown, secretId: string): CredentialsError {
  const name = error instanceof Error ? error.name : 'unknown error';
  const context = { source: secretId, cause: error };
  switch (name) {
    case 'ResourceNotFoundException':
      return new CredentialsError(`secret "${secretId}" was not found`, context);
    case 'AccessDeniedException':
      return new CredentialsError(`access to secret "${secretId}" was denied`, context);
    case 'DecryptionFailure':
      return new CredentialsError(`secret "${secretId}" could not be decrypted with its KMS key`, context);
    default: {
      const detail = error instanceof Error && error.message ? `: ${error.message}` : '';
      return new CredentialsError(`could not read secret "${secretId}" (${name}${detail})`, context);
    }
  }
}
