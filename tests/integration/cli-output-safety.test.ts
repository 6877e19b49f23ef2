import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, TOKEN, emulator, policyText, runCli, task } from '../helpers/harness.js';

const RULES = `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n`;
// What a hostile task name may hold: CSI (clear screen, cursor up), OSC (set the title), a C1 CSI, bidi overrides.
const HOSTILE = [
  'a\u001b[2J\u001b[Hcleared',
  'b\u001b]0;pwned\u0007title',
  'c\u009b1Aup',
  'd\u202eexe.txt',
  'e\u2066isolate\u2069\r\nnewline',
];
// Terminal controls and bidi characters that must never reach a terminal raw.
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('CLI output a person reads (issue 7.5, 7.8, 7.10, 7.11)', () => {
  let emu: Emulator;
  let policyFile: string;
  const env = { OMS_AUTH_TOKEN: TOKEN };

  beforeEach(async () => {
    emu = await emulator({ projects: { [PROJECT]: HOSTILE.map((name, i) => task(String(21 + i), 4, 40 * DAY, { name })) } });
    policyFile = join(mkdtempSync(join(tmpdir(), 'janitor-out-')), 'policy.yaml');
    writeFileSync(policyFile, policyText(emu, RULES));
  });
  afterEach(async () => {
    await emu.close();
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  it('7.5: the plan table and the summary escape control and bidi characters; stdout has none raw', async () => {
    const r = await runCli(['plan', '--policy', policyFile], env);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(UNSAFE);
    expect(r.stdout).toContain('a\\x1b[2J\\x1b[Hcleared');
    expect(r.stdout).toContain('d\\u202eexe.txt');
    expect(r.stdout).toContain('c\\x9b1Aup');
    // one table row per task: no name broke a line
    expect(r.stdout.split('\n').filter((l) => /^main\s+task\s+2\d\s/.test(l))).toHaveLength(5);
  });

  it('7.5: JSON keeps the exact names (C1 and bidi written as \\u escapes), and so do the JSON log lines', async () => {
    const r = await runCli(['plan', '--policy', policyFile, '--json'], env);
    expect(r.stdout).not.toMatch(UNSAFE);
    expect(r.stderr).not.toMatch(UNSAFE);
    const doc = JSON.parse(r.stdout) as { plan: Array<{ name: string }> };
    expect(doc.plan.map((p) => p.name).sort()).toEqual([...HOSTILE].sort());
  });

  it('7.8: a server echoing the token (whole, or cut short) in error_msg: the text summary, JSON and logs are clean', async () => {
    // A long token, as IAM's are; the server cuts its echo at 40 characters.
    const token = `MIIEXAYJKoZIhvcNAQcCoIIETTCCBEkCAQExDTALBglghkgBZQMEAgEwggJqBgkqhkiG9w0BBwGgggJbBIICV3sidG9rZW4iOnsiZXhwaXJlc19hdCI6${'Q'.repeat(200)}`;
    await emu.close();
    emu = await emulator({ tokens: [token], projects: { [PROJECT]: [task('31', 4, 40 * DAY), task('32', 4, 40 * DAY)] } });
    writeFileSync(policyFile, policyText(emu, RULES));
    emu.setTaskFault(PROJECT, '31', { method: 'DELETE', status: 400, errorCode: 'OMS.0001', errorMsg: `bad token ${token}` });
    emu.setTaskFault(PROJECT, '32', { method: 'DELETE', status: 400, errorCode: 'OMS.0001', errorMsg: `bad token ${token.slice(0, 40)}...` });
    const text = await runCli(['purge', '--policy', policyFile, '--no-dry-run'], { OMS_AUTH_TOKEN: token });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('bad token [REDACTED]');
    const json = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--json'], { OMS_AUTH_TOKEN: token });
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) {
      expect(out).not.toContain(token.slice(0, 12));
    }
  });

  it('7.11: a refused target prints the exact command that forces it, quoted for the shell', async () => {
    writeFileSync(policyFile, policyText(emu, `${RULES}limits: { maxDeletePercent: 50, percentFloor: 0 }\n`, { "prod main's": PROJECT }));
    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`oms-janitor purge --policy ${policyFile} --target 'prod main'\\''s' --no-dry-run --force task`);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    // and `plan`, which the guidance points at, lists the refused selection for review
    const plan = await runCli(['plan', '--policy', policyFile, '--json'], env);
    const rows = (JSON.parse(plan.stdout) as { plan: Array<{ taskId: string; action: string }> }).plan;
    expect(rows.map((row) => row.action)).toEqual(HOSTILE.map(() => 'refused (over maxDeletePercent)'));
  });

  it('a multi-line error keeps its own line breaks on stderr, with control characters escaped', async () => {
    writeFileSync(policyFile, `version: 1\ntargets: []\nrules: []\nbogus\u001b[2J: 1\n`);
    const r = await runCli(['plan', '--policy', policyFile], env);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(UNSAFE);
    expect(r.stderr).toMatch(/problems:\n {2}- targets: .*\n {2}- rules: /);
  });

  it('7.10: an explicit purge names the ids no listing holds, in the text summary too', async () => {
    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--task-id', '21', '--task-id', '777'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Named tasks that no listing holds \(nothing was done with them\): 777/);
  });
});
