import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, TOKEN, deletedIds, emulator, policyText, runCli, task } from '../helpers/harness.js';

const RULES = `rules:
  - { name: failed, statuses: [failed], olderThan: 30d }
  - { name: stuck, statuses: [migrating], olderThan: 2d, stopFirst: true }
protect: { names: ["keep-*"] }
`;

describe('CLI (in-process main) against the emulator', () => {
  let emu: Emulator;
  let dir: string;
  let policyFile: string;
  const env = { OMS_AUTH_TOKEN: TOKEN };

  beforeEach(async () => {
    emu = await emulator({
      projects: {
        [PROJECT]: [
          task('11', 4, 40 * DAY),
          task('12', 4, 10 * DAY),
          task('13', 4, 40 * DAY, { name: 'keep-this' }),
          task('14', 2, 3 * DAY, { total_time: 1000 }),
        ],
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'janitor-cli-'));
    policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, policyText(emu, RULES));
  });
  afterEach(async () => emu.close());

  it('purge is a dry run by default: nothing is stopped or deleted, exit 0, a readable summary', async () => {
    const r = await runCli(['purge', '--policy', policyFile], env);
    expect(r.code).toBe(0);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(emu.stats.calls.stop ?? 0).toBe(0);
    expect(r.stdout).toMatch(/Dry run .*nothing was changed/);
    expect(r.stdout).toMatch(/main\s+4\s+2\s+0\s+0\s+0/);
  });

  it('--json prints exactly one JSON document on stdout and logs JSON lines on stderr', async () => {
    const r = await runCli(['purge', '--policy', policyFile, '--json', '--no-dry-run'], env);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(summary).toMatchObject({ dryRun: false, totals: { listed: 4, selected: 2, deleted: 2, failed: 0, protected: 1 } });
    expect(Object.keys(summary).sort()).toEqual(['dryRun', 'finishedAt', 'runId', 'startedAt', 'targets', 'totals']);
    expect(deletedIds(emu)).toEqual(['11', '14']);
    expect(emu.stats.stopped[PROJECT]).toEqual(['14']);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.outcome === 'deleted').map((l) => l.taskId).sort()).toEqual(['11', '14']);
    // the closing line is the summary line, with the HTTP layer's counters
    expect(lines.at(-1)).toMatchObject({ message: 'run finished', totals: { deleted: 2 }, http: { retries: 0 } });
  });

  it('plan prints a table with id, name, status, age and rule, and changes nothing', async () => {
    const r = await runCli(['plan', '--policy', policyFile], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ID\s+NAME\s+STATUS\s+AGE\s+RULE/);
    expect(r.stdout).toMatch(/11\s+task-11\s+failed\s+40d 0h\s+failed/);
    expect(r.stdout).toMatch(/14\s+task-14\s+migrating\s+2d 23h\s+stuck\s+pause, then delete/);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(emu.stats.calls.stop ?? 0).toBe(0);
  });

  it('plan --json is the summary plus the plan rows', async () => {
    const r = await runCli(['plan', '--policy', policyFile, '--json'], env);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.totals).toMatchObject({ selected: 2, deleted: 0 });
    expect(doc.plan.map((p: { taskId: string; rule: string; action: string }) => [p.taskId, p.rule, p.action])).toEqual([
      ['11', 'failed', 'delete'],
      ['14', 'stuck', 'pause, then delete'], // migrating, under a stopFirst rule
    ]);
    expect(emu.stats.calls.stop ?? 0).toBe(0);
  });

  it('exit 1 when a task fails', async () => {
    emu.setTaskFault(PROJECT, '11', { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'denied' });
    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--json'], env);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).targets[0].failures[0]).toMatchObject({ taskId: '11', httpStatus: 403, errorCode: 'APIGW.0306' });
  });

  it('--task-id purges exactly the named listed tasks; in-progress ones only with --stop-first', async () => {
    const without = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--task-id', '12', '--task-id', '14', '--json'], env);
    expect(without.code).toBe(0);
    expect(deletedIds(emu)).toEqual(['12']);
    const withStop = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--task-id', '14', '--stop-first', '--json'], env);
    expect(withStop.code).toBe(0);
    expect(deletedIds(emu)).toEqual(['12', '14']);
  });

  it('a rule naming an in-progress status without stopFirst is refused with exit 2 before any request', async () => {
    writeFileSync(policyFile, policyText(emu, `rules:\n  - { name: stuck, statuses: [failed, migrating], olderThan: 2d }\n`));
    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rules\[0\]/);
    expect(r.stderr).toMatch(/stopFirst/);
    expect(emu.stats.total).toBe(0);
  });

  it.each([
    [['purge'], /--policy FILE is required/],
    [['purge', '--policy', 'x.yaml', '--bogus'], /bogus/],
    [['frobnicate'], /unknown command/],
    [['purge', '--policy', '/nonexistent/p.yaml'], /nonexistent/],
  ])('bad arguments %j: exit 2 with a message', async (argv, message) => {
    const r = await runCli(argv as string[], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('an unknown --target or a malformed --task-id is exit 2, nothing listed', async () => {
    const a = await runCli(['purge', '--policy', policyFile, '--target', 'nope'], env);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--target\[0\]: unknown target "nope"/);
    const b = await runCli(['purge', '--policy', policyFile, '--task-id', '12a'], env);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--task-id\[0\]/);
    expect(emu.stats.total).toBe(0);
  });

  it('no credentials: exit 2 naming the three ways; empty variables count as unset', async () => {
    const r = await runCli(['purge', '--policy', policyFile], { OMS_AUTH_TOKEN: '', CLOUD_SDK_AK: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/OMS_AUTH_TOKEN/);
    expect(r.stderr).toMatch(/CLOUD_SDK_AK/);
    expect(emu.stats.total).toBe(0);
  });

  it('--help prints usage and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/oms-janitor purge --policy FILE/);
  });

  it('no arguments: usage on stderr, exit 2; emulator-only flags are refused by purge', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/Usage:/);
    const wrong = await runCli(['purge', '--policy', policyFile, '--port', '3'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--port/);
  });

  it('validate checks a policy offline: exit 0 with its warnings, exit 2 naming the field; no request, no credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'janitor-validate-'));
    const file = join(dir, 'p.yaml');
    const target = '  - { name: a, projectId: 2c0689c860ad4728a497c91ec0844383, region: cn-north-4 }';
    writeFileSync(file, `version: 1\ntargets:\n${target}\nrules:\n  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }\nprotect: { names: ["keep-*"] }\n`);
    const ok = await runCli(['validate', '--policy', file], {});
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/p\.yaml: valid \(1 target\(s\), 1 rule\(s\) on taskGroup\)/);
    expect(ok.stdout).toMatch(/warning: rules\[0\]: deletes task groups, which no protection of this policy reaches/);
    const json = await runCli(['validate', '--policy', file, '--json'], {});
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, warnings: [{ field: 'rules[0]' }] });
    writeFileSync(file, `version: 1\ntargets:\n  - { name: a, projectId: 000000000000000000000000000000b1, region: cn-north4 }\nrules:\n  - { name: r, statuses: [succeeded], olderThan: 7d }\n`);
    const bad = await runCli(['validate', '--policy', file], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/targets\[0\]\.projectId: .*placeholder/);
    expect(bad.stderr).toMatch(/targets\[0\]\.region: "cn-north4" is not a region OMS is offered in \(did you mean "cn-north-4"\?\)/);
    expect((await runCli(['validate'], {})).code).toBe(2);
  });

  it('each command has its own --help, and --version says the package version', async () => {
    for (const command of ['plan', 'apply', 'purge', 'validate']) {
      const r = await runCli([command, '--help'], {});
      expect([command, r.code]).toEqual([command, 0]);
      expect(r.stdout.startsWith(`oms-janitor ${command} `)).toBe(true);
      if (command !== 'validate') expect(r.stdout).toContain('--secret-id ID');
    }
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await runCli(['--version'], {})).toMatchObject({ code: 0, stdout: `oms-janitor ${version}\n` });
  });
});

