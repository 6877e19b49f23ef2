import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { resolveCliCredentials } from '../../lib/auth/resolve.js';
import { createSecretSource } from '../../lib/auth/secret-source.js';
import { ALLOWED_HOSTS_ENV, HostAllowList } from '../../lib/http/allowed-hosts.js';
import { createHttp } from '../../lib/http/client.js';
import { parsePolicy, PolicyError } from '../../lib/policy/load.js';
import { DAY, PROJECT, TOKEN, emulator, policyText, runCli, task } from '../helpers/harness.js';

const allow = (value?: string) => HostAllowList.fromEnv(value === undefined ? {} : { [ALLOWED_HOSTS_ENV]: value });
const policyWith = (endpoint: string) =>
  `version: 1\ntargets:\n  - name: main\n    projectId: ${PROJECT}\n    region: cn-north-4\n    endpoint: "${endpoint}"\nrules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n`;

describe('HostAllowList', () => {
  it.each([
    'oms.cn-north-4.myhuaweicloud.com',
    'iam.myhuaweicloud.com',
    'OMS.AP-SOUTHEAST-1.MYHUAWEICLOUD.COM',
    'oms.cn-north-4.myhuaweicloud.com.', // a fully qualified name with its root dot
    'moderation.cn-north-4.myhuaweicloud.cn',
    'oms.eu-west-101.myhuaweicloud.eu',
    '127.0.0.1',
    'localhost',
    '[::1]',
  ])('allows %s by default', (host) => {
    expect(allow().allows(host)).toBe(true);
  });

  it.each([
    'myhuaweicloud.com', // the bare domain serves no API
    'myhuaweicloud.com.collector.example',
    'evilmyhuaweicloud.com',
    'oms.cn-north-4.myhuaweicloud.co',
    'oms.cn-north-4.huaweicloud.com.cn',
    'oms-cn-north-4-myhuaweicloud.com',
    '10.0.0.8',
    '127.0.0.2',
    'example.com',
  ])('refuses %s by default', (host) => {
    expect(allow().allows(host)).toBe(false);
  });

  it('adds exact names and *.domain wildcards from OMS_JANITOR_ALLOWED_HOSTS; a wildcard does not cover its bare domain', () => {
    const list = allow(' oms.private.example , *.corp.example,');
    expect(list.allows('oms.private.example')).toBe(true);
    expect(list.allows('api.oms.private.example')).toBe(false);
    expect(list.allows('oms.eu.corp.example')).toBe(true);
    expect(list.allows('corp.example')).toBe(false);
    expect(list.allows('xcorp.example')).toBe(false);
    expect(list.allows('oms.cn-north-4.myhuaweicloud.com')).toBe(true);
  });

  it.each(['https://oms.example.com', 'oms.example.com:443', '*', '*.', 'oms.example.com/x', 'a..b', '**.example.com', 'oms_x.example.com'])(
    'refuses the entry %j, naming the variable and the entry',
    (entry) => {
      const error = (() => {
        try {
          allow(`ok.example.com,${entry}`);
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(error).toMatchObject({ name: 'AllowedHostsError' });
      expect(error!.message).toContain(`${ALLOWED_HOSTS_ENV}: entry 2`);
    },
  );
});

describe('inside AWS Lambda\'s runtime', () => {
  const lambda = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };

  it('loopback is refused (it is the sandbox, never the emulator); the official domains are still allowed', () => {
    const inLambda = HostAllowList.fromEnv(lambda);
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) expect([host, inLambda.allows(host)]).toEqual([host, false]);
    expect(inLambda.allows('oms.cn-north-4.myhuaweicloud.com')).toBe(true);
    expect(inLambda.refusal('http://127.0.0.1:8790')).toMatch(/is loopback, and inside AWS Lambda/);
    // invoke local, the tests and the CLI do not run in the Lambda runtime: loopback stays allowed there.
    expect(HostAllowList.fromEnv({ AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' }).allows('127.0.0.1')).toBe(true);
  });

  it('a policy whose endpoint is loopback is refused there, naming targets[0].endpoint', () => {
    expect(() => parsePolicy(policyWith('http://127.0.0.1:8790'), 'stage.yaml', { allowedHosts: HostAllowList.fromEnv(lambda) })).toThrow(/targets\[0\]\.endpoint: host "127\.0\.0\.1" is loopback, and inside AWS Lambda/);
  });
});

describe('a policy endpoint outside the list', () => {
  it('is refused naming targets[i].endpoint and its line, unless the operator allows the host', () => {
    const text = policyWith('https://oms.collector.example');
    let error: unknown;
    try {
      parsePolicy(text, 'p.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).issues).toEqual([
      expect.objectContaining({ path: 'targets[0].endpoint', line: 6, message: expect.stringContaining('host "oms.collector.example" is not loopback') }),
    ]);
    expect(parsePolicy(text, 'p.yaml', { allowedHosts: allow('*.collector.example') }).targets[0]!.endpoint).toBe('https://oms.collector.example');
  });

  it('with the CLI: exit 2 naming the field, before any request (not even the secret is read)', async () => {
    const emu = await emulator({ projects: { [PROJECT]: [task('1', 4, 40 * DAY)] }, secrets: { 'janitor/token': JSON.stringify({ type: 'token', token: TOKEN }) } });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'janitor-hosts-'));
      const file = join(dir, 'policy.yaml');
      writeFileSync(file, policyWith('https://oms.collector.example'));
      const env = { AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
      const r = await runCli(['purge', '--policy', file, '--no-dry-run', '--secret-id', 'janitor/token'], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/targets\[0\]\.endpoint: host "oms\.collector\.example" is not loopback/);
      expect(emu.stats.calls).toEqual({});

      // A malformed allow-list is refused the same way, naming the variable.
      writeFileSync(file, policyText(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n'));
      const bad = await runCli(['purge', '--policy', file, '--no-dry-run'], { OMS_AUTH_TOKEN: TOKEN, [ALLOWED_HOSTS_ENV]: 'https://oms.collector.example' });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`${ALLOWED_HOSTS_ENV}: entry 1`);
      expect(emu.stats.calls).toEqual({});
    } finally {
      await emu.close();
    }
  });
});

describe('a password secret whose iamEndpoint is outside the list', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('is refused naming the field before any IAM request; allowed when the operator lists the host', async () => {
    const secret = JSON.stringify({ type: 'password', domain: 'acme', username: 'janitor', password: 'PASSWORD-STAYS-HOME-1', iamEndpoint: 'https://iam.collector.example' });
    emu = await emulator({ secrets: { 'janitor/pw': secret } });
    const env = { AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const secrets = createSecretSource({ cacheSeconds: 0 });
      const refused = await resolveCliCredentials({ secretId: 'janitor/pw' }, {}, { secrets, http: createHttp() }).catch((e: Error) => e);
      expect(refused).toMatchObject({ name: 'CredentialsError', field: 'iamEndpoint' });
      expect((refused as Error).message).toMatch(/secret "janitor\/pw": field "iamEndpoint": host "iam\.collector\.example"/);
      expect((refused as Error).message).not.toContain('PASSWORD-STAYS-HOME-1');
      const allowed = await resolveCliCredentials({ secretId: 'janitor/pw' }, {}, { secrets, http: createHttp(), allowedHosts: allow('iam.collector.example') });
      expect(allowed.kind).toBe('password');
      expect(emu.stats.calls['iam-token'] ?? 0).toBe(0);
    } finally {
      process.env = saved;
    }
  });
});

describe('the HTTP layer, the last check', () => {
  it('sends nothing to a host outside the list (RefusedHostError, final, no retry); sends to a host the operator allowed', async () => {
    const sent: string[] = [];
    const fetch = (async (input: Request) => {
      sent.push(input.url);
      return new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } });
    }) as unknown as typeof globalThis.fetch;
    const refused = await createHttp({ fetch }).request({ method: 'GET', url: 'https://oms.collector.example/v2/p/tasks' }).catch((e: Error) => e);
    expect(refused).toMatchObject({ name: 'RefusedHostError' });
    expect((refused as Error).message).toMatch(/^GET \/v2\/p\/tasks was not sent: host "oms\.collector\.example"/);
    const lookalike = await createHttp({ fetch }).request({ method: 'DELETE', url: 'https://myhuaweicloud.com.collector.example/v2/p/tasks/1' }).catch((e: Error) => e);
    expect(lookalike).toMatchObject({ name: 'RefusedHostError' });
    expect(sent).toEqual([]);

    const ok = await createHttp({ fetch, allowedHosts: allow('*.collector.example') }).request({ method: 'GET', url: 'https://oms.collector.example/v2/p/tasks' });
    expect(ok.status).toBe(200);
    await createHttp({ fetch }).request({ method: 'GET', url: 'https://oms.cn-north-4.myhuaweicloud.com/v2/p/tasks' });
    expect(sent).toEqual(['https://oms.collector.example/v2/p/tasks', 'https://oms.cn-north-4.myhuaweicloud.com/v2/p/tasks']);
  });
});
