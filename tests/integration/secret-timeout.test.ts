/**
 * A Secrets Manager endpoint that accepts the connection and never answers: the read fails naming the secret after
 * its deadline, through the real SecretsManagerClient, instead of hanging the CLI for ever (issue 16.7).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretSource } from '../../lib/auth/secret-source.js';
import { CredentialsError } from '../../lib/auth/errors.js';
import { listenOnLoopback } from '../helpers/loopback-server.js';

describe('a Secrets Manager that never answers', () => {
  let server: Awaited<ReturnType<typeof listenOnLoopback>>;
  let requests = 0;
  beforeAll(async () => {
    // Reads the request and never answers it.
    server = await listenOnLoopback(createServer(() => (requests += 1)));
  });
  afterAll(async () => server.close());

  const client = () => new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

  it('fails the read after its deadline, naming the secret', async () => {
    const started = Date.now();
    const source = createSecretSource({ client: client(), cacheSeconds: 0, readTimeoutMs: 400 });
    const error = await source.credentials('janitor/hanging').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(CredentialsError);
    expect((error as CredentialsError).message).toMatch(/secret "janitor\/hanging" was not read within 400 ms: Secrets Manager did not answer/);
    expect((error as CredentialsError).source).toBe('janitor/hanging');
    expect(requests).toBeGreaterThan(0);
  });

  it('the caller\'s own signal (the Lambda run deadline) still wins, with its own error', async () => {
    const source = createSecretSource({ client: client(), cacheSeconds: 0, readTimeoutMs: 60_000 });
    const error = await source.credentials('janitor/hanging', { signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect((error as Error).message).not.toMatch(/was not read within/);
  });
});
