import { describe, expect, it } from '@jest/globals';
import { select } from '../../lib/policy/select.js';
import { DAY, ids, NOW, policy, rule, task } from './select-fixtures.js';

describe('select: explicit purge by task id', () => {
  it('selects exactly the named tasks whatever their age, and nothing the rules would', () => {
    const tasks = [
      task({ id: '1', ageMs: 1 * DAY }),
      task({ id: '2', ageMs: null }),
      task({ id: '3', ageMs: 30 * DAY }), // the rules would take it; not named
      task({ id: '4', ageMs: 5 * DAY, status: 'failed' }), // no rule is about failed tasks: named, so it goes
    ];
    const result = select(tasks, policy({ rules: [rule()] }), NOW, { taskIds: ['1', '2', '4'] });
    expect(ids(result)).toEqual(['2', '4', '1']); // unknown age orders as 0: first
    expect(result.selected.map((c) => c.rule)).toEqual(['task-id', 'task-id', 'task-id']);
    expect(result.selected[0]?.lastActivityMs).toBe(0);
    expect(result.kept).toBe(0);
  });

  it('never selects a named task that a keepLatest window keeps; the windows span the whole listing', () => {
    const tasks = [
      task({ id: '1', ageMs: 1 * DAY }), // newest succeeded: in the window of 2, young, not named
      task({ id: '2', ageMs: 10 * DAY }), // in the window of 2: named but kept
      task({ id: '3', ageMs: 20 * DAY }), // outside the window: named, goes
      task({ id: '4', ageMs: 2 * DAY, status: 'failed' }), // no window is about failed tasks: named, goes
    ];
    const result = select(tasks, policy({ rules: [rule({ keepLatest: 2 })] }), NOW, { taskIds: ['2', '3', '4'] });
    expect(ids(result)).toEqual(['3', '4']);
    expect(result.kept).toBe(1);
    expect(result.skipped).toEqual([]);
  });

  it('keeps a named task that any rule keeps, even when the first rule about it keeps nothing', () => {
    const rules = [
      rule({ name: 'all', olderThanDays: 7 }),
      rule({ name: 'nightly', namePattern: 'nightly-*', olderThanDays: 30, keepLatest: 1 }),
    ];
    const tasks = [task({ id: '1', name: 'nightly-1', ageMs: 10 * DAY }), task({ id: '2', name: 'nightly-2', ageMs: 20 * DAY })];
    const result = select(tasks, policy({ rules }), NOW, { taskIds: ['1', '2'] });
    expect(ids(result)).toEqual(['2']);
    expect(result.kept).toBe(1);
  });

  it('fills the windows as rule runs do: protected tasks take no slot, malformed ids do', () => {
    const tasks = [
      task({ id: '1', name: 'keep-1', ageMs: 1 * DAY }), // protected: no slot
      task({ id: '2', ageMs: 10 * DAY }),
      task({ id: '3', ageMs: 20 * DAY }),
    ];
    const rules = [rule({ keepLatest: 1 })];
    const byProtection = select(tasks, policy({ rules, protect: { names: ['keep-*'] } }), NOW, { taskIds: ['2', '3'] });
    expect(ids(byProtection)).toEqual(['3']);
    expect(byProtection.kept).toBe(1);
    const withMalformed = [task({ id: null, idText: 'x', ageMs: 1 * DAY }), ...tasks.slice(1)];
    const byMalformed = select(withMalformed, policy({ rules }), NOW, { taskIds: ['2', '3'] });
    expect(ids(byMalformed)).toEqual(['3', '2']);
    expect(byMalformed.kept).toBe(0);
  });

  it('reports an in-progress named task without stopFirst as skipped, as rule runs do, before any window', () => {
    const rules = [rule({ statuses: ['migrating'], stopFirst: true, keepLatest: 1 })];
    const tasks = [task({ id: '1', status: 'migrating', ageMs: 1 * DAY }), task({ id: '2', status: 'migrating', ageMs: 10 * DAY })];
    const plain = select(tasks, policy({ rules }), NOW, { taskIds: ['1', '2'] });
    expect(plain.selected).toEqual([]);
    expect(plain.skipped.map((s) => s.idText)).toEqual(['1', '2']);
    const stopping = select(tasks, policy({ rules }), NOW, { taskIds: ['1', '2'], stopFirst: true });
    expect(ids(stopping)).toEqual(['2']);
    expect(stopping.kept).toBe(1);
  });

  it('still honours protection, and counts only named tasks', () => {
    const tasks = [task({ id: '1', name: 'keep-1' }), task({ id: '2', name: 'keep-2' }), task({ id: '3', groupType: 'GROUP_TASK' })];
    const result = select(tasks, policy({ protect: { names: ['keep-*'] } }), NOW, { taskIds: ['1', '3'] });
    expect(result.selected).toEqual([]);
    expect(result.protected).toBe(2);
  });

  it('takes in-progress tasks only with stopFirst', () => {
    const tasks = [task({ id: '1', status: 'migrating' }), task({ id: '2', status: 'pausing' }), task({ id: '3', status: 'paused' })];
    const plain = select(tasks, policy(), NOW, { taskIds: ['1', '2', '3'] });
    expect(ids(plain)).toEqual(['3']);
    expect(plain.skipped).toEqual([
      { idText: '1', reason: 'in-progress-without-stop-first' },
      { idText: '2', reason: 'in-progress-without-stop-first' },
    ]);
    const stopping = select(tasks, policy(), NOW, { taskIds: ['1', '2', '3'], stopFirst: true });
    expect(ids(stopping).sort()).toEqual(['1', '2', '3']);
    expect(stopping.skipped).toEqual([]);
  });

  it('skips named tasks of unknown status, and a malformed id named by its printed form', () => {
    const tasks = [task({ id: '1', status: 0 }), task({ id: null, idText: '0042' }), task({ id: '42' })];
    const result = select(tasks, policy(), NOW, { taskIds: ['1', '0042'] });
    expect(result.selected).toEqual([]); // '0042' is not task 42
    expect(result.skipped).toEqual([
      { idText: '1', reason: 'unknown-status' },
      { idText: '0042', reason: 'malformed-id' },
    ]);
  });

  it('purges nothing for an empty list rather than falling back to the rules', () => {
    const result = select([task({ id: '1', ageMs: 30 * DAY })], policy(), NOW, { taskIds: [] });
    expect(result.selected).toEqual([]);
    expect(result.listed).toBe(1);
  });
});
