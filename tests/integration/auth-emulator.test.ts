import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startEmulator } from '../../emulator/index.js';
import type { Emulator } from '../../emulator/types.js';
import { akskAuthenticator } from '../../lib/auth/aksk.js';
import { AuthError, CredentialsError } from '../../lib/auth/errors.js';
import { passwordAuthenticator } from '../../lib/auth/iam.js';
import { authenticatorFor } from '../../lib/auth/resolve.js';
import { createSecretSource } from '../../lib/auth/secret-source.js';
import { createHttp } from '../../lib/http/client.js';

const PROJECT = 'p-auth-1';
const USER = { domain: 'acme', username: 'janitor', password: 'PASSWORD-SHOULD-NOT-LEAK' };

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({
    projects: { [PROJECT]: [{ id: '191297407830872', name: 't1', status: 5, start_time: 1 }] },
    tokens: ['static-token'],
    akskCredentials: [
      { ak: 'AK-PLAIN', sk: 'SK-PLAIN' },
      { ak: 'AK-TEMP', sk: 'SK-TEMP', securityToken: 'STS-TEMP' },
      { ak: 'AK-WRONG', sk: 'SK-RIGHT' },
    ],
    users: [USER],
    secrets: {
      'prod/token': JSON.stringify({ type: 'token', token: 'static-token' }),
      'prod/aksk': JSON.stringify({ type: 'aksk', ak: 'AK-TEMP', sk: 'SK-TEMP', securityToken: 'STS-TEMP' }),
      'prod/password': JSON.stringify({ type: 'password', ...USER }),
      'prod/bad': JSON.stringify({ type: 'aksk', ak: 'AK-PLAIN' }),
      'prod/denied': JSON.stringify({ type: 'token', token: 'static-token' }),
    },
    deniedSecrets: ['prod/denied'],
  });
});

afterAll(async () => {
  await emu.close();
});

const sdkClient = () =>
  new SecretsManagerClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

/** A list call made with plain fetch, authorized by `auth`. */
async function listWith(auth: { authorize(r: Request, p: string): Promise<void> }): Promise<Response> {
  const request = new Request(`${emu.url}/v2/${PROJECT}/tasks?limit=100&offset=0`);
  await auth.authorize(request, PROJECT);
  return fetch(request);
}

describe('Secrets Manager through the real SDK client', () => {
  it('reads each shape', async () => {
    const source = createSecretSource({ client: sdkClient() });
    expect(await source.credentials('prod/token')).toEqual({ type: 'token', token: 'static-token' });
    expect(await source.credentials('prod/aksk')).toEqual({ type: 'aksk', ak: 'AK-TEMP', sk: 'SK-TEMP', securityToken: 'STS-TEMP' });
    expect(await source.credentials('prod/password')).toEqual({ type: 'password', ...USER });
    const before = emu.stats.calls['secrets-get'] ?? 0;
    await source.credentials('prod/token');
    expect(emu.stats.calls['secrets-get'] ?? 0).toBe(before);
  });

  it('a missing secret and an invalid one are CredentialsErrors', async () => {
    const source = createSecretSource({ client: sdkClient() });
    const missing = await source.credentials('prod/nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(CredentialsError);
    expect((missing as Error).message).toBe('secret "prod/nope" was not found');
    expect(((missing as Error).cause as Error).name).toBe('ResourceNotFoundException');
    await expect(source.credentials('prod/bad')).rejects.toThrow('secret "prod/bad": field "sk" is missing');
    await expect(source.credentials('prod/denied')).rejects.toThrow('access to secret "prod/denied" was denied');
  });

  it('a secret read from Secrets Manager authenticates OMS calls', async () => {
    const source = createSecretSource({ client: sdkClient() });
    for (const id of ['prod/token', 'prod/aksk']) {
      const response = await listWith(authenticatorFor(await source.credentials(id)));
      expect(response.status).toBe(200);
      await response.text();
    }
  });
});

describe('AK/SK signing against the independent verifier', () => {
  it('accepts signed requests, with and without a security token', async () => {
    const verifiedBefore = emu.stats.signedVerified;
    for (const creds of [{ ak: 'AK-PLAIN', sk: 'SK-PLAIN' }, { ak: 'AK-TEMP', sk: 'SK-TEMP', securityToken: 'STS-TEMP' }]) {
      const response = await listWith(akskAuthenticator(creds));
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ count: 1 });
    }
    expect(emu.stats.signedVerified).toBe(verifiedBefore + 2);
  });

  it('signs a POST body the verifier accepts', async () => {
    const request = new Request(`${emu.url}/v2/${PROJECT}/tasks/191297407830872/stop`, {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': 'application/json' },
    });
    await akskAuthenticator({ ak: 'AK-PLAIN', sk: 'SK-PLAIN' }).authorize(request, PROJECT);
    const response = await fetch(request);
    await response.text();
    expect(response.status).not.toBe(401);
  });

  it('a wrong SK is rejected with 401 and refresh says a retry cannot help', async () => {
    const failuresBefore = emu.stats.signatureFailures;
    const auth = akskAuthenticator({ ak: 'AK-WRONG', sk: 'SK-WRONG' });
    const response = await listWith(auth);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error_code: 'APIGW.0301' });
    expect(emu.stats.signatureFailures).toBe(failuresBefore + 1);
    expect(await auth.refresh(PROJECT, 'APIGW.0301')).toBe(false);
  });
});

describe('IAM password tokens against the emulator', () => {
  it('gets a token once, uses it, and a wrong password is an AuthError without the password', async () => {
    const http = createHttp();
    const iamBefore = emu.stats.calls['iam-token'] ?? 0;
    const auth = passwordAuthenticator({ ...USER, iamEndpoint: emu.url }, { http, clock: Date.now });
    for (let i = 0; i < 3; i += 1) {
      const response = await listWith(auth);
      expect(response.status).toBe(200);
      await response.text();
    }
    expect((emu.stats.calls['iam-token'] ?? 0) - iamBefore).toBe(1);

    const wrong = passwordAuthenticator({ ...USER, password: 'WRONG-PASSWORD', iamEndpoint: emu.url }, { http, clock: Date.now });
    const error = await listWith(wrong).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).status).toBe(401);
    expect((error as Error).message).toContain('IAM rejected the password credentials for user janitor in domain acme (HTTP 401');
    expect((error as Error).message).not.toContain('WRONG-PASSWORD');
  });

  it('an expired token is renewed once through the HTTP layer after a 401', async () => {
    const http = createHttp();
    const auth = passwordAuthenticator({ ...USER, iamEndpoint: emu.url }, { http, clock: Date.now });
    const list = () => http.request({ method: 'GET', url: `${emu.url}/v2/${PROJECT}/tasks`, searchParams: { limit: 100, offset: 0 }, projectId: PROJECT, auth });
    expect((await list()).status).toBe(200);
    const iamBefore = emu.stats.calls['iam-token'] ?? 0;
    emu.expireIamTokens();
    expect((await list()).status).toBe(200);
    expect((emu.stats.calls['iam-token'] ?? 0) - iamBefore).toBe(1);
  });
});
