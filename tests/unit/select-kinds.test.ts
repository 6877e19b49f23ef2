/**
 * Selection of task groups and sync tasks: the same `select` as tasks, with each kind's statuses, in-progress
 * states, fields and protections (lib/oms/kinds.ts), and no rule ever reaching across kinds.
 */
import { describe, expect, it } from '@jest/globals';
import { select } from '../../lib/policy/select.js';
import type { PlannedTask } from '../../lib/policy/types.js';
import { DAY, NOW, group, ids, policy, rule, syncTask, task } from './select-fixtures.js';

const groupRule = (spec: Parameters<typeof rule>[0] = {}) => rule({ name: 'groups', kind: 'taskGroup', statuses: ['succeeded', 'failed', 'creationFailed'], ...spec });
const syncRule = (spec: Parameters<typeof rule>[0] = {}) => rule({ name: 'sync', kind: 'syncTask', statuses: ['stopped'], ...spec });

describe('select: task groups', () => {
  it('selects exactly the groups of the rule statuses older than olderThan', () => {
    const groups = [
      group({ id: 'g-ok', status: 'succeeded', ageMs: 10 * DAY }),
      group({ id: 'g-young', status: 'succeeded', ageMs: 2 * DAY }),
      group({ id: 'g-failed', status: 'failed', ageMs: 30 * DAY }),
      group({ id: 'g-cf', status: 'creationFailed', ageMs: 8 * DAY }),
      group({ id: 'g-paused', status: 'paused', ageMs: 30 * DAY }),
      group({ id: 'g-exact', status: 'succeeded', ageMs: 7 * DAY }),
    ];
    const result = select(groups, policy({ rules: [groupRule()] }), NOW);
    expect(ids(result)).toEqual(['g-failed', 'g-ok', 'g-cf']);
    expect(result.skipped).toEqual([]);
  });

  it('never selects a group whose delete is already under way (8, 9), nor counts it anywhere but listed', () => {
    const groups = [group({ id: 'g-8', status: 8, ageMs: 30 * DAY }), group({ id: 'g-9', status: 9, ageMs: 30 * DAY }), group({ id: 'g-6', status: 6, ageMs: 30 * DAY })];
    const all = ['waiting', 'executing', 'monitoring', 'paused', 'creationFailed', 'failed', 'succeeded', 'pausing'];
    const result = select(groups, policy({ rules: [groupRule({ statuses: all, stopFirst: true })] }), NOW);
    expect(ids(result)).toEqual(['g-6']);
    expect(result).toMatchObject({ listed: 3, protected: 0, kept: 0, skipped: [] });
  });

  it('a hand-built rule that names a delete under way (the schema refuses it) still never selects such a group', () => {
    const groups = [group({ id: 'g-9', status: 9 }), group({ id: 'g-8', status: 'waitingForDeletion' })];
    expect(select(groups, policy({ rules: [groupRule({ statuses: ['deleting', 'waitingForDeletion'] })] }), NOW).selected).toEqual([]);
  });

  it('takes in-progress groups (waiting, executing, monitoring, pausing) only with stopFirst', () => {
    const groups = ['waiting', 'executing', 'monitoring', 'pausing'].map((status, i) => group({ id: `g-${i}`, status, ageMs: (30 + i) * DAY }));
    const without = select(groups, policy({ rules: [groupRule({ statuses: ['waiting', 'executing', 'monitoring', 'pausing'] })] }), NOW);
    expect(ids(without)).toEqual([]);
    expect(without.skipped.map((s) => s.reason)).toEqual(Array(4).fill('in-progress-without-stop-first'));
    const withStop = select(groups, policy({ rules: [groupRule({ statuses: ['waiting', 'executing', 'monitoring', 'pausing'], stopFirst: true })] }), NOW);
    expect(ids(withStop)).toEqual(['g-3', 'g-2', 'g-1', 'g-0']);
  });

  it('a group rule never selects tasks and a task rule never selects groups, whatever the status codes say', () => {
    // Task status 5 is succeeded, group status 5 is failed: each is read by its own kind's names.
    const items = [task({ id: '5', status: 5 }), group({ id: '5', status: 5 }), group({ id: 'g-6', status: 6 })];
    expect(select(items, policy({ rules: [groupRule({ statuses: ['succeeded'] })] }), NOW).selected.map((c) => [c.item.kind, c.item.id])).toEqual([['taskGroup', 'g-6']]);
    expect(select(items, policy({ rules: [rule({ statuses: ['succeeded'] })] }), NOW).selected.map((c) => [c.item.kind, c.item.id])).toEqual([['task', '5']]);
  });

  it('matches descriptionPattern and bucket patterns, each narrowing; a missing field reads as empty', () => {
    const groups = [
      group({ id: 'a', description: 'nightly-1', srcBucket: 's3-logs', dstBucket: 'obs-logs' }),
      group({ id: 'b', description: 'nightly-2', srcBucket: 's3-prod', dstBucket: 'obs-prod' }),
      group({ id: 'c', description: 'manual', srcBucket: 's3-logs', dstBucket: 'obs-logs' }),
      group({ id: 'd' }),
    ];
    expect(ids(select(groups, policy({ rules: [groupRule({ descriptionPattern: 'nightly-*' })] }), NOW)).sort()).toEqual(['a', 'b']);
    expect(ids(select(groups, policy({ rules: [groupRule({ descriptionPattern: 'nightly-*', sourceBucketPattern: '*-logs' })] }), NOW))).toEqual(['a']);
    expect(ids(select(groups, policy({ rules: [groupRule({ destinationBucketPattern: 'obs-logs' })] }), NOW)).sort()).toEqual(['a', 'c']);
    expect(ids(select(groups, policy({ rules: [groupRule({ descriptionPattern: '*' })] }), NOW)).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keepLatest keeps the newest groups of the rule, not counting tasks', () => {
    const items = [
      group({ id: 'g-old', ageMs: 40 * DAY }),
      group({ id: 'g-mid', ageMs: 30 * DAY }),
      group({ id: 'g-new', ageMs: 20 * DAY }),
      task({ id: '1', ageMs: 1 * DAY }),
    ];
    const result = select(items, policy({ rules: [groupRule({ keepLatest: 2 })] }), NOW);
    expect(ids(result)).toEqual(['g-old']);
    expect(result.kept).toBe(2);
  });

  it('the blast radius is judged against the listing and words its kind', () => {
    const groups = [group({ id: 'a' }), group({ id: 'b' }), group({ id: 'c', status: 'paused' })];
    const result = select(groups, policy({ rules: [groupRule()], limits: { maxDeletePercent: 50 } }), NOW);
    expect(result.refused).toBe(true);
    expect(result.overLimit).toContain('2 of 3 listed task groups');
  });

  it('explicit task ids never select a group, even one whose id reads the same', () => {
    const items = [group({ id: '42' }), task({ id: '42' })];
    const result = select(items, policy(), NOW, { taskIds: ['42'] });
    expect(result.selected.map((c) => c.item.kind)).toEqual(['task']);
  });

  it('skips a group with a malformed id, an unknown status or (when a rule is about it) an unknown age', () => {
    const groups = [group({ id: null, idText: 'a/b' }), group({ id: 'g-x', status: 42 }), group({ id: 'g-age', ageMs: null })];
    expect(select(groups, policy({ rules: [groupRule()] }), NOW).skipped.map((s) => s.reason)).toEqual(['malformed-id', 'unknown-status', 'unknown-age']);
  });
});

describe('select: sync tasks', () => {
  it('selects stopped sync tasks by age; synchronizing ones only with stopFirst', () => {
    const items = [syncTask({ id: 's-1', status: 'stopped' }), syncTask({ id: 's-2', status: 'synchronizing', ageMs: 40 * DAY }), syncTask({ id: 's-3', status: 'RUNNING' })];
    const stopped = select(items, policy({ rules: [syncRule()] }), NOW);
    expect(ids(stopped)).toEqual(['s-1']);
    expect(stopped.skipped).toEqual([{ idText: 's-3', reason: 'unknown-status' }]);
    const both = select(items, policy({ rules: [syncRule({ statuses: ['stopped', 'synchronizing'], stopFirst: true })] }), NOW);
    expect(ids(both)).toEqual(['s-2', 's-1']);
    const noStop = select(items, policy({ rules: [syncRule({ statuses: ['synchronizing'] })] }), NOW);
    expect(noStop.skipped.map((s) => s.reason)).toContain('in-progress-without-stop-first');
  });
});

describe('protect: task groups and sync tasks', () => {
  const items = [
    group({ id: 'g-1', description: 'keep me', srcBucket: 'a', dstBucket: 'b' }),
    group({ id: 'g-2', description: 'x', srcBucket: 'prod-src', dstBucket: 'b' }),
    group({ id: 'g-3', description: 'x', srcBucket: 'a', dstBucket: 'prod-dst' }),
    group({ id: 'g-4', description: 'x', srcBucket: 'a', dstBucket: 'b' }),
    syncTask({ id: 's-1', description: 'keep me' }),
    syncTask({ id: 's-2', srcBucket: 'prod-a' }),
    syncTask({ id: 's-3' }),
    syncTask({ id: 's-4' }),
  ];
  const rules = [groupRule(), syncRule()];

  it('protects by id of the kind, by description and by either bucket; protection only widens', () => {
    const p = policy({ rules, protect: { taskGroupIds: ['g-4'], syncTaskIds: ['s-3'], descriptions: ['keep *'], buckets: ['prod-*'] } });
    const result = select(items, p, NOW);
    expect(ids(result)).toEqual(['s-4']);
    expect(result.protected).toBe(7);
    // Without protection every one of them goes.
    expect(select(items, policy({ rules }), NOW).selected).toHaveLength(8);
  });

  it('task protections do not reach other kinds, and other kinds\' ids do not protect tasks', () => {
    const mixed = [group({ id: '7' }), syncTask({ id: '7' }), task({ id: '7', name: 'keep-x' })];
    const p = policy({ rules: [...rules, rule()], protect: { taskIds: ['7'], names: ['*'], taskGroupIds: [], syncTaskIds: [] } });
    expect(select(mixed, p, NOW).selected.map((c) => c.item.kind).sort()).toEqual(['syncTask', 'taskGroup']);
    const q = policy({ rules: [...rules, rule()], protect: { taskGroupIds: ['7'], syncTaskIds: ['7'] } });
    expect(select(mixed, q, NOW).selected.map((c) => c.item.kind)).toEqual(['task']);
  });
});

describe('applying a manifest: task groups', () => {
  const planned = (over: Partial<PlannedTask> = {}): PlannedTask => ({ name: '', description: 'nightly', srcBucket: 'a', dstBucket: 'b', status: 'succeeded', lastActivityMs: NOW - 30 * DAY, ...over });

  it('deletes a planned group only when its description, buckets, status and last activity are unchanged', () => {
    const listed = [
      group({ id: 'same', description: 'nightly', srcBucket: 'a', dstBucket: 'b' }),
      group({ id: 'renamed', description: 'prod', srcBucket: 'a', dstBucket: 'b' }),
      group({ id: 'moved', description: 'nightly', srcBucket: 'a', dstBucket: 'c' }),
      group({ id: 'new', description: 'nightly', srcBucket: 'a', dstBucket: 'b' }),
    ];
    const plan = new Map([['same', planned()], ['renamed', planned()], ['moved', planned()]]);
    const result = select(listed, policy({ rules: [groupRule()] }), NOW, { planned: plan });
    expect(ids(result)).toEqual(['same']);
    expect(result.skipped).toEqual([
      { idText: 'renamed', reason: 'changed-since-plan' },
      { idText: 'moved', reason: 'changed-since-plan' },
    ]);
  });

  it('selects a planned group only as the current policy would now: a rule of its kind that matches it, with stopFirst if it is busy; never by the manifest', () => {
    const stuck = group({ id: 'busy', status: 'monitoring', description: 'nightly', srcBucket: 'a', dstBucket: 'b', ageMs: 5 * DAY });
    const plan = new Map([['busy', planned({ status: 'monitoring', lastActivityMs: NOW - 5 * DAY })]]);
    const stuckRule = groupRule({ name: 'stuck-groups', statuses: ['monitoring'], olderThanDays: 2, stopFirst: true });
    const chosen = select([stuck], policy({ rules: [stuckRule] }), NOW, { planned: plan });
    // The rule that matched now, whatever name the manifest gave.
    expect(chosen.selected.map((c) => [c.item.id, c.rule])).toEqual([['busy', 'stuck-groups']]);
    const cases: Array<[ReturnType<typeof groupRule>[], string]> = [
      [[], 'no-rule-now'],
      [[{ ...stuckRule, statuses: ['executing'] }], 'no-rule-now'],
      [[{ ...stuckRule, olderThan: '7d', olderThanMs: 7 * DAY }], 'no-rule-now'],
      [[{ ...stuckRule, kind: 'task', statuses: ['migrating'] }], 'no-rule-now'],
      [[{ ...stuckRule, stopFirst: false }], 'in-progress-without-stop-first'],
    ];
    for (const [rules, reason] of cases) {
      const result = select([stuck], policy({ rules }), NOW, { planned: plan });
      expect([rules, result.selected.length, result.skipped]).toEqual([rules, 0, [{ idText: 'busy', reason }]]);
    }
    // Protected or kept by a window now: not selected either.
    expect(select([stuck], policy({ rules: [stuckRule], protect: { taskGroupIds: ['busy'] } }), NOW, { planned: plan })).toMatchObject({ selected: [], protected: 1 });
    expect(select([stuck], policy({ rules: [{ ...stuckRule, keepLatest: 1 }] }), NOW, { planned: plan })).toMatchObject({ selected: [], kept: 1 });
  });
});
