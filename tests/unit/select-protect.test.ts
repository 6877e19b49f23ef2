import { describe, expect, it } from '@jest/globals';
import { select } from '../../lib/policy/select.js';
import { group, ids, NOW, policy, rule, syncTask, task } from './select-fixtures.js';

describe('select: protection', () => {
  it('protects tasks whose name matches a protect.names glob', () => {
    const tasks = [task({ id: '1', name: 'keep-prod' }), task({ id: '2', name: 'prod-keep' })];
    const result = select(tasks, policy({ protect: { names: ['keep-*'] } }), NOW);
    expect(ids(result)).toEqual(['2']);
    expect(result.protected).toBe(1);
  });

  it('protects tasks listed in protect.taskIds, also when written with leading zeros', () => {
    const tasks = [task({ id: '191297407830872' }), task({ id: '42' }), task({ id: '7' })];
    const result = select(tasks, policy({ protect: { taskIds: ['191297407830872', '0042'] } }), NOW);
    expect(ids(result)).toEqual(['7']);
    expect(result.protected).toBe(2);
  });

  it('protects tasks of task groups and sync tasks, not normal tasks', () => {
    const tasks = [
      task({ id: '1', groupType: 'GROUP_TASK' }),
      task({ id: '2', groupType: 'SYNC_TASK' }),
      task({ id: '3', groupType: 'SOMETHING_NEW' }),
      task({ id: '4', groupType: 'NORMAL_TASK' }),
      task({ id: '5', groupType: null }),
    ];
    const result = select(tasks, policy(), NOW);
    expect(ids(result)).toEqual(['4', '5']);
    expect(result.protected).toBe(3);
  });

  it('leaves group tasks unprotected with groupTasks: false', () => {
    const tasks = [task({ id: '1', groupType: 'GROUP_TASK' }), task({ id: '2', groupType: 'SYNC_TASK' })];
    const result = select(tasks, policy({ protect: { groupTasks: false } }), NOW);
    expect(ids(result)).toEqual(['1', '2']);
    expect(result.protected).toBe(0);
  });

  it('counts a protected task as protected before any skip reason', () => {
    const tasks = [task({ id: '1', name: 'keep-a', status: 42 }), task({ id: null, idText: 'bad', name: 'keep-b' })];
    const result = select(tasks, policy({ protect: { names: ['keep-*'] } }), NOW);
    expect(result.protected).toBe(2);
    expect(result.skipped).toEqual([]);
  });

  it('keeps protected tasks out of keepLatest windows', () => {
    const tasks = [
      task({ id: '1', ageMs: 10 * 86_400_000, name: 'keep-newest' }),
      task({ id: '2', ageMs: 20 * 86_400_000 }),
      task({ id: '3', ageMs: 30 * 86_400_000 }),
    ];
    const result = select(tasks, policy({ rules: [rule({ keepLatest: 1 })], protect: { names: ['keep-*'] } }), NOW);
    // Without the exclusion the protected task would fill the window and task 2 would go.
    expect(ids(result)).toEqual(['3']);
    expect(result.kept).toBe(1);
    expect(result.protected).toBe(1);
  });

  it('protects a group or sync task whose UUID id is written in another case; other ids only exactly', () => {
    const listed = [
      group({ id: '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e01' }),
      group({ id: 'Group-A' }),
      syncTask({ id: '3b8e1f6a-7c2d-4a9e-b5f0-2c4d6e8fa001' }),
    ];
    const rules = [rule({ name: 'g', kind: 'taskGroup', statuses: ['succeeded'] }), rule({ name: 's', kind: 'syncTask', statuses: ['stopped'] })];
    const protect = { taskGroupIds: ['6F0C2A9E-4B1D-4E7A-9C3F-1A2B3C4D5E01', 'group-a'], syncTaskIds: ['3B8E1F6A-7C2D-4A9E-B5F0-2C4D6E8FA001'] };
    const groups = select(listed.filter((i) => i.kind === 'taskGroup'), policy({ rules, protect }), NOW);
    expect(ids(groups)).toEqual(['Group-A']);
    expect(groups.protected).toBe(1);
    expect(select(listed.filter((i) => i.kind === 'syncTask'), policy({ rules, protect }), NOW)).toMatchObject({ selected: [], protected: 1 });
  });
});
