/**
 * The notice window (issue 17.3): a run deletes only what an earlier run announced at least the window ago and is
 * still listed as announced and selected now; it announces what the rules select now. One run at a time consumes
 * the notice. The real engine, client and emulator; the archive root a local directory; time moved by the clock.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator, EmuTask } from '../../emulator/index.js';
import { openArchiveStore } from '../../lib/archive/store.js';
import { tokenAuthenticator } from '../../lib/auth/types.js';
import { NOTICE_KEY, NoticeBusy, type Notice } from '../../lib/notice/notice.js';
import { runUnderNotice } from '../../lib/notice/run.js';
import type { Policy } from '../../lib/policy/types.js';
import { createRunClient } from '../../lib/purge/runtime.js';
import { DAY, FAST_RETRY, PROJECT, TOKEN, capturedLog, deletedIds, emulator, policy, policyText, runCli, task } from '../helpers/harness.js';

const WEEK = 7 * DAY;
const RULES = 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n';

describe('notice window', () => {
  let emu: Emulator;
  afterEach(async () => emu?.close());

  function setup(tasks: EmuTask[]) {
    const dir = mkdtempSync(join(tmpdir(), 'janitor-notice-'));
    return { dir, store: openArchiveStore(join(dir, 'archive')), tasks };
  }

  async function run(p: Policy, store: ReturnType<typeof openArchiveStore>, nowMs: number, runId: string) {
    const logs = capturedLog();
    const { oms } = createRunClient(p, tokenAuthenticator(TOKEN), { retry: FAST_RETRY });
    const summary = await runUnderNotice(store, { policy: p, dryRun: false }, { oms, log: logs.log, runId, clock: () => nowMs, pollIntervalMs: 20 }, { windowMs: WEEK, policySha256: 'a'.repeat(64) });
    return { summary, logs };
  }

  const noticeOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'archive', NOTICE_KEY), 'utf8')) as Notice;

  it('announces first and deletes a week later only what is unchanged and still selected; new and changed items wait their own week', async () => {
    const t0 = Date.now();
    const world = { a1: task('1', 4, 40 * DAY, { name: 'a1' }), a2: task('2', 4, 41 * DAY, { name: 'a2' }), a3: task('3', 4, 42 * DAY, { name: 'a3' }), a4: task('6', 4, 39 * DAY, { name: 'a4' }), young: task('4', 5, DAY) };
    emu = await emulator({ projects: { [PROJECT]: Object.values(world) } });
    const { dir, store } = setup([]);

    // Run 1: nothing pending; three items announced, none deleted.
    const first = await run(policy(emu, RULES), store, t0, 'run-1');
    expect(deletedIds(emu)).toEqual([]);
    expect(first.summary.notice).toMatchObject({ pending: 4, added: 4, written: true, nextDeletion: new Date(t0 + WEEK).toISOString() });
    // Soonest to go first; among equals, the oldest first.
    expect(first.summary.notice!.first.map((f) => [f.id, f.name])).toEqual([['3', 'a3'], ['2', 'a2'], ['1', 'a1'], ['6', 'a4']]);
    expect(noticeOf(dir).items.map((i) => [i.id, i.deleteAfter]).sort()).toEqual(['1', '2', '3', '6'].map((id) => [id, new Date(t0 + WEEK).toISOString()]));
    expect(noticeOf(dir).claim).toBeUndefined();

    // Before the week is over nothing goes, and the announcements keep their time.
    await run(policy(emu, RULES), store, t0 + 3 * DAY, 'run-2');
    expect(deletedIds(emu)).toEqual([]);
    expect(noticeOf(dir).items.map((i) => i.deleteAfter)).toEqual(['1', '2', '3', '6'].map(() => new Date(t0 + WEEK).toISOString()));

    // Meanwhile: a2 becomes protected, a3 is renamed, a4 is restarted (in progress), an old failed task appears.
    emu.setTasks(PROJECT, [world.a1, world.a2, { ...world.a3, name: 'a3-renamed' }, { ...world.a4, status: 2, start_time: Date.now() - DAY }, world.young, task('5', 4, 60 * DAY, { name: 'new-old' })]);
    const t2 = t0 + WEEK + 1000;
    const second = await run(policy(emu, `${RULES}protect: { taskIds: ["2"] }\n`), store, t2, 'run-3');
    // Only a1 goes: a2 is protected now, a3 and a4 changed since they were announced (a4 is migrating again), 5 was
    // never announced. Nothing was paused.
    expect(deletedIds(emu)).toEqual(['1']);
    expect(emu.stats.calls.stop ?? 0).toBe(0);
    expect(second.summary.totals).toMatchObject({ deleted: 1, protected: 1, skipped: 2 });
    expect([...second.summary.changedSincePlan!].sort()).toEqual(['3', '6']);
    expect(second.logs.lines.filter((l) => l.outcome === 'deleted').map((l) => [l.taskId, l.from])).toEqual([['1', 'notice']]);
    // The next notice: a3 (as it is now) and 5, each with a fresh week; a2 is protected, so not announced.
    const items = noticeOf(dir).items.map((i) => [i.id, i.deleteAfter]).sort();
    expect(items).toEqual([['3', new Date(t2 + WEEK).toISOString()], ['5', new Date(t2 + WEEK).toISOString()]]);
    expect(second.summary.notice).toMatchObject({ pending: 2, added: 2 });
  });

  it('two runs never consume one notice: the second is turned away before it lists anything; a lease past its time is taken over', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('1', 4, 40 * DAY), task('2', 4, 41 * DAY)] } });
    const { store } = setup([]);
    const p = policy(emu, RULES);
    const t0 = Date.now();
    await run(p, store, t0, 'announce');
    emu.resetStats();
    const due = t0 + WEEK + 1000;
    const results = await Promise.allSettled([run(p, store, due, 'run-a'), run(p, store, due, 'run-b')]);
    const busy = results.filter((r) => r.status === 'rejected');
    expect(busy).toHaveLength(1);
    expect((busy[0] as PromiseRejectedResult).reason).toBeInstanceOf(NoticeBusy);
    expect(deletedIds(emu)).toEqual(['1', '2']);
    expect(emu.stats.calls.delete).toBe(2); // each item deleted once, by the run that holds the notice

    // A claim left by a run that died: within the lease it holds others off, after it another run takes over.
    const claimed = JSON.parse((await store.get(NOTICE_KEY))!.toString()) as Notice;
    await store.put(NOTICE_KEY, Buffer.from(JSON.stringify({ ...claimed, claim: { runId: 'dead', at: new Date(due).toISOString(), until: new Date(due + 30 * 60_000).toISOString() } })), 'application/json');
    await expect(run(p, store, due + 60_000, 'too-soon')).rejects.toThrow(/being consumed by run dead/);
    await expect(run(p, store, due + 31 * 60_000, 'after-lease')).resolves.toBeDefined();
  });

  it('CLI: a dry run never writes or consumes a notice; --notice needs --archive; apply bypasses the window', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('1', 4, 40 * DAY)] } });
    const { dir } = setup([]);
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, policyText(emu, RULES));
    const env = { OMS_AUTH_TOKEN: TOKEN };
    const root = join(dir, 'archive');
    expect((await runCli(['purge', '--policy', policyFile, '--notice', '7d', '--archive', root], env)).code).toBe(0);
    expect(existsSync(join(root, NOTICE_KEY))).toBe(false);
    expect((await runCli(['purge', '--policy', policyFile, '--notice', '7d', '--no-dry-run'], env)).stderr).toMatch(/--notice needs --archive ROOT/);
    expect((await runCli(['purge', '--policy', policyFile, '--notice', '7d', '--archive', root, '--task-id', '1', '--no-dry-run'], env)).stderr).toMatch(/--task-id does not go with --notice/);

    const real = await runCli(['purge', '--policy', policyFile, '--notice', '7d', '--archive', root, '--no-dry-run'], env);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/Notice \(window 1w\): 1 item\(s\) announced and pending, 1 new this run; the first may go after /);
    expect(deletedIds(emu)).toEqual([]);
    // A reviewed manifest is applied at once, notice or not.
    expect((await runCli(['plan', '--policy', policyFile, '--out', join(dir, 'plan.json')], env)).code).toBe(0);
    expect((await runCli(['apply', '--policy', policyFile, '--manifest', join(dir, 'plan.json'), '--no-dry-run', '--notice', '7d'], env)).stderr).toMatch(/--notice is for `purge`/);
    expect((await runCli(['apply', '--policy', policyFile, '--manifest', join(dir, 'plan.json'), '--no-dry-run'], env)).code).toBe(0);
    expect(deletedIds(emu)).toEqual(['1']);
  });
});
