import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startEmulator } from '../../emulator/index.js';
import type { Emulator } from '../../emulator/index.js';

const SECRET = JSON.stringify({ type: 'token', token: 'abc' });
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:oms/prod-Ab12Cd';

describe('Secrets Manager endpoint, spoken to by the real SDK client', () => {
  let emu: Emulator;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    emu = await startEmulator({
      secrets: { 'oms/dev': SECRET, [ARN]: '{"type":"aksk","ak":"a","sk":"b"}' },
      deniedSecrets: ['oms/forbidden'],
    });
    client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: emu.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await emu.close();
  });

  it('gets a secret by name, with ARN, version and a Date CreatedDate', async () => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: 'oms/dev' }));
    expect(out.SecretString).toBe(SECRET);
    expect(out.Name).toBe('oms/dev');
    expect(out.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:oms\/dev-[A-Za-z0-9]{6}$/);
    expect(out.VersionStages).toEqual(['AWSCURRENT']);
    expect(out.CreatedDate).toBeInstanceOf(Date);
    // The ARN it reports fetches the same secret.
    expect((await client.send(new GetSecretValueCommand({ SecretId: out.ARN }))).SecretString).toBe(SECRET);
    expect(emu.stats.calls['secrets-get']).toBe(2);
  });

  it('gets a secret stored by ARN, naming it from the ARN', async () => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: ARN }));
    expect([out.Name, out.ARN]).toEqual(['oms/prod', ARN]);
  });

  it('answers ResourceNotFoundException for a missing secret', async () => {
    const error = await client.send(new GetSecretValueCommand({ SecretId: 'oms/missing' })).catch((e: unknown) => e);
    expect((error as Error).name).toBe('ResourceNotFoundException');
    expect((error as Error).message).toBe("Secrets Manager can't find the specified secret.");
    expect((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(400);
  });

  it('answers AccessDeniedException for a denied secret', async () => {
    const error = await client.send(new GetSecretValueCommand({ SecretId: 'oms/forbidden' })).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AccessDeniedException');
  });

  it('serves secrets added later with setSecret', async () => {
    emu.setSecret('oms/late', 'v');
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'oms/late' }))).SecretString).toBe('v');
  });
});
