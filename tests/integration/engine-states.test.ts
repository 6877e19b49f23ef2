/**
 * What the engine sends for an item in each state of each kind, in what order, and how it ends (docs/behaviour.md
 * "What each state gets"): one selected item alone in the world under a stopFirst rule that names every state, the
 * real engine, client and HTTP wrapper, and a recording proxy in front of the emulator for the request order.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Emulator, EmuSyncTask, EmuTask, EmuTaskGroup } from '../../emulator/index.js';
import { DELETE_IN_PROGRESS, PAUSE_NOT_PAUSABLE } from '../../emulator/stats.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { DAY, PROJECT, emulator, policy, runEngine } from '../helpers/harness.js';

type KindName = 'task' | 'taskGroup' | 'syncTask';

/** `pause`, `show`, `delete` in order; consecutive looks collapse into one `show…`. */
interface Row {
  kind: KindName;
  state: string;
  status: number | string;
  sent: string[];
  outcome: 'deleted' | 'deferred';
  reason?: string;
  paused?: boolean;
}

const ROWS: Row[] = [
  { kind: 'task', state: 'waiting', status: 1, sent: ['delete'], outcome: 'deleted' },
  { kind: 'task', state: 'migrating', status: 2, sent: ['pause', 'show…', 'delete'], outcome: 'deleted', paused: true },
  { kind: 'task', state: 'paused', status: 3, sent: ['delete'], outcome: 'deleted' },
  { kind: 'task', state: 'failed', status: 4, sent: ['delete'], outcome: 'deleted' },
  { kind: 'task', state: 'succeeded', status: 5, sent: ['delete'], outcome: 'deleted' },
  { kind: 'task', state: 'retrying', status: 6, sent: ['delete'], outcome: 'deleted' },
  { kind: 'task', state: 'pausing', status: 7, sent: ['show…', 'delete'], outcome: 'deleted' },
  { kind: 'taskGroup', state: 'waiting', status: 0, sent: ['delete'], outcome: 'deleted' },
  { kind: 'taskGroup', state: 'executing (creating)', status: 1, sent: ['show…'], outcome: 'deferred', reason: 'creating' },
  { kind: 'taskGroup', state: 'monitoring', status: 2, sent: ['pause', 'show…', 'delete'], outcome: 'deleted', paused: true },
  { kind: 'taskGroup', state: 'paused', status: 3, sent: ['delete'], outcome: 'deleted' },
  { kind: 'taskGroup', state: 'creationFailed', status: 4, sent: ['delete'], outcome: 'deleted' },
  { kind: 'taskGroup', state: 'failed', status: 5, sent: ['delete'], outcome: 'deleted' },
  { kind: 'taskGroup', state: 'succeeded', status: 6, sent: ['delete'], outcome: 'deleted' },
  { kind: 'taskGroup', state: 'pausing', status: 7, sent: ['show…', 'delete'], outcome: 'deleted' },
  { kind: 'syncTask', state: 'synchronizing', status: 'SYNCHRONIZING', sent: ['pause', 'show…', 'delete'], outcome: 'deleted', paused: true },
  { kind: 'syncTask', state: 'stopped', status: 'STOPPED', sent: ['delete'], outcome: 'deleted' },
];

const ALL_STATES: Record<KindName, string> = {
  task: 'waiting, migrating, paused, failed, succeeded, retrying, pausing',
  taskGroup: 'waiting, executing, monitoring, paused, creationFailed, failed, succeeded, pausing',
  syncTask: 'synchronizing, stopped',
};
const COLLECTION: Record<KindName, string> = { task: 'tasks', taskGroup: 'taskgroups', syncTask: 'sync-tasks' };
const BLOCK = { taskGroup: 'taskGroups', syncTask: 'syncTasks' } as const;
const ID = 'x1';

function world(row: Row): { projects?: Record<string, EmuTask[]>; taskGroups?: Record<string, EmuTaskGroup[]>; syncTasks?: Record<string, EmuSyncTask[]> } {
  const old = Date.now() - 10 * DAY;
  if (row.kind === 'task') return { projects: { [PROJECT]: [{ id: '11', name: 'only', status: row.status as number, start_time: old, total_time: 0 }] } };
  if (row.kind === 'taskGroup') return { taskGroups: { [PROJECT]: [{ group_id: ID, status: row.status as number, start_time: old, total_time: 0 }] } };
  return { syncTasks: { [PROJECT]: [{ sync_task_id: ID, status: row.status as string, create_time: old, last_start_time: old }] } };
}

/** The item's requests after the listing, as words, consecutive looks collapsed. */
function sentWords(proxy: RecordingProxy, kind: KindName): string[] {
  const words = proxy.requests
    .filter((r) => new RegExp(`^/v2/${PROJECT}/${COLLECTION[kind]}/[^/]+(/stop)?$`).test(r.rawPath))
    .map((r) => (r.rawPath.endsWith('/stop') ? 'pause' : r.method === 'DELETE' ? 'delete' : 'show…'));
  return words.filter((word, i) => !(word === 'show…' && words[i - 1] === 'show…'));
}

describe('engine: what each state of each kind gets', () => {
  let emu: Emulator | undefined;
  let proxy: RecordingProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await emu?.close();
  });

  it.each(ROWS)('$kind $state: sends $sent, ends $outcome', async (row) => {
    // A pausing fixture turns paused after stopDelayMs (as if paused when it was set); a creating group never moves.
    emu = await emulator({ ...world(row), stopDelayMs: 300 });
    proxy = await startRecordingProxy(emu.url);
    const rules = `rules:\n  - { name: everything, kind: ${row.kind}, statuses: [${ALL_STATES[row.kind]}], olderThan: 1d, stopFirst: true }\n`;
    const p = policy(emu, rules);
    const target = { ...p.targets[0]!, endpoint: proxy.url };
    const { summary, logs } = await runEngine({ ...p, targets: [target], limits: { ...p.limits, stopTimeoutMs: 1500 } });

    expect(sentWords(proxy, row.kind)).toEqual(row.sent);
    expect(emu.stats.calls[PAUSE_NOT_PAUSABLE] ?? 0).toBe(0);
    expect(emu.stats.calls[DELETE_IN_PROGRESS] ?? 0).toBe(0);
    const line = logs.lines.find((l) => l.outcome === row.outcome);
    expect(line).toMatchObject({ kind: row.kind, outcome: row.outcome, ...(row.reason ? { reason: row.reason } : {}) });
    expect(line!.paused ?? false).toBe(row.paused ?? false);
    const counts = row.kind === 'task' ? summary.targets[0]! : summary.targets[0]![BLOCK[row.kind]]!;
    expect(counts).toMatchObject({ selected: 1, deleted: row.outcome === 'deleted' ? 1 : 0, deferred: row.outcome === 'deferred' ? 1 : 0, failed: 0 });
  });
});

describe('engine: a refused pause or delete is looked at again and decided from what the item is now', () => {
  let emu: Emulator | undefined;
  let proxy: RecordingProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await emu?.close();
  });

  const migrating = (): EmuTask => ({ id: '11', name: 'only', status: 2, start_time: Date.now() - 10 * DAY, total_time: 0 });
  const waiting = (): EmuTask => ({ ...migrating(), status: 1 });

  /** One task, a fault, and a change made before the first look; the task's requests as words. */
  async function run(task: EmuTask, statuses: string, fault: Parameters<Emulator['setTaskFault']>[2], changeTo?: number, stopTimeoutMs = 1500) {
    emu = await emulator({ projects: { [PROJECT]: [task] } });
    proxy = await startRecordingProxy(emu.url);
    emu.setTaskFault(PROJECT, '11', fault);
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      if (slept.length === 0 && changeTo !== undefined) emu!.setTasks(PROJECT, [{ ...task, status: changeTo }]);
      slept.push(ms);
      await new Promise((resolve) => setTimeout(resolve, ms));
    };
    const p = policy(emu, `rules:\n  - { name: stuck, statuses: [${statuses}], olderThan: 2d, stopFirst: true }\n`);
    const result = await runEngine({ ...p, targets: [{ ...p.targets[0]!, endpoint: proxy.url }], limits: { ...p.limits, stopTimeoutMs } }, {}, { sleep });
    const outcome = result.logs.lines.find((l) => l.taskId === '11' && l.outcome !== undefined)!;
    return { ...result, sent: sentWords(proxy, 'task'), outcome, slept };
  }

  const notMigrating = { method: 'POST', status: 400, errorCode: 'OMS.0066', errorMsg: 'Pause failed: the task is not being migrated.', times: 1 } as const;
  const inProgress = { method: 'DELETE', status: 400, errorCode: 'OMS.0063', errorMsg: 'The task is in progress.', times: 1 } as const;

  it('OMS.0066, then found finished: deferred (finished-during-pause), nothing deleted', async () => {
    const r = await run(migrating(), 'migrating', notMigrating, 5);
    expect(r.sent).toEqual(['pause', 'show…']);
    expect(r.outcome).toMatchObject({ outcome: 'deferred', reason: 'finished-during-pause' });
    expect(r.summary.targets[0]).toMatchObject({ deleted: 0, failed: 0, deferred: 1 });
  });

  it('OMS.0066, then found retrying, which its rule covers: deleted as it is, no second pause', async () => {
    const r = await run(migrating(), 'migrating, retrying', notMigrating, 6);
    expect(r.sent).toEqual(['pause', 'show…', 'delete']);
    expect(r.outcome).toMatchObject({ outcome: 'deleted', status: 'migrating' });
    expect(r.summary.targets[0]).toMatchObject({ deleted: 1, failed: 0 });
  });

  it('OMS.0066, then found retrying, which its rule does not cover: deferred (changed-since-listing), nothing more sent', async () => {
    const r = await run(migrating(), 'migrating', notMigrating, 6);
    expect(r.sent).toEqual(['pause', 'show…']);
    expect(r.outcome).toMatchObject({ outcome: 'deferred', reason: 'changed-since-listing' });
    expect(emu!.tasks(PROJECT)).toHaveLength(1);
  });

  it('OMS.0063 to a waiting task: looked at, still waiting, deleted on the next try', async () => {
    const r = await run(waiting(), 'waiting', inProgress);
    expect(r.sent).toEqual(['delete', 'show…', 'delete']);
    expect(r.outcome).toMatchObject({ outcome: 'deleted' });
    expect(r.summary.targets[0]).toMatchObject({ deleted: 1, failed: 0 });
  });

  it('OMS.0063, then found migrating: the pause path takes over (pause, wait, delete); never a delete while it migrates', async () => {
    const r = await run(waiting(), 'waiting, migrating', inProgress, 2);
    expect(r.sent.slice(0, 3)).toEqual(['delete', 'show…', 'pause']);
    expect(r.sent.at(-1)).toBe('delete');
    expect(r.outcome).toMatchObject({ outcome: 'deleted', paused: true });
    expect(emu!.stats.calls[DELETE_IN_PROGRESS] ?? 0).toBe(0);
  });

  it('OMS.0063 to every delete of a waiting task until stopTimeout: failed with that answer, the deletes spaced out', async () => {
    const r = await run(waiting(), 'waiting', { ...inProgress, times: undefined }, undefined, 800);
    expect(r.outcome).toMatchObject({ outcome: 'failed', httpStatus: 400, errorCode: 'OMS.0063', reason: 'http-error' });
    const deletes = r.sent.filter((w) => w === 'delete').length;
    expect(deletes).toBeGreaterThan(1);
    // looked at before each new try, never a burst
    expect(r.sent.every((w, i) => w !== 'delete' || i === 0 || r.sent[i - 1] === 'show…')).toBe(true);
    // each wait as long as the look interval (the harness's 50 ms; 30 s in production), the last one cut to the
    // deadline: about stopTimeout / 50 tries, not one per event-loop turn
    expect(r.slept.slice(0, -1).every((ms) => ms === 50)).toBe(true);
    expect(deletes).toBeLessThanOrEqual(800 / 50 + 1);
  });
});

describe('engine: a task group or sync task that no longer exists', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  const old = Date.now() - 30 * DAY;
  const groups = ['g-404', 'g-404-code', 'g-1009', 'g-no-api', 'g-odd'].map((group_id): EmuTaskGroup => ({ group_id, status: 6, start_time: old }));
  const syncs = ['s-404', 's-1009'].map((sync_task_id): EmuSyncTask => ({ sync_task_id, status: 'STOPPED', create_time: old, last_start_time: old }));

  it('404 with any code but APIGW.0101, and 400 OMS.1009, count as gone; anything else fails and is logged in full', async () => {
    emu = await emulator({ taskGroups: { [PROJECT]: groups }, syncTasks: { [PROJECT]: syncs } });
    const answer = (id: string, kind: 'taskGroup' | 'syncTask', status: number, errorCode: string, errorMsg: string) =>
      emu!.setTaskFault(PROJECT, id, { method: 'DELETE', status, errorCode, errorMsg }, kind);
    answer('g-404', 'taskGroup', 404, '', '');
    answer('g-404-code', 'taskGroup', 404, 'OMS.1404', 'The task group does not exist.');
    answer('g-1009', 'taskGroup', 400, 'OMS.1009', 'No resources found.');
    answer('g-no-api', 'taskGroup', 404, 'APIGW.0101', 'The API does not exist or has not been published.');
    answer('g-odd', 'taskGroup', 400, 'OMS.7777', 'Something no document names.');
    answer('s-404', 'syncTask', 404, 'OMS.1404', 'The sync task does not exist.');
    answer('s-1009', 'syncTask', 400, 'OMS.1009', 'No resources found.');
    const rules = 'rules:\n  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d }\n  - { name: s, kind: syncTask, statuses: [stopped], olderThan: 7d }\n';
    const { summary, logs } = await runEngine(policy(emu, rules));
    const gone = logs.lines.filter((l) => l.outcome === 'deleted' && l.detail === 'already-gone').map((l) => l.taskGroupId ?? l.syncTaskId).sort();
    expect(gone).toEqual(['g-1009', 'g-404', 'g-404-code', 's-1009', 's-404']);
    expect(summary.targets[0]!.taskGroups).toMatchObject({ deleted: 3, failed: 2 });
    expect(summary.targets[0]!.taskGroups!.failures.map((f) => [f.id, f.httpStatus, f.errorCode]).sort()).toEqual([
      ['g-no-api', 404, 'APIGW.0101'],
      ['g-odd', 400, 'OMS.7777'],
    ]);
    expect(summary.targets[0]!.syncTasks).toMatchObject({ deleted: 2, failed: 0 });
    // The one answer no document names is logged again under one fixed message, with everything it said.
    const unfamiliar = logs.lines.filter((l) => l.message === 'unfamiliar OMS answer');
    expect(unfamiliar).toEqual([
      expect.objectContaining({ level: 'WARN', kind: 'taskGroup', httpStatus: 400, errorCode: 'OMS.7777', errorMsg: 'Something no document names.', call: `DELETE /v2/${PROJECT}/taskgroups/g-odd` }),
    ]);
  });

  it('a group gone between its pause and the look (404 to the show) counts as gone', async () => {
    emu = await emulator({ taskGroups: { [PROJECT]: [{ group_id: 'g-1', status: 2, start_time: old }] } });
    emu.setTaskFault(PROJECT, 'g-1', { method: 'GET', status: 404, errorCode: '', errorMsg: '' }, 'taskGroup');
    const { summary, logs } = await runEngine(policy(emu, 'rules:\n  - { name: g, kind: taskGroup, statuses: [monitoring], olderThan: 7d, stopFirst: true }\n'));
    expect(summary.targets[0]!.taskGroups).toMatchObject({ deleted: 1, failed: 0 });
    expect(logs.lines.find((l) => l.taskGroupId === 'g-1' && l.outcome)).toMatchObject({ outcome: 'deleted', detail: 'already-gone', paused: true });
    expect(emu.stats.calls['taskGroup.delete'] ?? 0).toBe(0);
  });
});

describe('engine: states that can only be waited out end deferred, never failed', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('a task someone is pausing, still pausing at stopTimeout: deferred (pausing), never paused or deleted by us', async () => {
    emu = await emulator({ projects: { [PROJECT]: [{ id: '11', name: 'only', status: 7, start_time: Date.now() - 10 * DAY, total_time: 0 }] }, stopDelayMs: 60_000 });
    const p = policy(emu, 'rules:\n  - { name: stuck, statuses: [pausing], olderThan: 2d, stopFirst: true }\n');
    const { summary, logs } = await runEngine({ ...p, limits: { ...p.limits, stopTimeoutMs: 400 } });
    expect(summary.targets[0]).toMatchObject({ selected: 1, deleted: 0, failed: 0, deferred: 1, truncated: true });
    expect(logs.lines.find((l) => l.taskId === '11' && l.outcome)).toMatchObject({ outcome: 'deferred', reason: 'pausing' });
    expect(emu.stats.calls.stop ?? 0).toBe(0);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(emu.stats.calls.show).toBeGreaterThan(0);
  });
});

describe('engine: the scenario that showed the emulator was kinder than OMS', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('45 stale tasks (waiting, migrating, retrying) and 11 stale groups (waiting, monitoring, creating) under stopFirst rules: every deletable one goes, the creating ones wait, nothing fails', async () => {
    const old = Date.now() - 5 * DAY;
    const tasks: EmuTask[] = Array.from({ length: 45 }, (_, i) => ({ id: String(500 + i), name: `stale-${i}`, status: [1, 2, 6][i % 3]!, start_time: old - i * 1000, total_time: 0 }));
    const statuses = [0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 1];
    const groups: EmuTaskGroup[] = statuses.map((status, i) => ({ group_id: `g-${i}`, status, start_time: old - i * 1000, total_time: 0 }));
    emu = await emulator({ projects: { [PROJECT]: tasks }, taskGroups: { [PROJECT]: groups } });
    const rules = `rules:
  - { name: stuck-tasks, statuses: [waiting, migrating, retrying], olderThan: 2d, stopFirst: true }
  - { name: stuck-groups, kind: taskGroup, statuses: [waiting, executing, monitoring], olderThan: 2d, stopFirst: true }
`;
    const p = policy(emu, rules);
    const { summary } = await runEngine({ ...p, limits: { ...p.limits, stopTimeoutMs: 800 } });
    expect(summary.targets[0]).toMatchObject({ selected: 45, deleted: 45, failed: 0, deferred: 0 });
    expect(summary.targets[0]!.taskGroups).toMatchObject({ selected: 11, deleted: 8, failed: 0, deferred: 3 });
    expect(emu.stats.stopped[PROJECT]).toHaveLength(15); // the migrating ones only
    expect(emu.stats.groupsStopped[PROJECT]).toHaveLength(4); // the monitoring ones only
    expect(emu.stats.calls[PAUSE_NOT_PAUSABLE] ?? 0).toBe(0);
    expect(emu.stats.byStatus['400'] ?? 0).toBe(0);
    const { exitCodeOf } = await import('../../lib/purge/summary.js');
    expect(exitCodeOf(summary)).toBe(0);
  });
});

describe('engine: deadlines, the time budget and the look schedule (simulated time)', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  /** One clock for the engine, its sleeps and the emulator's lifecycle; every sleep recorded. */
  function simulatedTime() {
    const t0 = Date.now();
    const time = { now: t0, slept: [] as number[] };
    return {
      time,
      t0,
      clock: () => time.now,
      sleep: async (ms: number) => {
        time.slept.push(ms);
        time.now += ms;
        await new Promise((resolve) => setImmediate(resolve));
      },
    };
  }
  const creatingGroup = (t0: number): EmuTaskGroup => ({ group_id: 'c1', status: 1, start_time: t0 - 5 * DAY, total_time: 0 });
  const GROUP_RULE = 'rules:\n  - { name: stuck-groups, kind: taskGroup, statuses: [executing, monitoring], olderThan: 2d, stopFirst: true }\n';

  it('looks at a state it waits out after 250 ms, 500 ms, … doubling up to 30 s; at the run\'s own pause every 2 s at most', async () => {
    const sim = simulatedTime();
    emu = await emulator({ taskGroups: { [PROJECT]: [creatingGroup(sim.t0)] }, now: sim.clock });
    const p = policy(emu, GROUP_RULE);
    await runEngine({ ...p, limits: { ...p.limits, stopTimeoutMs: 180_000 } }, {}, { clock: sim.clock, sleep: sim.sleep, pollIntervalMs: 2000, waitIntervalMs: 30_000 });
    expect(sim.time.slept.slice(0, 10)).toEqual([250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);

    const pausing = simulatedTime();
    await emu.close();
    emu = await emulator({ projects: { [PROJECT]: [{ id: '11', name: 'm', status: 2, start_time: pausing.t0 - 5 * DAY, total_time: 0 }] }, now: pausing.clock, stopDelayMs: 9000 });
    const q = policy(emu, 'rules:\n  - { name: stuck, statuses: [migrating], olderThan: 2d, stopFirst: true }\n');
    const { summary } = await runEngine(q, {}, { clock: pausing.clock, sleep: pausing.sleep, pollIntervalMs: 2000, waitIntervalMs: 30_000 });
    expect(pausing.time.slept).toEqual([250, 500, 1000, 2000, 2000, 2000, 2000]);
    expect(summary.targets[0]).toMatchObject({ deleted: 1 });
  });

  it('inside Lambda no wait sleeps past the time budget: the item is deferred (time-budget) before the reserve is reached', async () => {
    const sim = simulatedTime();
    emu = await emulator({ taskGroups: { [PROJECT]: [creatingGroup(sim.t0)] }, now: sim.clock });
    const remainingTimeMs = () => 100_000 - (sim.time.now - sim.t0);
    const { summary, logs } = await runEngine(policy(emu, GROUP_RULE), {}, { clock: sim.clock, sleep: sim.sleep, remainingTimeMs, waitIntervalMs: 30_000 });
    // 100 s left, 30 s reserve: every wait ends by the 70 s mark, never inside the reserve.
    expect(sim.time.now - sim.t0).toBeLessThanOrEqual(70_000);
    expect(summary.targets[0]!.taskGroups).toMatchObject({ deferred: 1, failed: 0 });
    // The run looked at it (requests were sent): its own INFO line, never only a count in a summary line.
    expect(logs.lines.find((l) => l.taskGroupId === 'c1' && l.outcome)).toMatchObject({ level: 'INFO', outcome: 'deferred', reason: 'time-budget', attempted: true });
  });

  it('a group that leaves its creation at the deadline is stopped, given its own stopTimeout to pause, and deleted, not failed', async () => {
    const sim = simulatedTime();
    emu = await emulator({ taskGroups: { [PROJECT]: [creatingGroup(sim.t0)] }, now: sim.clock, createDelayMs: 59_900, stopDelayMs: 5000 });
    const p = policy(emu, GROUP_RULE);
    const { summary, logs } = await runEngine({ ...p, limits: { ...p.limits, stopTimeoutMs: 60_000 } }, {}, { clock: sim.clock, sleep: sim.sleep, waitIntervalMs: 30_000 });
    expect(emu.stats.groupsStopped[PROJECT]).toEqual(['c1']);
    expect(summary.targets[0]!.taskGroups).toMatchObject({ deleted: 1, failed: 0, deferred: 0 });
    expect(logs.lines.find((l) => l.taskGroupId === 'c1' && l.outcome)).toMatchObject({ outcome: 'deleted', paused: true });
  });

  it('a stopped target ends the waits of its items at once (target-stopped), instead of looking until stopTimeout', async () => {
    const sim = simulatedTime();
    // Younger than the group, so the group is started (looked at) first; then the 403s stop the target.
    const old = sim.t0 - 3 * DAY;
    // Enough 403s that five come in a row, whatever the group's looks in between.
    const tasks: EmuTask[] = Array.from({ length: 12 }, (_, i) => String(21 + i)).map((id) => ({ id, name: `t${id}`, status: 5, start_time: old, total_time: 0 }));
    emu = await emulator({ projects: { [PROJECT]: tasks }, taskGroups: { [PROJECT]: [creatingGroup(sim.t0)] }, now: sim.clock, faults: { latencyMs: 20 } });
    for (const t of tasks) emu.setTaskFault(PROJECT, t.id, { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'Access denied.' });
    const rules = `${GROUP_RULE}  - { name: done, statuses: [succeeded], olderThan: 1d }\nconcurrency: 32\n`;
    const { summary, logs } = await runEngine(policy(emu, rules), {}, { clock: sim.clock, sleep: sim.sleep, waitIntervalMs: 30_000 });
    expect(summary.targets[0]).toMatchObject({ error: expect.stringContaining('403') });
    expect(logs.lines.find((l) => l.taskGroupId === 'c1' && l.outcome)).toMatchObject({ outcome: 'deferred', reason: 'target-stopped' });
    expect(emu.stats.calls['taskGroup.show']).toBeGreaterThan(0); // it had started waiting
    expect(sim.time.now - sim.t0).toBeLessThan(60_000);
  });

  it('the same status with a moved last activity is judged again: a task a keepLatest window now keeps is not deleted', async () => {
    const now = Date.now();
    const t1: EmuTask = { id: '1', name: 'a', status: 3, start_time: now - 10 * DAY, total_time: 0 };
    const t2: EmuTask = { id: '2', name: 'b', status: 3, start_time: now - 20 * DAY, total_time: 0 };
    emu = await emulator({ projects: { [PROJECT]: [t1, t2] } });
    emu.setTaskFault(PROJECT, '2', { method: 'DELETE', status: 400, errorCode: 'OMS.0063', errorMsg: 'In progress.', times: 1 });
    let moved = false;
    // Before the look, task 2 was resumed and paused again: it is now the newest paused task.
    const sleep = async () => {
      if (!moved) emu!.setTasks(PROJECT, [t1, { ...t2, start_time: now - 8 * DAY }]);
      moved = true;
    };
    const { summary, logs } = await runEngine(policy(emu, 'rules:\n  - { name: stale, statuses: [paused], olderThan: 7d, keepLatest: 1 }\n'), {}, { sleep });
    expect(emu.tasks(PROJECT).map((t) => t.id).sort()).toEqual(['1', '2']);
    expect(summary.targets[0]).toMatchObject({ selected: 1, deleted: 0, deferred: 1 });
    expect(logs.lines.find((l) => l.taskId === '2' && l.outcome)).toMatchObject({ outcome: 'deferred', reason: 'changed-since-listing' });
  });
});

describe('engine: messages say each thing once', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('a 401 whose error_code is the status itself reads "(HTTP 401)", not "(HTTP 401 401)"', async () => {
    emu = await emulator({ projects: { [PROJECT]: [{ id: '11', name: 'x', status: 5, start_time: Date.now() - 30 * DAY, total_time: 0 }] } });
    emu.setTaskFault(PROJECT, '11', { method: 'DELETE', status: 401, errorCode: '401', errorMsg: 'Unauthorized' });
    const { summary } = await runEngine(policy(emu, 'rules:\n  - { name: done, statuses: [succeeded], olderThan: 7d }\n'));
    expect(summary.targets[0]!.error).toBe('stopped: authentication was refused (HTTP 401); check the credentials');
    expect(JSON.stringify(summary)).not.toMatch(/401 401/);
  });
});

describe('engine: the summary counts what keepLatest kept', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('totals and blocks carry `kept`: matched, left alone by a window', async () => {
    const old = (id: string, days: number): EmuTask => ({ id, name: `t${id}`, status: 5, start_time: Date.now() - days * DAY, total_time: 0 });
    emu = await emulator({ projects: { [PROJECT]: [old('1', 10), old('2', 20), old('3', 30)] }, taskGroups: { [PROJECT]: [{ group_id: 'g1', status: 6, start_time: Date.now() - 30 * DAY }] } });
    const rules = 'rules:\n  - { name: done, statuses: [succeeded], olderThan: 7d, keepLatest: 1 }\n  - { name: g, kind: taskGroup, statuses: [succeeded], olderThan: 7d, keepLatest: 1 }\n';
    const { summary } = await runEngine(policy(emu, rules), { dryRun: true });
    expect(summary.totals).toMatchObject({ listed: 3, selected: 2, kept: 1 });
    expect(summary.taskGroups).toMatchObject({ listed: 1, selected: 0, kept: 1 });
    expect(summary.targets[0]!.taskGroups).toMatchObject({ kept: 1 });
  });
});

describe('engine: the summary names deferred items', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('deferredItems: the ids and reasons (run-cap, creating), tasks by taskId, other kinds by id', async () => {
    const old = (id: string, days: number): EmuTask => ({ id, name: `t${id}`, status: 5, start_time: Date.now() - days * DAY, total_time: 0 });
    emu = await emulator({ projects: { [PROJECT]: [old('1', 30), old('2', 20), old('3', 10)] }, taskGroups: { [PROJECT]: [{ group_id: 'c1', status: 1, start_time: Date.now() - 5 * DAY }] } });
    const p = policy(emu, 'rules:\n  - { name: done, statuses: [succeeded], olderThan: 7d }\n  - { name: g, kind: taskGroup, statuses: [executing], olderThan: 2d, stopFirst: true }\nlimits: { maxDeletesPerRun: 2 }\n');
    const { summary } = await runEngine({ ...p, limits: { ...p.limits, stopTimeoutMs: 300 } });
    // Oldest first: tasks 1 and 2 go; task 3 and the (younger) group wait for the next run.
    expect(summary.targets[0]!.deferredItems).toEqual([{ taskId: '3', reason: 'run-cap' }]);
    expect(summary.targets[0]!.taskGroups!.deferredItems).toEqual([{ id: 'c1', reason: 'run-cap' }]);
    const uncapped = await runEngine({ ...p, limits: { ...p.limits, maxDeletesPerRun: 10, stopTimeoutMs: 300 } });
    expect(uncapped.summary.targets[0]!.taskGroups!.deferredItems).toEqual([{ id: 'c1', reason: 'creating' }]);
    expect(uncapped.summary.targets[0]!.deferredItems).toBeUndefined();
  });
});
