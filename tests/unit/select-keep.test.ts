import { describe, expect, it } from '@jest/globals';
import { select } from '../../lib/policy/select.js';
import { DAY, ids, NOW, policy, rule, task } from './select-fixtures.js';

const ages = (...days: number[]) => days.map((d, i) => task({ id: String(i + 1), ageMs: d * DAY }));

describe('select: keepLatest windows', () => {
  it('keeps the N newest matching tasks and selects the rest', () => {
    const result = select(ages(10, 20, 30, 40), policy({ rules: [rule({ keepLatest: 2 })] }), NOW);
    expect(ids(result)).toEqual(['4', '3']);
    expect(result.kept).toBe(2);
  });

  it('breaks a tie in last activity by keeping the larger id (compared as numbers)', () => {
    const tasks = [task({ id: '9', ageMs: 10 * DAY }), task({ id: '10', ageMs: 10 * DAY })];
    const result = select(tasks, policy({ rules: [rule({ keepLatest: 1 })] }), NOW);
    expect(ids(result)).toEqual(['9']);
  });

  it('fills the window regardless of age: young tasks take the slots', () => {
    const result = select(ages(1, 2, 10, 20, 30), policy({ rules: [rule({ keepLatest: 2, olderThanDays: 7 })] }), NOW);
    expect(ids(result)).toEqual(['5', '4', '3']);
    expect(result.kept).toBe(0);
  });

  it('leaves tasks of unknown age out of the window', () => {
    const tasks = [task({ id: '1', ageMs: null }), task({ id: '2', ageMs: 10 * DAY }), task({ id: '3', ageMs: 20 * DAY })];
    const result = select(tasks, policy({ rules: [rule({ keepLatest: 1 })] }), NOW);
    expect(ids(result)).toEqual(['3']);
    expect(result.kept).toBe(1);
  });

  it('gives a task with a malformed id a window slot like any other, and never selects it', () => {
    const tasks = [task({ id: null, idText: 'x', ageMs: 1 * DAY }), task({ id: '2', ageMs: 10 * DAY }), task({ id: '3', ageMs: 20 * DAY })];
    const result = select(tasks, policy({ rules: [rule({ keepLatest: 1 })] }), NOW);
    expect(ids(result)).toEqual(['3', '2']);
    expect(result.kept).toBe(0);
    expect(result.skipped).toEqual([{ idText: 'x', reason: 'malformed-id' }]);
  });

  it('gives each malformed task its own slot (they cannot be told apart)', () => {
    const tasks = [
      task({ id: null, idText: 'x', ageMs: 1 * DAY }),
      task({ id: null, idText: 'x', ageMs: 2 * DAY }),
      task({ id: '3', ageMs: 10 * DAY }),
      task({ id: '4', ageMs: 20 * DAY }),
    ];
    const result = select(tasks, policy({ rules: [rule({ keepLatest: 3 })] }), NOW);
    expect(ids(result)).toEqual(['4']);
    expect(result.kept).toBe(1);
  });

  it.each([
    ['protected', { name: 'keep-x' }],
    ['of unknown age', { ageMs: null }],
    ['of unknown status', { status: 0 }],
    ["of another status than the rule's", { status: 'failed' as const }],
    ["not matching the rule's name pattern", { name: 'adhoc' }],
  ])('leaves a malformed task %s out of the window', (_label, spec) => {
    const tasks = [
      task({ id: null, idText: 'x', name: 'nightly-x', ageMs: 1 * DAY, ...spec }),
      task({ id: '2', name: 'nightly-2', ageMs: 10 * DAY }),
      task({ id: '3', name: 'nightly-3', ageMs: 20 * DAY }),
    ];
    const rules = [rule({ keepLatest: 1, namePattern: 'nightly-*' })];
    const result = select(tasks, policy({ rules, protect: { names: ['keep-*'] } }), NOW);
    expect(ids(result)).toEqual(['3']);
    expect(result.kept).toBe(1);
  });

  it('breaks a tie between a valid and a malformed id in favour of the valid id, in any listing order', () => {
    const malformed = task({ id: null, idText: 'x', ageMs: 10 * DAY });
    const valid = [task({ id: '5', ageMs: 10 * DAY }), task({ id: '3', ageMs: 20 * DAY }), task({ id: '4', ageMs: 30 * DAY })];
    for (const tasks of [[malformed, ...valid], [...valid, malformed]]) {
      // Window of 2: task 5 (valid id wins the tie), then the malformed task; 3 and 4 go.
      const result = select(tasks, policy({ rules: [rule({ keepLatest: 2 })] }), NOW);
      expect(ids(result)).toEqual(['4', '3']);
      expect(result.kept).toBe(1);
      // Window of 1: the valid id takes it.
      expect(ids(select(tasks, policy({ rules: [rule({ keepLatest: 1 })] }), NOW))).toEqual(['4', '3']);
    }
  });

  it("counts only tasks of the rule's statuses and name pattern in its window", () => {
    const tasks = [
      task({ id: '1', status: 'failed', name: 'nightly-1', ageMs: 1 * DAY }),
      task({ id: '2', name: 'adhoc', ageMs: 2 * DAY }),
      task({ id: '3', name: 'nightly-3', ageMs: 10 * DAY }),
      task({ id: '4', name: 'nightly-4', ageMs: 20 * DAY }),
    ];
    const result = select(tasks, policy({ rules: [rule({ keepLatest: 1, namePattern: 'nightly-*' })] }), NOW);
    expect(ids(result)).toEqual(['4']);
  });

  it('never deletes a task kept by any rule, even one another rule selects', () => {
    const rules = [
      rule({ name: 'all-succeeded', olderThanDays: 7 }),
      rule({ name: 'nightly', namePattern: 'nightly-*', olderThanDays: 7, keepLatest: 1 }),
    ];
    const tasks = [
      task({ id: '1', name: 'nightly-1', ageMs: 10 * DAY }),
      task({ id: '2', name: 'nightly-2', ageMs: 20 * DAY }),
      task({ id: '3', name: 'adhoc', ageMs: 30 * DAY }),
    ];
    const result = select(tasks, policy({ rules }), NOW);
    expect(ids(result)).toEqual(['3', '2']);
    expect(result.kept).toBe(1);
  });

  it('applies the windows of two rules independently', () => {
    const rules = [
      rule({ name: 'succeeded', statuses: ['succeeded'], keepLatest: 1 }),
      rule({ name: 'failed', statuses: ['failed'], keepLatest: 2 }),
    ];
    const tasks = [
      task({ id: '1', status: 'succeeded', ageMs: 10 * DAY }),
      task({ id: '2', status: 'succeeded', ageMs: 20 * DAY }),
      task({ id: '3', status: 'failed', ageMs: 10 * DAY }),
      task({ id: '4', status: 'failed', ageMs: 20 * DAY }),
      task({ id: '5', status: 'failed', ageMs: 30 * DAY }),
    ];
    const result = select(tasks, policy({ rules }), NOW);
    expect(ids(result)).toEqual(['5', '2']);
    expect(result.kept).toBe(3);
  });

  it('fills a window with a repeated id only once', () => {
    const tasks = [task({ id: '1', ageMs: 10 * DAY }), task({ id: '1', ageMs: 10 * DAY }), task({ id: '2', ageMs: 20 * DAY }), task({ id: '3', ageMs: 30 * DAY })];
    const result = select(tasks, policy({ rules: [rule({ keepLatest: 2 })] }), NOW);
    expect(ids(result)).toEqual(['3']);
  });
});
