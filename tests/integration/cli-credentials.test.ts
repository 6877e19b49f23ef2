import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, acceptingCredentials, deletedIds, emulator, policyText, runCli, task, useLoopbackSecretsManager } from '../helpers/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = { token: 'CLI-TOKEN-SHOULD-NOT-LEAK-5d2a', ak: 'AKCLIJANITOR01', sk: 'CLI-SK-SHOULD-NOT-LEAK-8e1f', password: 'CLI-PASSWORD-SHOULD-NOT-LEAK-c03b' };

describe('CLI credentials, end to end against the emulator (OMS, IAM and Secrets Manager)', () => {
  let emu: Emulator;
  let policyFile: string;
  const outputs: string[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    emu = await emulator(acceptingCredentials(SECRET));
    // The AWS SDK reads its environment from the process, once, when the CLI first builds its client.
    useLoopbackSecretsManager(emu);
    policyFile = join(mkdtempSync(join(tmpdir(), 'janitor-cli-creds-')), 'policy.yaml');
    writeFileSync(policyFile, policyText(emu, `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n`));
    emu.setSecret('cli/token', JSON.stringify({ type: 'token', token: SECRET.token }));
    emu.setSecret('cli/password', JSON.stringify({ type: 'password', domain: 'acme', username: 'janitor', password: SECRET.password, iamEndpoint: emu.url }));
    emu.setSecret('cli/broken', JSON.stringify({ type: 'aksk', ak: SECRET.ak }));
  });
  beforeEach(() => {
    emu.setTasks(PROJECT, [task('1', 4, 40 * DAY), task('2', 4, 41 * DAY), task('3', 4, 1 * DAY)]);
    emu.resetStats();
  });
  afterAll(async () => {
    await emu.close();
    process.env = saved;
  });

  async function purge(extraArgs: string[], env: Record<string, string>) {
    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--json', ...extraArgs], env);
    outputs.push(r.stdout, r.stderr);
    return r;
  }

  it('CLOUD_SDK_AK + CLOUD_SDK_SK: every request is AK/SK-signed and verified', async () => {
    const r = await purge([], { CLOUD_SDK_AK: SECRET.ak, CLOUD_SDK_SK: SECRET.sk, OMS_AUTH_TOKEN: 'not-this-one' });
    expect(r.code).toBe(0);
    expect(deletedIds(emu)).toEqual(['1', '2']);
    expect(emu.stats.signedVerified).toBe(emu.stats.calls.list! + emu.stats.calls.delete!);
    expect(emu.stats.signatureFailures).toBe(0);
  });

  it('--secret-id wins over the environment and reads the secret through the real SDK client', async () => {
    const r = await purge(['--secret-id', 'cli/token'], { CLOUD_SDK_AK: SECRET.ak, CLOUD_SDK_SK: 'wrong', OMS_AUTH_TOKEN: 'wrong' });
    expect(r.code).toBe(0);
    expect(deletedIds(emu)).toEqual(['1', '2']);
    expect(emu.stats.calls['secrets-get']).toBe(1);
    expect(emu.stats.signedRequests).toBe(0);
  });

  it('OMS_CREDENTIALS_SECRET_ID with password credentials: one IAM token for the run', async () => {
    const r = await purge([], { OMS_CREDENTIALS_SECRET_ID: 'cli/password' });
    expect(r.code).toBe(0);
    expect(deletedIds(emu)).toEqual(['1', '2']);
    expect(emu.stats.calls['iam-token']).toBe(1);
  });

  it('a wrong SK: exit 1, the target stopped after one signature failure, nothing deleted', async () => {
    const r = await purge([], { CLOUD_SDK_AK: SECRET.ak, CLOUD_SDK_SK: 'CLI-WRONG-SK-00000' });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).targets[0].error).toMatch(/401/);
    expect(emu.stats.signatureFailures).toBe(1);
    expect(deletedIds(emu)).toEqual([]);
  });

  it('a broken secret or a half-set AK/SK pair: exit 2 naming the field, nothing listed', async () => {
    const broken = await purge(['--secret-id', 'cli/broken'], {});
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/"sk"/);
    const half = await purge([], { CLOUD_SDK_AK: SECRET.ak });
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/CLOUD_SDK_SK/);
    const missing = await purge(['--secret-id', 'cli/nope'], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/not found/);
    expect(emu.stats.calls.list ?? 0).toBe(0);
  });

  it('the real binary: `oms-janitor purge --json` prints one JSON document on stdout, JSON lines on stderr, exit 0', async () => {
    const run = promisify(execFile);
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/oms-janitor.js'), 'purge', '--policy', policyFile, '--no-dry-run', '--json'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, OMS_AUTH_TOKEN: SECRET.token },
    });
    outputs.push(stdout, stderr);
    expect(JSON.parse(stdout)).toMatchObject({ dryRun: false, totals: { deleted: 2, failed: 0 } });
    for (const line of stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(deletedIds(emu)).toEqual(['1', '2']);
  });

  it('no secret value appeared in any output above', () => {
    const text = outputs.join('');
    expect(text).toMatch(/"outcome":"deleted"/);
    for (const value of [SECRET.token, SECRET.sk, SECRET.password, 'CLI-WRONG-SK-00000', ...emu.issuedIamTokens()]) expect(text).not.toContain(value);
  });
});
