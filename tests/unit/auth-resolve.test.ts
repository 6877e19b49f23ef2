import { CredentialsError } from '../../lib/auth/errors.js';
import { authenticatorFor, resolveCliCredentials } from '../../lib/auth/resolve.js';
import type { SecretSource } from '../../lib/auth/secret-source.js';
import { secretValues } from '../../lib/auth/secrets.js';
import type { Credentials } from '../../lib/auth/types.js';
import type { Http } from '../../lib/http/types.js';

const http: Http = { request: async () => ({ status: 201, headers: new Headers({ 'x-subject-token': 'iam' }), body: '{}' }) };

function fakeSecrets(credentials: Credentials) {
  const reads: string[] = [];
  const secrets: SecretSource = {
    async credentials(secretId) {
      reads.push(secretId);
      return credentials;
    },
  };
  return { secrets, reads };
}

const AKSK_ENV = { CLOUD_SDK_AK: 'AK1', CLOUD_SDK_SK: 'SK-SHOULD-NOT-LEAK' };

describe('resolveCliCredentials precedence', () => {
  it('--secret-id wins over everything, then OMS_CREDENTIALS_SECRET_ID', async () => {
    const { secrets, reads } = fakeSecrets({ type: 'password', domain: 'd', username: 'u', password: 'PASSWORD-SHOULD-NOT-LEAK' });
    const env = { ...AKSK_ENV, OMS_AUTH_TOKEN: 't', OMS_CREDENTIALS_SECRET_ID: 'from-env' };
    const a = await resolveCliCredentials({ secretId: 'from-flag' }, env, { secrets, http });
    expect(a).toMatchObject({ source: 'secret', kind: 'password', secretId: 'from-flag' });
    expect(a.authenticator.kind).toBe('password');
    const b = await resolveCliCredentials({}, env, { secrets, http });
    expect(b.secretId).toBe('from-env');
    expect(reads).toEqual(['from-flag', 'from-env']);
  });

  it('then CLOUD_SDK_AK + CLOUD_SDK_SK (+ CLOUD_SDK_SECURITY_TOKEN), then OMS_AUTH_TOKEN', async () => {
    const aksk = await resolveCliCredentials({}, { ...AKSK_ENV, OMS_AUTH_TOKEN: 't' });
    expect(aksk).toMatchObject({ source: 'env-aksk', kind: 'aksk' });
    expect(secretValues(aksk.credentials)).toEqual(['SK-SHOULD-NOT-LEAK']);
    const sts = await resolveCliCredentials({}, { ...AKSK_ENV, CLOUD_SDK_SECURITY_TOKEN: 'STS' });
    expect(sts.credentials).toEqual({ type: 'aksk', ak: 'AK1', sk: 'SK-SHOULD-NOT-LEAK', securityToken: 'STS' });
    const token = await resolveCliCredentials({}, { OMS_AUTH_TOKEN: 'TOKEN-SHOULD-NOT-LEAK' });
    expect(token).toMatchObject({ source: 'env-token', kind: 'token' });
  });

  it('empty variables count as unset', async () => {
    const env = { OMS_CREDENTIALS_SECRET_ID: '', CLOUD_SDK_AK: '', CLOUD_SDK_SK: '', CLOUD_SDK_SECURITY_TOKEN: '', OMS_AUTH_TOKEN: 'tok' };
    expect((await resolveCliCredentials({ secretId: '' }, env)).source).toBe('env-token');
    await expect(resolveCliCredentials({}, { OMS_AUTH_TOKEN: '' })).rejects.toThrow(CredentialsError);
  });

  it('half an AK/SK pair names the missing variable and never the value', async () => {
    const error = await resolveCliCredentials({}, { CLOUD_SDK_SK: 'SK-SHOULD-NOT-LEAK', OMS_AUTH_TOKEN: 't' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect((error as CredentialsError).message).toBe(
      'CLOUD_SDK_AK is not set, but CLOUD_SDK_SK is: AK/SK signing needs both CLOUD_SDK_AK and CLOUD_SDK_SK',
    );
    expect((error as CredentialsError).field).toBe('CLOUD_SDK_AK');
    await expect(resolveCliCredentials({}, { CLOUD_SDK_AK: 'AK1' })).rejects.toThrow('CLOUD_SDK_SK is not set');
    await expect(resolveCliCredentials({}, { CLOUD_SDK_SECURITY_TOKEN: 'STS' })).rejects.toThrow(
      'CLOUD_SDK_AK and CLOUD_SDK_SK are not set, but CLOUD_SDK_SECURITY_TOKEN is',
    );
  });

  it('bad environment values name the variable, not the value', async () => {
    const error = await resolveCliCredentials({}, { CLOUD_SDK_AK: 'AK1', CLOUD_SDK_SK: ' SK-SHOULD-NOT-LEAK' }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('environment: CLOUD_SDK_SK must not have surrounding whitespace or control characters');
  });

  it('no credentials lists the three ways', async () => {
    await expect(resolveCliCredentials({}, {})).rejects.toThrow(
      'no credentials: pass --secret-id ID (or set OMS_CREDENTIALS_SECRET_ID), or set CLOUD_SDK_AK and CLOUD_SDK_SK, or set OMS_AUTH_TOKEN',
    );
  });

  it('the result can be logged without its values', async () => {
    const result = await resolveCliCredentials({}, { OMS_AUTH_TOKEN: 'TOKEN-SHOULD-NOT-LEAK' });
    expect(JSON.stringify(result)).not.toContain('TOKEN-SHOULD-NOT-LEAK');
    expect(Object.keys(result)).not.toContain('credentials');
  });
});

describe('authenticatorFor', () => {
  it('maps each kind', async () => {
    const token = authenticatorFor({ type: 'token', token: 'tok' });
    const request = new Request('https://h.example/');
    await token.authorize(request, 'p1');
    expect(request.headers.get('x-auth-token')).toBe('tok');
    expect(await token.refresh('p1', undefined)).toBe(false);
    expect(authenticatorFor({ type: 'aksk', ak: 'a', sk: 's' }).kind).toBe('aksk');
    expect(authenticatorFor({ type: 'password', domain: 'd', username: 'u', password: 'p' }, { http }).kind).toBe('password');
    expect(() => authenticatorFor({ type: 'password', domain: 'd', username: 'u', password: 'p' })).toThrow('need an Http');
  });
});
