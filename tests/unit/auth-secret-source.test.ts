import { GetSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CredentialsError } from '../../lib/auth/errors.js';
import { ExpiringCache } from '../../lib/auth/expiring-cache.js';
import { createSecretSource, parseSecretCacheSeconds } from '../../lib/auth/secret-source.js';

/** A fake of the SDK client's `send` only; the real client is exercised against the emulator in the integration tests. */
function fakeClient(answer: (secretId: string) => Promise<{ SecretString?: string; SecretBinary?: Uint8Array }>) {
  const calls: string[] = [];
  const client = {
    async send(command: GetSecretValueCommand) {
      const id = command.input.SecretId ?? '';
      calls.push(id);
      return answer(id);
    },
  } as unknown as Pick<SecretsManagerClient, 'send'>;
  return { client, calls };
}

const AKSK = JSON.stringify({ type: 'aksk', ak: 'AK1', sk: 'SK-SHOULD-NOT-LEAK' });

function sdkError(name: string): Error {
  const error = new Error(`${name} from AWS`);
  error.name = name;
  return error;
}

describe('createSecretSource cache', () => {
  it('serves a second read within the TTL from memory and re-reads after it', async () => {
    let now = 1_000_000;
    const { client, calls } = fakeClient(async () => ({ SecretString: AKSK }));
    const source = createSecretSource({ client, cacheSeconds: 300, clock: () => now });
    expect(await source.credentials('prod/oms')).toEqual({ type: 'aksk', ak: 'AK1', sk: 'SK-SHOULD-NOT-LEAK' });
    now += 299_999;
    await source.credentials('prod/oms');
    expect(calls).toHaveLength(1);
    now += 1;
    await source.credentials('prod/oms');
    expect(calls).toHaveLength(2);
    await source.credentials('other');
    expect(calls).toEqual(['prod/oms', 'prod/oms', 'other']);
  });

  it('0 seconds reads every time; bypassCache forces a read', async () => {
    const { client, calls } = fakeClient(async () => ({ SecretString: AKSK }));
    const noCache = createSecretSource({ client, cacheSeconds: 0, clock: () => 5 });
    await noCache.credentials('a');
    await noCache.credentials('a');
    expect(calls).toHaveLength(2);
    const cached = createSecretSource({ client, clock: () => 5 });
    await cached.credentials('b');
    await cached.credentials('b', { bypassCache: true });
    await cached.credentials('b');
    expect(calls.filter((c) => c === 'b')).toHaveLength(2);
  });

  it('concurrent reads share one SDK call', async () => {
    const { client, calls } = fakeClient(() => new Promise((resolve) => setTimeout(() => resolve({ SecretString: AKSK }), 20)));
    const source = createSecretSource({ client, clock: () => 0 });
    const all = await Promise.all([source.credentials('x'), source.credentials('x'), source.credentials('x')]);
    expect(calls).toHaveLength(1);
    expect(all[0]).toBe(all[2]);
  });

  it('a failed read is not cached and evicts the cached value', async () => {
    let now = 0;
    let fail = false;
    const { client, calls } = fakeClient(async () => {
      if (fail) throw sdkError('InternalServiceError');
      return { SecretString: AKSK };
    });
    const source = createSecretSource({ client, cacheSeconds: 60, clock: () => now });
    await source.credentials('s');
    now = 60_000;
    fail = true;
    await expect(source.credentials('s')).rejects.toThrow(CredentialsError);
    await expect(source.credentials('s')).rejects.toThrow('could not read secret "s" (InternalServiceError');
    fail = false;
    await source.credentials('s');
    await source.credentials('s');
    expect(calls).toHaveLength(4);
  });

  it('an invalid secret is not cached either', async () => {
    let secret = '{"type":"aksk","ak":"AK1"}';
    const { client, calls } = fakeClient(async () => ({ SecretString: secret }));
    const source = createSecretSource({ client, clock: () => 0 });
    await expect(source.credentials('s')).rejects.toThrow('secret "s": field "sk" is missing');
    secret = AKSK;
    await expect(source.credentials('s')).resolves.toMatchObject({ ak: 'AK1' });
    expect(calls).toHaveLength(2);
  });
});

describe('createSecretSource errors', () => {
  async function errorFor(answer: () => Promise<{ SecretString?: string; SecretBinary?: Uint8Array }>): Promise<CredentialsError> {
    const { client } = fakeClient(answer);
    const error = await createSecretSource({ client }).credentials('prod/oms').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    return error as CredentialsError;
  }

  it('maps SDK errors and keeps them as cause', async () => {
    const notFound = new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    const e1 = await errorFor(() => Promise.reject(notFound));
    expect(e1.message).toBe('secret "prod/oms" was not found');
    expect(e1.cause).toBe(notFound);
    expect((await errorFor(() => Promise.reject(sdkError('AccessDeniedException')))).message).toBe('access to secret "prod/oms" was denied');
  });

  it('a binary secret or no SecretString says so', async () => {
    expect((await errorFor(async () => ({ SecretBinary: new Uint8Array([1]) }))).message).toContain('binary data (SecretBinary)');
    expect((await errorFor(async () => ({}))).message).toContain('has no SecretString');
  });
});

describe('parseSecretCacheSeconds', () => {
  it('defaults to 300, accepts whole numbers and 0, names the variable otherwise', () => {
    expect(parseSecretCacheSeconds(undefined)).toBe(300);
    expect(parseSecretCacheSeconds('')).toBe(300);
    expect(parseSecretCacheSeconds('0')).toBe(0);
    expect(parseSecretCacheSeconds('60')).toBe(60);
    expect(() => parseSecretCacheSeconds('5m')).toThrow('SECRET_CACHE_SECONDS must be a whole number');
    expect(() => parseSecretCacheSeconds('-1')).toThrow(CredentialsError);
  });
});

describe('ExpiringCache', () => {
  it('delete() during a fetch: waiters get the value, the cache does not keep it', async () => {
    const cache = new ExpiringCache<number>(() => 0);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pending = cache.get('k', async () => {
      await gate;
      return { value: 1, expiresAtMs: 100 };
    });
    cache.delete('k');
    release();
    expect(await pending).toBe(1);
    expect(cache.peek('k')).toBeUndefined();
  });

  it('a value that expires at or before now is returned but not kept', async () => {
    const cache = new ExpiringCache<string>(() => 50);
    expect(await cache.get('k', async () => ({ value: 'v', expiresAtMs: 50 }))).toBe('v');
    expect(cache.peek('k')).toBeUndefined();
  });
});
