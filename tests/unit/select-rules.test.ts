import { describe, expect, it } from '@jest/globals';
import { select } from '../../lib/policy/select.js';
import { DAY, ids, NOW, policy, rule, task } from './select-fixtures.js';

describe('select: a rule matches status, name pattern and age', () => {
  it('selects only tasks strictly older than olderThan', () => {
    const tasks = [task({ id: '1', ageMs: 7 * DAY }), task({ id: '2', ageMs: 7 * DAY + 1 })];
    const result = select(tasks, policy({ rules: [rule({ olderThanDays: 7 })] }), NOW);
    expect(ids(result)).toEqual(['2']);
  });

  it('measures age from the last activity (start_time + total_time), not from start_time', () => {
    const started = NOW - 10 * DAY;
    const tasks = [
      task({ id: '1', lastActivityMs: started + 4 * DAY }), // ran 4 days: active 6 days ago
      task({ id: '2', lastActivityMs: started }), // no total_time: active 10 days ago
    ];
    const result = select(tasks, policy({ rules: [rule({ olderThanDays: 7 })] }), NOW);
    expect(ids(result)).toEqual(['2']);
    expect(result.selected[0]?.lastActivityMs).toBe(started);
  });

  it('never selects a task of unknown age and reports it only when a rule is about its status', () => {
    const tasks = [
      task({ id: '1', ageMs: null, status: 'succeeded' }),
      task({ id: '2', ageMs: null, status: 'failed' }),
    ];
    const result = select(tasks, policy({ rules: [rule({ statuses: ['succeeded'] })] }), NOW);
    expect(result.selected).toEqual([]);
    expect(result.skipped).toEqual([{ idText: '1', reason: 'unknown-age' }]);
  });

  it('ignores tasks whose status the rule does not name', () => {
    const tasks = [task({ id: '1', status: 'failed' }), task({ id: '2', status: 'succeeded' })];
    expect(ids(select(tasks, policy({ rules: [rule({ statuses: ['succeeded'] })] }), NOW))).toEqual(['2']);
  });

  it('matches namePattern against the whole name, case-sensitively', () => {
    const names = ['nightly-1', 'Nightly-2', 'x-nightly-3', 'nightly', 'nightly-'];
    const tasks = names.map((name, i) => task({ id: String(i + 1), name }));
    const result = select(tasks, policy({ rules: [rule({ namePattern: 'nightly-*' })] }), NOW);
    expect(result.selected.map((c) => c.item.name).sort()).toEqual(['nightly-', 'nightly-1']);
    const exact = select(tasks, policy({ rules: [rule({ namePattern: 'nightly' })] }), NOW);
    expect(exact.selected.map((c) => c.item.name)).toEqual(['nightly']);
  });

  it("treats '?' as exactly one character and '*' as any run", () => {
    const names = ['job-1', 'job-12', 'job-'];
    const tasks = names.map((name, i) => task({ id: String(i + 1), name }));
    const one = select(tasks, policy({ rules: [rule({ namePattern: 'job-?' })] }), NOW);
    expect(one.selected.map((c) => c.item.name)).toEqual(['job-1']);
    const any = select(tasks, policy({ rules: [rule({ namePattern: 'job-*' })] }), NOW);
    expect(any.selected.map((c) => c.item.name).sort()).toEqual(['job-', 'job-1', 'job-12']);
  });

  it('takes regular-expression metacharacters in patterns literally', () => {
    const names = ['a.b', 'axb', '(x)+[y]', 'xx[y]', '^a$', 'a', 'a|b', 'b'];
    const tasks = names.map((name, i) => task({ id: String(i + 1), name }));
    const byPattern = (namePattern: string) =>
      select(tasks, policy({ rules: [rule({ namePattern })] }), NOW).selected.map((c) => c.item.name);
    expect(byPattern('a.b')).toEqual(['a.b']);
    expect(byPattern('(x)+[y]')).toEqual(['(x)+[y]']);
    expect(byPattern('^a$')).toEqual(['^a$']);
    expect(byPattern('a|b')).toEqual(['a|b']);
  });

  it('skips unknown status codes (0, 42, missing) even when otherwise due', () => {
    const tasks = [task({ id: '1', status: 0 }), task({ id: '2', status: 42 }), task({ id: '3', status: null })];
    const result = select(tasks, policy({ rules: [rule({ statuses: ['succeeded', 'failed', 'paused'] })] }), NOW);
    expect(result.selected).toEqual([]);
    expect(result.skipped).toEqual([
      { idText: '1', reason: 'unknown-status' },
      { idText: '2', reason: 'unknown-status' },
      { idText: '3', reason: 'unknown-status' },
    ]);
  });

  it('skips a task with a malformed id, reporting it by its printed id', () => {
    const tasks = [task({ id: null, idText: '9007199254740993.5' }), task({ id: '2' })];
    const result = select(tasks, policy(), NOW);
    expect(ids(result)).toEqual(['2']);
    expect(result.skipped).toEqual([{ idText: '9007199254740993.5', reason: 'malformed-id' }]);
  });

  it('names the first matching rule in policy order', () => {
    const rules = [
      rule({ name: 'young-failed', statuses: ['failed'], olderThanDays: 1 }),
      rule({ name: 'any-succeeded', statuses: ['succeeded'], olderThanDays: 7 }),
      rule({ name: 'old-succeeded', statuses: ['succeeded'], olderThanDays: 1 }),
    ];
    const result = select([task({ id: '1', ageMs: 30 * DAY })], policy({ rules }), NOW);
    expect(result.selected.map((c) => c.rule)).toEqual(['any-succeeded']);
  });

  it('orders the selection oldest first, ties by the numerically smaller id', () => {
    const tasks = [
      task({ id: '10', ageMs: 20 * DAY }),
      task({ id: '9', ageMs: 20 * DAY }),
      task({ id: '3', ageMs: 10 * DAY }),
      task({ id: '100', ageMs: 30 * DAY }),
    ];
    expect(ids(select(tasks, policy(), NOW))).toEqual(['100', '9', '10', '3']);
  });

  it('selects an in-progress task only through a rule with stopFirst', () => {
    const tasks = [task({ id: '1', status: 'migrating' })];
    const withStop = select(tasks, policy({ rules: [rule({ statuses: ['migrating'], stopFirst: true })] }), NOW);
    expect(ids(withStop)).toEqual(['1']);
    // The schema refuses such a rule; a hand-built policy must still not delete a running task.
    const without = select(tasks, policy({ rules: [rule({ statuses: ['migrating'], stopFirst: false })] }), NOW);
    expect(without.selected).toEqual([]);
    expect(without.skipped).toEqual([{ idText: '1', reason: 'in-progress-without-stop-first' }]);
  });

  it('selects a repeated id once and counts it once', () => {
    const tasks = [task({ id: '1' }), task({ id: '1' }), task({ id: '2' })];
    const result = select(tasks, policy(), NOW);
    expect(ids(result)).toEqual(['1', '2']);
    expect(result.listed).toBe(2);
  });

  it('puts every listed task in exactly one bucket', () => {
    const tasks = [
      task({ id: '1' }), // selected
      task({ id: '2', name: 'keep-me' }), // protected
      task({ id: '3', ageMs: 1 * DAY }), // young: fills a window slot but matches no rule: untouched
      task({ id: null, idText: 'x' }), // skipped
      task({ id: '5', status: 'failed' }), // no rule: untouched
      task({ id: '6', ageMs: 20 * DAY }), // the newest matching: kept by keepLatest 2 with task 3
    ];
    const result = select(tasks, policy({ rules: [rule({ keepLatest: 2 })], protect: { names: ['keep-*'] } }), NOW);
    expect(ids(result)).toEqual(['1']);
    expect(result.protected).toBe(1);
    expect(result.kept).toBe(1);
    expect(result.skipped.map((s) => s.idText)).toEqual(['x']);
    expect(result.listed).toBe(6);
    expect(result.refused).toBe(false);
  });

  it('refuses a clock that is not a number rather than selecting by it', () => {
    expect(() => select([task()], policy(), Number.NaN)).toThrow(TypeError);
  });
});
