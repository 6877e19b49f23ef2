/**
 * "Stuck" means no progress (issue 17.4): a rule with noProgressFor selects an item in progress only when its listed
 * counters have not moved for that long across the runs recorded in the archive root. The real engine and client
 * against the emulator, three runs, time moved by the clock; the record in a local archive root.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator, EmuTask } from '../../emulator/index.js';
import { ProgressRecord } from '../../lib/archive/progress.js';
import { openArchiveStore } from '../../lib/archive/store.js';
import { parsePolicy } from '../../lib/policy/load.js';
import { silentLog } from '../../lib/log/types.js';
import { DAY, PROJECT, TOKEN, deletedIds, emulator, policy, policyText, runCli, runEngine, task } from '../helpers/harness.js';

const RULE = 'rules:\n  - { name: stalled, statuses: [migrating], olderThan: 1d, noProgressFor: 2d, stopFirst: true }\n';

describe('noProgressFor', () => {
  let emu: Emulator;
  afterEach(async () => emu?.close());

  it('across three runs: the item whose counters never moved goes once they have not moved for 2 days; a moving one and one without counters stay', async () => {
    const t0 = Date.now();
    const counters = (done: number) => ({ progress: done / 100, successful_num: done, total_num: 100, complete_size: done * 1000 });
    const tasks = (bDone: number): EmuTask[] => [
      task('1', 2, 10 * DAY, { name: 'stuck', ...counters(40) } as never),
      task('2', 2, 10 * DAY, { name: 'moving', ...counters(bDone) } as never),
      task('3', 2, 10 * DAY, { name: 'no-counters' }),
    ];
    emu = await emulator({ projects: { [PROJECT]: tasks(10) }, stopDelayMs: 10 });
    const store = openArchiveStore(join(mkdtempSync(join(tmpdir(), 'janitor-progress-')), 'archive'));
    const p = policy(emu, RULE);
    const runAt = async (nowMs: number) => {
      const record = (await ProgressRecord.load(store, silentLog))!;
      const result = await runEngine(p, {}, { progress: record, clock: () => nowMs });
      await record.save(store, nowMs);
      return result;
    };

    // Run 1: everything is seen for the first time: nothing is stuck.
    expect((await runAt(t0)).summary.totals.selected).toBe(0);
    // Run 2, a day later: task 2 moved; task 1 has not moved for one day only.
    emu.setTasks(PROJECT, tasks(30));
    expect((await runAt(t0 + DAY)).summary.totals.selected).toBe(0);
    // Run 3, three days after the first: task 1 has not moved for 3 days; task 2 moved again; task 3 has no counters.
    emu.setTasks(PROJECT, tasks(50));
    const third = await runAt(t0 + 3 * DAY);
    expect(third.summary.totals).toMatchObject({ selected: 1, deleted: 1 });
    expect(deletedIds(emu)).toEqual(['1']);
    expect(emu.stats.calls.stop).toBe(1); // paused first, as for any stopFirst rule
  });

  it('a task that has just started migrating is not stuck, however long it was queued with its counters at 0', async () => {
    const t0 = Date.now();
    const zero = { progress: 0, successful_num: 0, total_num: 100, complete_size: 0 };
    emu = await emulator({ projects: { [PROJECT]: [task('1', 1, 10 * DAY, { name: 'queued', ...zero } as never)] }, stopDelayMs: 10 });
    const store = openArchiveStore(join(mkdtempSync(join(tmpdir(), 'janitor-progress-')), 'archive'));
    const p = policy(emu, RULE);
    for (const [nowMs, status] of [[t0, 1], [t0 + DAY, 1], [t0 + 3 * DAY, 2]] as const) {
      emu.setTasks(PROJECT, [task('1', status, 10 * DAY, { name: 'queued', ...zero } as never)]);
      const record = (await ProgressRecord.load(store, silentLog))!;
      const { summary } = await runEngine(p, {}, { progress: record, clock: () => nowMs });
      await record.save(store, nowMs);
      expect(summary.totals.selected).toBe(0);
    }
    expect(deletedIds(emu)).toEqual([]);
  });

  it('plan reads the progress record of --archive (read-only), so a plan lists stuck items for review', async () => {
    const t0 = Date.now();
    emu = await emulator({ projects: { [PROJECT]: [task('1', 2, 10 * DAY, { progress: 0.4, successful_num: 4 } as never)] } });
    const dir = mkdtempSync(join(tmpdir(), 'janitor-progress-'));
    const store = openArchiveStore(join(dir, 'archive'));
    // A run three days ago saw it with the same counters.
    const record = (await ProgressRecord.load(store, silentLog))!;
    await runEngine(policy(emu, RULE), {}, { progress: record, clock: () => t0 - 3 * DAY });
    await record.save(store, t0 - 3 * DAY);
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, policyText(emu, RULE));
    const planned = await runCli(['plan', '--policy', policyFile, '--archive', join(dir, 'archive'), '--json'], { OMS_AUTH_TOKEN: TOKEN });
    expect(planned.code).toBe(0);
    expect((JSON.parse(planned.stdout) as { plan: { id: string; rule: string }[] }).plan.map((r) => [r.id, r.rule])).toEqual([['1', 'stalled']]);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
  });

  it('without a progress record the rule selects nothing, and the run says why', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('1', 2, 10 * DAY, { progress: 0.4 } as never)] } });
    const { summary, logs } = await runEngine(policy(emu, RULE));
    expect(summary.totals.selected).toBe(0);
    expect(logs.lines.find((l) => l.message === 'progress not watched')).toMatchObject({ level: 'WARN', rules: ['stalled'] });
  });

  it.each([
    ['a sync task rule', 'rules:\n  - { name: s, kind: syncTask, statuses: [synchronizing], olderThan: 1d, noProgressFor: 2d, stopFirst: true }\n', /rules\[0\]\.noProgressFor: a sync task listing carries no progress counters/],
    ['a finished status', 'rules:\n  - { name: s, statuses: [migrating, failed], olderThan: 1d, noProgressFor: 2d, stopFirst: true }\n', /rules\[0\]\.noProgressFor: is about items in progress; failed make no progress/],
  ])('%s with noProgressFor is refused, naming the field', (_what, rules, message) => {
    expect(() => parsePolicy(`version: 1\ntargets:\n  - { name: a, projectId: p1, region: cn-north-4 }\n${rules}`)).toThrow(message);
  });
});
