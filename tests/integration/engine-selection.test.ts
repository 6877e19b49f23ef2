import { afterEach, describe, expect, it } from '@jest/globals';
import type { Emulator } from '../../emulator/index.js';
import { DAY, HOUR, PROJECT, PROJECT_B, deletedIds, emulator, policy, runEngine, task } from '../helpers/harness.js';

const RULES = `rules:
  - { name: succeeded-after-7d, statuses: [succeeded], olderThan: 7d, keepLatest: 3 }
  - { name: failed-after-30d, statuses: [failed], olderThan: 30d }
  - { name: stale-paused, statuses: [paused], olderThan: 14d, namePattern: "nightly-*" }
protect:
  names: ["keep-*"]
  taskIds: ["1011"]
`;

/** Every kind of task a real project holds, with the expected verdict in the comment. */
function mixedProject() {
  return [
    task('1001', 5, 8 * DAY), // succeeded, old enough, but one of the 3 newest succeeded: kept
    task('1002', 5, 6 * DAY), // succeeded, too young
    task('1004', 4, 31 * DAY), // failed, old: deleted
    task('1005', 4, 29 * DAY), // failed, too young
    task('1006', 3, 15 * DAY, { name: 'nightly-sync-1' }), // paused, matches pattern: deleted
    task('1007', 3, 15 * DAY, { name: 'adhoc-1' }), // paused, pattern does not match
    task('1008', 5, 20 * DAY, { name: 'keep-golden' }), // protected by name
    task('1009', 5, 20 * DAY, { group_type: 'GROUP_TASK' }), // protected: part of a task group
    task('1010', 0, 20 * DAY), // status 0 "pending": unknown, skipped
    task('1011', 4, 40 * DAY), // protected by id
    task('1012', 2, 3 * DAY), // migrating, no rule with stopFirst: untouched
    task('1013', 5, 20 * DAY, { start_time: undefined }), // no start_time: unknown age, skipped
    task('9007199254740993', 5, 9 * DAY), // above 2^53: JSON.parse would read ...992: deleted exactly
    task('9007199254740992', 5, 1 * DAY), // its rounding neighbour, young and kept: must survive
    { rawJson: `{"id": 1.5e3, "name": "float-id", "status": 5, "start_time": ${Date.now() - 90 * DAY}}` },
    { rawJson: `{"id": -7, "name": "negative-id", "status": 4, "start_time": ${Date.now() - 90 * DAY}}` },
    { rawJson: `{"id": 12345678901234567890123, "name": "huge-id", "status": 4, "start_time": ${Date.now() - 90 * DAY}}` },
    { rawJson: `{"id": "12/../1004", "name": "path-id", "status": 4, "start_time": ${Date.now() - 90 * DAY}}` },
    { rawJson: `{"name": "no-id", "status": 4, "start_time": ${Date.now() - 90 * DAY}}` },
  ];
}

describe('engine against the emulator: exactly the selected set', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('deletes exactly the tasks the policy selects and nothing else, ids read without precision loss', async () => {
    emu = await emulator({ projects: { [PROJECT]: mixedProject() } });
    const { summary, logs } = await runEngine(policy(emu, RULES));

    expect(deletedIds(emu)).toEqual(['1004', '1006', '9007199254740993']);
    const t = summary.targets[0]!;
    expect(t).toMatchObject({ listed: 19, selected: 3, deleted: 3, failed: 0, deferred: 0, refused: false, truncated: false });
    expect(summary.totals).toMatchObject({ listed: 19, selected: 3, deleted: 3, protected: 3 });
    // five malformed ids, one unknown status, one unknown age
    expect(summary.totals.skipped).toBe(7);
    const skipped = logs.lines.filter((l) => l.outcome === 'skipped').map((l) => l.reason);
    expect(skipped.filter((r) => r === 'malformed-id')).toHaveLength(5);
    // one line per task outcome, with the fields the spec names
    const deletedLines = logs.lines.filter((l) => l.outcome === 'deleted');
    expect(deletedLines.map((l) => l.taskId).sort()).toEqual(['1004', '1006', '9007199254740993']);
    for (const line of deletedLines) expect(line).toMatchObject({ target: 'main', level: 'INFO' });
    expect(logs.lines.at(-1)).toMatchObject({ message: 'run finished' });
  });

  it('a dry run sends no stop and no delete, and reports what a real run would delete', async () => {
    emu = await emulator({ projects: { [PROJECT]: mixedProject() } });
    const { summary, logs } = await runEngine(policy(emu, RULES), { dryRun: true });

    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(emu.stats.calls.stop ?? 0).toBe(0);
    expect(summary.dryRun).toBe(true);
    expect(summary.targets[0]).toMatchObject({ selected: 3, deleted: 0, failed: 0 });
    const would = logs.lines.filter((l) => l.outcome === 'would-delete').map((l) => l.taskId).sort();
    expect(would).toEqual(['1004', '1006', '9007199254740993']);
    expect(emu.tasks(PROJECT)).toHaveLength(19);
  });

  it('the run cap takes the oldest over all targets and defers the rest', async () => {
    const B = '5d1c1e2f3a4b4c5d8e9f0a1b2c3d4e5f';
    emu = await emulator({
      projects: {
        [PROJECT]: [task('1', 4, 40 * DAY), task('2', 4, 35 * DAY)],
        [B]: [task('3', 4, 50 * DAY), task('4', 4, 31 * DAY)],
      },
    });
    const p = policy(emu, `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\nlimits: { maxDeletesPerRun: 2 }\n`, { a: PROJECT, b: B });
    const { summary } = await runEngine(p);
    expect(deletedIds(emu, PROJECT)).toEqual(['1']);
    expect(deletedIds(emu, B)).toEqual(['3']);
    expect(summary.totals).toMatchObject({ selected: 4, deleted: 2, deferred: 2 });
    expect(summary.targets.map((t) => t.deferred)).toEqual([1, 1]);
    expect(summary.targets.map((t) => t.truncated)).toEqual([true, true]);
  });

  it('refuses a target whose selection exceeds maxDeletePercent, unless forced', async () => {
    const tasks = [task('1', 4, 40 * DAY), task('2', 4, 40 * DAY), task('3', 4, 40 * DAY), task('4', 4, 1 * DAY)];
    emu = await emulator({ projects: { [PROJECT]: tasks } });
    const p = policy(emu, `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\nlimits: { maxDeletePercent: 50, percentFloor: 0 }\n`);
    const refused = await runEngine(p);
    expect(refused.summary.targets[0]).toMatchObject({ refused: true, selected: 3, deleted: 0 });
    expect(emu.stats.calls.delete ?? 0).toBe(0);

    const forced = await runEngine(p, { force: [{}] });
    expect(forced.summary.targets[0]).toMatchObject({ refused: false, limitOverridden: true, deleted: 3 });
    expect(forced.logs.lines.filter((l) => l.message === 'limit overridden')).toEqual([expect.objectContaining({ level: 'WARN', target: 'main', kind: 'task', by: 'force', selected: 3, listed: 4 })]);
    expect(deletedIds(emu)).toEqual(['1', '2', '3']);
  });

  it('a grant lets through exactly the target and kind it names: a reviewed acceptance of one target leaves the other refused', async () => {
    const tasks = (base: number) => [task(String(base + 1), 4, 40 * DAY), task(String(base + 2), 4, 40 * DAY), task(String(base + 3), 4, 1 * DAY)];
    emu = await emulator({ projects: { [PROJECT]: tasks(0), [PROJECT_B]: tasks(10) } });
    const p = policy(emu, `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\nlimits: { maxDeletePercent: 50, percentFloor: 0 }\n`, { a: PROJECT, b: PROJECT_B });
    const { summary, logs } = await runEngine(p, { force: [{ target: 'a', kind: 'task', acceptedBy: 'ana@desk', acceptedAt: '2026-12-04T08:00:00.000Z' }, { target: 'b', kind: 'syncTask' }] });
    expect(summary.targets.map((t) => [t.name, t.refused, t.limitOverridden ?? false, t.deleted])).toEqual([['a', false, true, 2], ['b', true, false, 0]]);
    expect(deletedIds(emu)).toEqual(['1', '2']);
    expect(deletedIds(emu, PROJECT_B)).toEqual([]);
    expect(logs.lines.find((l) => l.message === 'limit overridden')).toMatchObject({ target: 'a', by: 'reviewed acceptance', acceptedBy: 'ana@desk', acceptedAt: '2026-12-04T08:00:00.000Z' });
  });

  it('an explicit purge by task id ignores ages but not protection', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('1', 5, HOUR), task('2', 5, HOUR, { name: 'keep-x' }), task('3', 5, HOUR)] } });
    const p = policy(emu, `rules:\n  - { name: old, statuses: [succeeded], olderThan: 30d }\nprotect: { names: ["keep-*"] }\n`);
    const { summary, logs } = await runEngine(p, { taskIds: ['1', '2', '999'] });
    expect(deletedIds(emu)).toEqual(['1']);
    expect(logs.lines.filter((l) => l.outcome === 'not-found').map((l) => [l.level, l.taskId])).toEqual([['WARN', '999']]);
    expect(logs.lines.filter((l) => l.outcome === 'not-selected').map((l) => [l.level, l.taskId])).toEqual([['WARN', '2']]);
    expect(summary.totals).toMatchObject({ selected: 1, deleted: 1, protected: 1 });
  });
});
