/**
 * People guard rails (issue 16.5): on a terminal a real purge or apply says what will go and asks for the count
 * first (--yes skips it; without a terminal nobody is asked), and every deletion leaves a line whatever the log level.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main, type CliIo } from '../../bin/cli.js';
import type { Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, TOKEN, deletedIds, emulator, policyText, runCli, task } from '../helpers/harness.js';

/**
 * The CLI in-process as on a terminal: stderr and stdin are TTYs, and `answer` is typed when the question comes
 * (`null`: the input ends instead, as with Ctrl-D).
 */
async function onTerminal(argv: string[], answer: string | undefined | null) {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: true });
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  let err = '';
  let out = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
    if (answer !== undefined && /Type \d+ to delete them/.test(err)) {
      if (answer === null) stdin.end();
      else stdin.write(`${answer}\n`);
      answer = undefined;
    }
  });
  const io: CliIo = { env: { OMS_AUTH_TOKEN: TOKEN }, stdout, stderr, stdin };
  const code = await main(argv, io);
  return { code, stdout: out, stderr: err };
}

describe('CLI: asking before a real run, and a record of every deletion', () => {
  let emu: Emulator;
  let policyFile: string;
  beforeEach(async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('1', 4, 40 * DAY, { name: 'old-1' }), task('2', 4, 41 * DAY, { name: 'old-2' }), task('3', 5, 1 * DAY)] } });
    policyFile = join(mkdtempSync(join(tmpdir(), 'janitor-confirm-')), 'p.yaml');
    writeFileSync(policyFile, policyText(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n'));
  });
  afterEach(async () => emu.close());

  it('on a terminal, purge --no-dry-run shows the counts and deletes only when the count is typed back', async () => {
    const no = await onTerminal(['purge', '--policy', policyFile, '--no-dry-run'], 'yes');
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/About to delete \(pausing first where OMS needs it\):\n {2}main: 2 tasks\n/);
    expect(no.stderr).toMatch(/not confirmed: nothing was paused or deleted \(2 item\(s\) would have gone\)/);
    expect(emu.stats.calls.delete ?? 0).toBe(0);

    const yes = await onTerminal(['purge', '--policy', policyFile, '--no-dry-run'], '2');
    expect(yes.code).toBe(0);
    expect(deletedIds(emu)).toEqual(['1', '2']);
    // The terminal's level is WARN, yet each deletion has its line, in a compact form.
    expect(yes.stderr).toMatch(/deleted task 1 "old-1" in main \(rule failed\)/);
    expect(yes.stderr).toMatch(/deleted task 2 "old-2" in main \(rule failed\)/);
  });

  it('the input ending at the question (Ctrl-D) is a no: exit 1, nothing deleted, no hang', async () => {
    const r = await onTerminal(['purge', '--policy', policyFile, '--no-dry-run'], null);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not confirmed: nothing was paused or deleted/);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
  });

  it('--yes answers for the operator; a dry run and a run without a terminal are never asked', async () => {
    const dry = await onTerminal(['purge', '--policy', policyFile], undefined);
    expect([dry.code, dry.stderr.includes('About to delete')]).toEqual([0, false]);
    const yes = await onTerminal(['purge', '--policy', policyFile, '--no-dry-run', '--yes'], undefined);
    expect([yes.code, yes.stderr.includes('About to delete')]).toEqual([0, false]);
    expect(deletedIds(emu)).toEqual(['1', '2']);
  });

  it('without a terminal, at --log-level ERROR, each deletion is still one JSON line', async () => {
    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--log-level', 'ERROR'], { OMS_AUTH_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.outcome === 'deleted').map((l) => l.taskId).sort()).toEqual(['1', '2']);
    expect(lines.every((l) => l.outcome === 'deleted' || l.level === 'ERROR')).toBe(true);
  });
});
