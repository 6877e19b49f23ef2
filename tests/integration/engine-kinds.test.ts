/**
 * Task groups and sync tasks against the emulator, through the real engine, client and HTTP wrapper: exactly the
 * selected ones are deleted, in-progress ones only with stopFirst (paused or stopped first), groups whose delete is
 * under way (8, 9) are left alone, protections hold, member tasks stay safe whether or not a group's delete takes
 * them along, and the summary and log lines say the kind.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { EmuSyncTask, EmuTaskGroup, Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, deletedIds, emulator, policy, runEngine, task } from '../helpers/harness.js';

const group = (id: string, status: number, ageMs: number, extra: Partial<EmuTaskGroup> = {}): EmuTaskGroup => ({
  group_id: id, status, start_time: Date.now() - ageMs, total_time: 0, description: `group ${id}`, src_node: { bucket: 's3-src' }, dst_node: { bucket: 'obs-dst' }, ...extra,
});
const sync = (id: string, status: string, ageMs: number, extra: Partial<EmuSyncTask> = {}): EmuSyncTask => ({
  sync_task_id: id, status, create_time: Date.now() - ageMs - 10 * DAY, last_start_time: Date.now() - ageMs, src_bucket: 's3-a', dst_bucket: 'obs-a', ...extra,
});
const groupsDeleted = (emu: Emulator) => [...(emu.stats.groupsDeleted[PROJECT] ?? [])].sort();
const syncDeleted = (emu: Emulator) => [...(emu.stats.syncTasksDeleted[PROJECT] ?? [])].sort();

const RULES = `rules:
  - { name: old-tasks, statuses: [succeeded], olderThan: 7d }
  - { name: old-groups, kind: taskGroup, statuses: [succeeded, failed, creationFailed], olderThan: 7d }
  - { name: stuck-groups, kind: taskGroup, statuses: [waiting, executing, monitoring], olderThan: 2d, stopFirst: true }
  - { name: old-sync, kind: syncTask, statuses: [stopped], olderThan: 30d }
  - { name: stuck-sync, kind: syncTask, statuses: [synchronizing], olderThan: 30d, stopFirst: true }
`;

describe('engine: task groups and sync tasks', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('deletes exactly the selected groups and sync tasks, each as OMS allows in its state; 8 and 9 are left alone', async () => {
    emu = await emulator({
      projects: { [PROJECT]: [task('1', 5, 10 * DAY), task('2', 5, 1 * DAY)] },
      taskGroups: {
        [PROJECT]: [
          group('g-succeeded', 6, 10 * DAY),
          group('g-failed', 5, 20 * DAY),
          group('g-creation-failed', 4, 8 * DAY),
          group('g-young', 6, 3 * DAY),
          group('g-paused', 3, 30 * DAY), // no rule names paused
          group('g-monitoring', 2, 5 * DAY), // stopped, then deleted
          group('g-waiting', 0, 5 * DAY), // deleted as it is, never stopped
          group('g-creating', 1, 5 * DAY), // waited out: never stopped, never deleted, deferred at stopTimeout
          group('g-monitoring-young', 2, 1 * DAY),
          group('g-waiting-for-deletion', 8, 30 * DAY),
          group('g-deleting', 9, 30 * DAY),
        ],
      },
      syncTasks: {
        [PROJECT]: [
          sync('s-stopped-old', 'STOPPED', 40 * DAY),
          sync('s-stopped-young', 'STOPPED', 5 * DAY),
          sync('s-syncing-old', 'SYNCHRONIZING', 40 * DAY),
          sync('s-never-started', 'STOPPED', 0, { last_start_time: undefined, create_time: Date.now() - 50 * DAY }),
        ],
      },
    });
    const p = policy(emu, RULES);
    const { summary, logs } = await runEngine({ ...p, limits: { ...p.limits, stopTimeoutMs: 600 } });

    expect(deletedIds(emu)).toEqual(['1']);
    expect(groupsDeleted(emu)).toEqual(['g-creation-failed', 'g-failed', 'g-monitoring', 'g-succeeded', 'g-waiting']);
    expect(syncDeleted(emu)).toEqual(['s-never-started', 's-stopped-old', 's-syncing-old']);
    // Only the pausable ones were paused (PUT) or stopped (POST), and nothing was sent that OMS refuses in its state.
    expect(emu.stats.groupsStopped[PROJECT]).toEqual(['g-monitoring']);
    expect(emu.stats.syncTasksStopped[PROJECT]).toEqual(['s-syncing-old']);
    expect(emu.stats.calls['delete-in-progress'] ?? 0).toBe(0);
    expect(emu.stats.calls['pause-not-pausable'] ?? 0).toBe(0);
    expect(emu.taskGroups(PROJECT).map((g) => g.group_id).sort()).toEqual(['g-creating', 'g-deleting', 'g-monitoring-young', 'g-paused', 'g-waiting-for-deletion', 'g-young']);

    expect(summary.totals).toMatchObject({ listed: 2, selected: 1, deleted: 1, failed: 0 });
    expect(summary.taskGroups).toEqual({ listed: 11, selected: 6, deleted: 5, failed: 0, deferred: 1, protected: 0, kept: 0, skipped: 0 });
    expect(summary.syncTasks).toEqual({ listed: 4, selected: 3, deleted: 3, failed: 0, deferred: 0, protected: 0, kept: 0, skipped: 0 });
    expect(summary.targets[0]).toMatchObject({ listed: 2, deleted: 1, taskGroups: { listed: 11, deleted: 5, deferred: 1, refused: false, failures: [] }, syncTasks: { listed: 4, deleted: 3 } });
    expect(logs.lines.find((l) => l.taskGroupId === 'g-creating' && l.outcome)).toMatchObject({ outcome: 'deferred', reason: 'creating', level: 'INFO' });

    const lines = logs.lines.filter((l) => l.outcome === 'deleted');
    expect(lines.filter((l) => l.kind === 'taskGroup').map((l) => [l.message, l.taskGroupId, l.paused ?? false]).sort()).toEqual([
      ['task group deleted', 'g-creation-failed', false],
      ['task group deleted', 'g-failed', false],
      ['task group deleted', 'g-monitoring', true],
      ['task group deleted', 'g-succeeded', false],
      ['task group deleted', 'g-waiting', false],
    ]);
    expect(lines.find((l) => l.syncTaskId === 's-syncing-old')).toMatchObject({ kind: 'syncTask', message: 'sync task deleted', paused: true, status: 'synchronizing', sourceBucket: 's3-a', destinationBucket: 'obs-a' });
    expect(lines.find((l) => l.taskId === '1')).toMatchObject({ kind: 'task', message: 'task deleted' });
  });

  it('lists only the kinds the policy has rules for: no group or sync call, and no block, for a tasks-only policy', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('1', 5, 10 * DAY)] }, taskGroups: { [PROJECT]: [group('g', 6, 30 * DAY)] }, syncTasks: { [PROJECT]: [sync('s', 'STOPPED', 40 * DAY)] } });
    const { summary } = await runEngine(policy(emu, 'rules:\n  - { name: r, statuses: [succeeded], olderThan: 7d }\n'));
    expect(summary.taskGroups).toBeUndefined();
    expect(summary.syncTasks).toBeUndefined();
    expect(summary.targets[0]!.taskGroups).toBeUndefined();
    expect(Object.keys(emu.stats.calls).filter((k) => k.startsWith('taskGroup.') || k.startsWith('syncTask.'))).toEqual([]);
    // A groups-only policy lists no tasks: the task counters stay 0.
    emu.resetStats();
    const groupsOnly = await runEngine(policy(emu, 'rules:\n  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }\n'));
    expect(emu.stats.calls.list ?? 0).toBe(0);
    expect(groupsOnly.summary.totals.listed).toBe(0);
    expect(groupsOnly.summary.taskGroups).toMatchObject({ listed: 1, deleted: 1 });
  });

  it('protections hold: group and sync ids, descriptions, either bucket; task protections do not reach them', async () => {
    emu = await emulator({
      taskGroups: {
        [PROJECT]: [
          group('g-by-id', 6, 30 * DAY),
          group('g-by-description', 6, 30 * DAY, { description: 'KEEP: audit' }),
          group('g-by-source', 6, 30 * DAY, { src_node: { bucket: 'prod-logs' } }),
          group('g-by-destination', 6, 30 * DAY, { dst_node: { bucket: 'prod-archive' } }),
          group('7', 6, 30 * DAY), // a task id's protection does not reach a group
          group('g-free', 6, 30 * DAY),
        ],
      },
      syncTasks: { [PROJECT]: [sync('s-by-id', 'STOPPED', 40 * DAY), sync('s-by-bucket', 'STOPPED', 40 * DAY, { dst_bucket: 'prod-x' }), sync('s-free', 'STOPPED', 40 * DAY)] },
    });
    const rules = `rules:
  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }
  - { name: s, kind: syncTask, statuses: [stopped], olderThan: 7d }
protect:
  taskIds: ["7"]
  names: ["*"]
  taskGroupIds: [g-by-id]
  syncTaskIds: [s-by-id]
  descriptions: ["KEEP:*"]
  buckets: ["prod-*"]
`;
    const { summary } = await runEngine(policy(emu, rules));
    expect(groupsDeleted(emu)).toEqual(['7', 'g-free']);
    expect(syncDeleted(emu)).toEqual(['s-free']);
    expect(summary.taskGroups).toMatchObject({ protected: 4, deleted: 2 });
    expect(summary.syncTasks).toMatchObject({ protected: 2, deleted: 1 });
  });

  it.each([false, true])('member tasks stay safe when deleting a group %s removes them: protected, never deleted by us, nothing fails', async (removesMembers) => {
    const member = (id: string) => task(id, 5, 40 * DAY, { group_type: 'GROUP_TASK', group_id: 'g-1' });
    emu = await emulator({
      projects: { [PROJECT]: [member('11'), member('12'), task('13', 5, 40 * DAY)] },
      taskGroups: { [PROJECT]: [group('g-1', 6, 40 * DAY)] },
      groupDeleteRemovesMembers: removesMembers,
    });
    const rules = `rules:
  - { name: t, statuses: [succeeded], olderThan: 7d }
  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }
`;
    const first = await runEngine(policy(emu, rules));
    expect(groupsDeleted(emu)).toEqual(['g-1']);
    // The janitor deleted the plain task only; the members were protected (groupTasks, default true).
    expect(deletedIds(emu)).toEqual(['13']);
    expect(first.summary.totals).toMatchObject({ listed: 3, selected: 1, protected: 2, failed: 0 });
    expect([...(emu.stats.membersRemoved[PROJECT] ?? [])].sort()).toEqual(removesMembers ? ['11', '12'] : []);
    // The next run sees what OMS did, and neither answer makes it delete or fail anything.
    const second = await runEngine(policy(emu, rules));
    expect(deletedIds(emu)).toEqual(['13']);
    expect(second.summary.totals).toMatchObject({ listed: removesMembers ? 0 : 2, selected: 0, protected: removesMembers ? 0 : 2, failed: 0 });
    expect(second.summary.taskGroups).toMatchObject({ listed: 0, failed: 0 });
  });

  it('with groupTasks: false, a member task a task rule selects is deleted, and one already taken along with its group counts as gone', async () => {
    const member = (id: string) => task(id, 5, 40 * DAY, { group_type: 'GROUP_TASK', group_id: 'g-1' });
    emu = await emulator({ projects: { [PROJECT]: [member('11')] }, taskGroups: { [PROJECT]: [group('g-1', 6, 50 * DAY)] }, groupDeleteRemovesMembers: true });
    const rules = `rules:
  - { name: t, statuses: [succeeded], olderThan: 7d }
  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }
protect: { groupTasks: false }
concurrency: 1
`;
    // Oldest first over every kind: the group (50 days) goes before its member (40 days), which is then gone.
    const { summary, logs } = await runEngine(policy(emu, rules));
    expect(summary.totals).toMatchObject({ selected: 1, deleted: 1, failed: 0 });
    expect(logs.lines.find((l) => l.taskId === '11')).toMatchObject({ outcome: 'deleted', detail: 'already-gone' });
  });

  it('waits out OMS.0063 right after a group pause, and a stop the region lacks (404 APIGW.0101) fails the sync task, logged with its kind', async () => {
    emu = await emulator({
      taskGroups: { [PROJECT]: [group('g-exec', 2, 5 * DAY)] },
      syncTasks: { [PROJECT]: [sync('s-1', 'SYNCHRONIZING', 40 * DAY)] },
      pauseSettleMs: 200,
      syncStopUnsupported: true,
    });
    const { summary, logs } = await runEngine(policy(emu, RULES));
    expect(groupsDeleted(emu)).toEqual(['g-exec']);
    expect(syncDeleted(emu)).toEqual([]);
    expect(summary.taskGroups).toMatchObject({ deleted: 1, failed: 0 });
    expect(summary.syncTasks).toMatchObject({ selected: 1, deleted: 0, failed: 1 });
    expect(summary.targets[0]!.syncTasks!.failures).toEqual([expect.objectContaining({ id: 's-1', httpStatus: 404, errorCode: 'APIGW.0101' })]);
    expect(logs.lines.find((l) => l.syncTaskId === 's-1' && l.outcome === 'failed')).toMatchObject({ kind: 'syncTask', httpStatus: 404, errorCode: 'APIGW.0101', target: 'main' });
    // OMS.0063 answers were waited out, not counted as failures.
    expect(emu.stats.byStatus['400'] ?? 0).toBeGreaterThan(0);
  });

  it('a 403 on a group delete is logged at error level with the 400/403 fields and the kind; the run exits 1 through the block', async () => {
    emu = await emulator({ taskGroups: { [PROJECT]: [group('g-1', 6, 30 * DAY)] } });
    emu.setTaskFault(PROJECT, 'g-1', { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'denied' }, 'taskGroup');
    const { summary, logs } = await runEngine(policy(emu, 'rules:\n  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }\n'));
    const line = logs.lines.find((l) => l.outcome === 'failed');
    expect(line).toMatchObject({ level: 'ERROR', message: 'task group delete forbidden (HTTP 403)', kind: 'taskGroup', taskGroupId: 'g-1', httpStatus: 403, errorCode: 'APIGW.0306', errorMsg: 'denied', target: 'main' });
    expect(line).toHaveProperty('requestId');
    const { exitCodeOf } = await import('../../lib/purge/summary.js');
    expect(summary.totals.failed).toBe(0);
    expect(exitCodeOf(summary)).toBe(1);
  });

  it('hostile group and sync answers never lead to a delete: odd ids are skipped as malformed, never put in a URL', async () => {
    emu = await emulator({
      taskGroups: {
        [PROJECT]: [
          { rawJson: `{"group_id": "../tasks/1", "status": 6, "start_time": ${Date.now() - 30 * DAY}}` },
          { rawJson: `{"group_id": 1e3, "status": 6, "start_time": ${Date.now() - 30 * DAY}}` },
          { rawJson: `{"group_id": "a%2Fb", "status": 6, "start_time": ${Date.now() - 30 * DAY}}` },
          { rawJson: `{"id": "g-no-group-id", "status": 6, "start_time": ${Date.now() - 30 * DAY}}` },
          { rawJson: `{"group_id": "g-text-status", "status": "6", "start_time": ${Date.now() - 30 * DAY}}` },
          { rawJson: `{"group_id": "g-no-age", "status": 6}` },
        ],
      },
      syncTasks: { [PROJECT]: [{ rawJson: `{"sync_task_id": "s?x=1", "status": "STOPPED", "create_time": ${Date.now() - 60 * DAY}}` }, { rawJson: `{"sync_task_id": "s-odd-status", "status": "Stopped", "create_time": ${Date.now() - 60 * DAY}}` }] },
    });
    const rules = 'rules:\n  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }\n  - { name: s, kind: syncTask, statuses: [stopped], olderThan: 7d }\n';
    const { summary, logs } = await runEngine(policy(emu, rules));
    expect(emu.stats.calls['taskGroup.delete'] ?? 0).toBe(0);
    expect(emu.stats.calls['syncTask.delete'] ?? 0).toBe(0);
    expect(emu.stats.calls['unknown-route'] ?? 0).toBe(0);
    expect(summary.taskGroups).toMatchObject({ listed: 6, selected: 0, skipped: 6 });
    expect(summary.syncTasks).toMatchObject({ listed: 2, selected: 0, skipped: 2 });
    expect(logs.lines.filter((l) => l.message === 'task group skipped').map((l) => l.reason).sort()).toEqual(['malformed-id', 'malformed-id', 'malformed-id', 'malformed-id', 'unknown-age', 'unknown-status']);
  });

  it('after a pause: a group that finished meanwhile is deferred for the next run; one whose delete is under way (9) is left to it', async () => {
    const finishing = group('g-finishing', 2, 5 * DAY);
    const deleting = group('g-deleting-meanwhile', 2, 6 * DAY);
    emu = await emulator({ taskGroups: { [PROJECT]: [finishing, deleting] }, stopDelayMs: 60_000 });
    let changed = false;
    // Before the first look, OMS finishes one group and someone else starts deleting the other.
    const sleep = async () => {
      if (changed) return;
      changed = true;
      emu!.setTaskGroups(PROJECT, [{ ...finishing, status: 6 }, { ...deleting, status: 9 }]);
    };
    const { summary, logs } = await runEngine(policy(emu, RULES), {}, { sleep });
    expect(emu.stats.groupsStopped[PROJECT]?.sort()).toEqual(['g-deleting-meanwhile', 'g-finishing']);
    expect(emu.stats.calls['taskGroup.delete'] ?? 0).toBe(0);
    expect(summary.taskGroups).toMatchObject({ selected: 2, deleted: 0, deferred: 2, failed: 0 });
    expect(logs.lines.find((l) => l.taskGroupId === 'g-finishing' && l.outcome)).toMatchObject({ outcome: 'deferred', reason: 'finished-during-pause' });
    expect(logs.lines.find((l) => l.taskGroupId === 'g-deleting-meanwhile' && l.outcome)).toMatchObject({ outcome: 'deferred', reason: 'delete-under-way' });
  });

  it('a group or sync task holding a member task protected by id or name is kept, in case OMS deletes members with it', async () => {
    const member = (id: string, owner: string, groupType: string, extra: Record<string, unknown> = {}) => task(id, 5, 40 * DAY, { group_type: groupType, group_id: owner, ...extra });
    emu = await emulator({
      projects: {
        [PROJECT]: [
          member('11', 'g-1', 'GROUP_TASK', { name: 'keep-audit' }),
          member('12', 'g-2', 'GROUP_TASK'),
          member('21', 'g-3', 'GROUP_TASK'),
          member('31', 's-1', 'SYNC_TASK'),
          member('32', 's-2', 'SYNC_TASK'),
        ],
      },
      taskGroups: { [PROJECT]: [group('g-1', 6, 30 * DAY), group('g-2', 6, 30 * DAY), group('g-3', 6, 30 * DAY)] },
      syncTasks: { [PROJECT]: [sync('s-1', 'STOPPED', 40 * DAY), sync('s-2', 'STOPPED', 40 * DAY)] },
      groupDeleteRemovesMembers: true,
    });
    // No task rule at all: the tasks are listed only to see which groups hold a protected member.
    const rules = `rules:
  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }
  - { name: s, kind: syncTask, statuses: [stopped], olderThan: 7d }
protect: { names: ["keep-*"], taskIds: ["12", "31"] }
`;
    const { summary, logs } = await runEngine(policy(emu, rules));
    expect(groupsDeleted(emu)).toEqual(['g-3']);
    expect(syncDeleted(emu)).toEqual(['s-2']);
    // g-3's member went with it (groupDeleteRemovesMembers; the emulator removes group members only); every
    // protected member is still there.
    expect(emu.tasks(PROJECT).map((t) => t.id).sort()).toEqual(['11', '12', '31', '32']);
    expect(summary.taskGroups).toMatchObject({ selected: 1, deleted: 1, protected: 2 });
    expect(summary.syncTasks).toMatchObject({ selected: 1, deleted: 1, protected: 1 });
    expect(summary.totals).toMatchObject({ listed: 5, selected: 0, deleted: 0 });
    expect(logs.lines.find((l) => l.message === 'target selected' && l.kind === 'taskGroup')).toMatchObject({ heldByProtectedMembers: 2 });
  });

  it('when the task listing is incomplete, a protected member cannot be ruled out: no group or sync task of the target is deleted', async () => {
    const tasks = Array.from({ length: 150 }, (_, i) => task(String(1000 + i), 5, 1 * DAY));
    emu = await emulator({ projects: { [PROJECT]: tasks }, taskGroups: { [PROJECT]: [group('g-1', 6, 30 * DAY)] }, offsetCap: 50 });
    const rules = 'rules:\n  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }\nprotect: { taskIds: ["7"] }\n';
    const { summary, logs } = await runEngine(policy(emu, rules));
    expect(emu.stats.calls['taskGroup.delete'] ?? 0).toBe(0);
    expect(summary.targets[0]!.taskGroups).toMatchObject({ selected: 0, deleted: 0, truncated: true, error: expect.stringContaining('could not be ruled out') });
    expect(logs.lines.find((l) => l.message === 'kind not cleaned')).toMatchObject({ level: 'ERROR', kind: 'taskGroup' });
    const { exitCodeOf } = await import('../../lib/purge/summary.js');
    expect(exitCodeOf(summary)).toBe(1);
    // Without a task protection by id or name there is nothing to rule out: the tasks are not even listed.
    emu.resetStats();
    const free = await runEngine(policy(emu, 'rules:\n  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }\n'));
    expect(emu.stats.calls.list ?? 0).toBe(0);
    expect(free.summary.taskGroups).toMatchObject({ deleted: 1 });
  });
});
