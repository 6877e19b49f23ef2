import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { checkStagePrefix } from '../../lib/auth/resolve.js';
import { parsePolicy } from '../../lib/policy/load.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { DAY, deletedIds, emulator, runCli, task, useLoopbackSecretsManager } from '../helpers/harness.js';

// Two Huawei accounts: A (the run's token) owns project PA; B (an AK/SK kept in its own secret) owns PB. The emulator
// refuses either account's credentials on the other's project and counts every such attempt.
const PA = '2c0689c860ad4728a497c91ec08000aa';
const PB = '2c0689c860ad4728a497c91ec08000bb';
const PC = '2c0689c860ad4728a497c91ec08000cc';
const TOKEN_A = 'TOKEN-OF-ACCOUNT-A-0001';
const B = { ak: 'AKOFACCOUNTB00000001', sk: 'SK-OF-ACCOUNT-B-MUST-STAY-HOME-77' };
const RULES = 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n';

describe('several accounts in one policy: targets[].credentials', () => {
  let emu: Emulator;
  let dir: string;
  let env: Record<string, string>;

  // One emulator for the file: the CLI's Secrets Manager client is built once per process, for the first endpoint.
  beforeAll(async () => {
    emu = await emulator({
      tokens: [TOKEN_A],
      akskCredentials: [B],
      accounts: [
        { name: 'A', projects: [PA, PC], tokens: [TOKEN_A] },
        { name: 'B', projects: [PB], aks: [B.ak] },
      ],
      secrets: {
        'oms-janitor/prod/account-b': JSON.stringify({ type: 'aksk', ...B }),
        'oms-janitor/prod/elsewhere': JSON.stringify({ type: 'password', domain: 'b', username: 'u', password: 'PASSWORD-STAYS-HOME-9', iamEndpoint: 'https://iam.collector.example' }),
      },
    });
    // The AWS SDK reads its region and endpoint from the process environment, as the CLI's does.
    useLoopbackSecretsManager(emu);
  });
  afterAll(async () => {
    process.env = { ...saved };
    await emu.close();
  });
  const saved = { ...process.env };
  beforeEach(() => {
    emu.setTasks(PA, [task('11', 4, 40 * DAY), task('12', 4, 41 * DAY), task('13', 5, 1 * DAY)]);
    emu.setTasks(PB, [task('21', 4, 40 * DAY), task('22', 4, 50 * DAY)]);
    emu.setTasks(PC, [task('31', 4, 40 * DAY)]);
    emu.resetStats();
    dir = mkdtempSync(join(tmpdir(), 'janitor-accounts-'));
    env = { OMS_AUTH_TOKEN: TOKEN_A };
  });

  function policyFile(targets: string): string {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, `version: 1\ntargets:\n${targets}\n${RULES}`);
    return file;
  }
  const target = (name: string, project: string, extra = '') => `  - { name: ${name}, projectId: ${project}, region: cn-north-4, endpoint: "${emu.url}"${extra} }`;
  const withSecret = (secretId: string) => `, credentials: { secretId: ${secretId} }`;

  it("deletes in both accounts, each with its own credentials; one account's credentials never reach the other's project", async () => {
    const file = policyFile([target('a', PA), target('b', PB, withSecret('oms-janitor/prod/account-b'))].join('\n'));
    const r = await runCli(['purge', '--policy', file, '--no-dry-run', '--json'], env);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as RunSummary;
    expect(summary.targets.map((t) => [t.name, t.deleted, t.failed])).toEqual([['a', 2, 0], ['b', 2, 0]]);
    expect(deletedIds(emu, PA)).toEqual(['11', '12']);
    expect(deletedIds(emu, PB)).toEqual(['21', '22']);
    expect(emu.stats.crossAccount).toBe(0);
    expect(emu.stats.accountsSeen).toEqual({ [PA]: ['A'], [PB]: ['B'] });
    expect(emu.stats.signedVerified).toBeGreaterThan(0); // B's requests were signed with B's AK
    expect(emu.stats.calls['secrets-get']).toBe(1);
    // B's SK never appears in anything the CLI wrote.
    expect(r.stdout + r.stderr).not.toContain(B.sk);
    const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.message === 'target credentials resolved')).toMatchObject({ target: 'b', secretId: 'oms-janitor/prod/account-b', kind: 'aksk' });
  });

  it('a target whose secret cannot be read stops alone: nothing is sent for it, the other targets go on, exit 1', async () => {
    const file = policyFile([target('a', PA), target('b', PB, withSecret('oms-janitor/prod/missing')), target('c', PC)].join('\n'));
    const r = await runCli(['purge', '--policy', file, '--no-dry-run', '--json'], env);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout) as RunSummary;
    const b = summary.targets.find((t) => t.name === 'b')!;
    expect(b).toMatchObject({ listed: 0, deleted: 0, truncated: true });
    expect(b.error).toMatch(/^stopped: its credentials failed: .*oms-janitor\/prod\/missing/);
    expect(deletedIds(emu, PA)).toEqual(['11', '12']);
    expect(deletedIds(emu, PC)).toEqual(['31']);
    expect(deletedIds(emu, PB)).toEqual([]);
    // Not even the run's token went to B's project instead.
    expect(emu.stats.accountsSeen[PB]).toBeUndefined();
    expect(emu.stats.crossAccount).toBe(0);
  });

  it("a target's secret whose iamEndpoint is outside the allow-list refuses the whole run: exit 2, before any OMS request", async () => {
    const file = policyFile([target('a', PA), target('b', PB, withSecret('oms-janitor/prod/elsewhere'))].join('\n'));
    const r = await runCli(['purge', '--policy', file, '--no-dry-run', '--json'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/secret "oms-janitor\/prod\/elsewhere": field "iamEndpoint": host "iam\.collector\.example"/);
    expect(r.stdout + r.stderr).not.toContain('PASSWORD-STAYS-HOME-9');
    expect(emu.stats.calls.list ?? 0).toBe(0);
    expect(emu.stats.calls['iam-token'] ?? 0).toBe(0);
  });

  it('when every target has credentials of its own, the run needs none', async () => {
    const file = policyFile(target('b', PB, withSecret('oms-janitor/prod/account-b')));
    const r = await runCli(['purge', '--policy', file, '--no-dry-run', '--json'], { ...env, OMS_AUTH_TOKEN: '' });
    expect(r.code).toBe(0);
    expect(deletedIds(emu, PB)).toEqual(['21', '22']);
  });

  it("the emulator does refuse one account's credentials on another's project (so the counts above can fail)", async () => {
    const file = policyFile(target('b-with-a-token', PB));
    const r = await runCli(['purge', '--policy', file, '--no-dry-run', '--json'], env);
    expect(r.code).toBe(1);
    expect(emu.stats.crossAccount).toBeGreaterThan(0);
    expect(deletedIds(emu, PB)).toEqual([]);
  });
});

describe('targets[].credentials in the policy and in Lambda', () => {
  const base = (credentials: string) =>
    `version: 1\ntargets:\n  - { name: b, projectId: ${PB}, region: cn-north-4${credentials} }\n${RULES}`;

  it('is a strict object with a secretId; anything else is refused naming the field', () => {
    expect(parsePolicy(base(', credentials: { secretId: oms-janitor/prod/b }')).targets[0]!.credentials).toEqual({ secretId: 'oms-janitor/prod/b' });
    expect(() => parsePolicy(base(', credentials: { secretID: x }'))).toThrow(/targets\[0\]\.credentials\.secretID: unknown field/);
    expect(() => parsePolicy(base(', credentials: { secretId: "a b" }'))).toThrow(/targets\[0\]\.credentials\.secretId: expected a Secrets Manager secret name/);
    expect(() => parsePolicy(base(', credentials: {}'))).toThrow(/targets\[0\]\.credentials\.secretId/);
  });

  it("in Lambda only secrets under the stage's secret name may be named, checked at cold start", () => {
    const targets = [{}, { credentials: { secretId: 'oms-janitor/prod/account-b' } }];
    expect(() => checkStagePrefix(targets, 'oms-janitor/prod')).not.toThrow();
    for (const secretId of ['oms-janitor/staging/account-b', 'oms-janitor/prod', 'oms-janitor/prod/', 'oms-janitor/production/x', 'arn:aws:secretsmanager:ap-southeast-1:1:secret:oms-janitor/prod/b']) {
      expect(() => checkStagePrefix([{}, { credentials: { secretId } }], 'oms-janitor/prod')).toThrow(/^targets\[1\]\.credentials\.secretId: .* is not under this stage's prefix "oms-janitor\/prod\/"/);
    }
  });
});
