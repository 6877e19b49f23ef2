import { DEMO_PROJECTS, demoProjects, demoSyncTasks, demoTaskGroups, startEmulator } from '../../emulator/index.js';
import type { Emulator, EmulatorOptions, EmuSyncTask, EmuTaskGroup } from '../../emulator/index.js';
import { DELETE_IN_PROGRESS } from '../../emulator/stats.js';

const P = 'proj1';
const TOKEN = 'tok';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = 1_800_000_000_000;

function group(i: number, status = 6): EmuTaskGroup {
  return { group_id: `g${String(i).padStart(2, '0')}`, status, description: `group ${i}`, start_time: T0 - i * HOUR, total_time: 1000 };
}

function sync(i: number, status = 'STOPPED'): EmuSyncTask {
  return { sync_task_id: `s${String(i).padStart(2, '0')}`, status, create_time: T0 - 100 * DAY, last_start_time: T0 - i * HOUR };
}

async function call(
  emu: Emulator,
  path: string,
  method = 'GET',
  headers: Record<string, string> = { 'X-Auth-Token': TOKEN },
): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(`${emu.url}${path}`, { method, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** [status, error_code] of an answer, for compact assertions. */
const verdict = (r: { status: number; json: any }): [number, string | undefined] => [r.status, r.json?.error_code];

describe('OMS task group and sync task routes', () => {
  let emu: Emulator;
  let clock = T0;

  async function start(extra: EmulatorOptions = {}): Promise<void> {
    emu = await startEmulator({ tokens: [TOKEN], stopDelayMs: 100, pauseSettleMs: 50, now: () => clock, ...extra });
  }

  beforeEach(() => {
    clock = T0;
  });
  afterEach(() => emu.close());

  describe('task groups', () => {
    beforeEach(() => start({ taskGroups: { [P]: Array.from({ length: 25 }, (_, i) => group(i)) } }));

    it('lists {"taskgroups":[...],"count":N} newest first, 10 by default, paged by offset', async () => {
      const first = await call(emu, `/v2/${P}/taskgroups`);
      expect(first.status).toBe(200);
      expect(Object.keys(first.json)).toEqual(['taskgroups', 'count']);
      expect(first.json.count).toBe(25);
      expect(first.json.taskgroups.map((g: EmuTaskGroup) => g.group_id)).toEqual(Array.from({ length: 10 }, (_, i) => group(i).group_id));
      const last = await call(emu, `/v2/${P}/taskgroups?limit=10&offset=20`);
      expect(last.json.taskgroups.map((g: EmuTaskGroup) => g.description)).toEqual([20, 21, 22, 23, 24].map((i) => `group ${i}`));
      expect(last.json.count).toBe(25);
      expect((await call(emu, `/v2/${P}/taskgroups?limit=100&offset=500`)).json).toEqual({ taskgroups: [], count: 25 });
      expect((await call(emu, '/v2/nope/taskgroups')).json).toEqual({ taskgroups: [], count: 0 });
      for (const query of ['limit=0', 'limit=101', 'limit=x', 'offset=-1', 'offset=1.5', 'status=x']) {
        expect([query, ...verdict(await call(emu, `/v2/${P}/taskgroups?${query}`))]).toEqual([query, 400, 'OMS.0064']);
      }
    });

    it('breaks start_time ties by id, descending, and always emits group_id as a JSON string', async () => {
      emu.setTaskGroups(P, [
        { group_id: '99', start_time: 5 },
        { group_id: '100', start_time: 5 },
        { group_id: 'b', start_time: 6 },
      ]);
      const page = await call(emu, `/v2/${P}/taskgroups`);
      expect(page.text).toBe('{"taskgroups":[{"group_id":"b","start_time":6},{"group_id":"100","start_time":5},{"group_id":"99","start_time":5}],"count":3}');
    });

    it('shows a group; a missing one answers 404 OMS.1009', async () => {
      const one = await call(emu, `/v2/${P}/taskgroups/g03`);
      expect(one.json).toEqual(group(3));
      expect(verdict(await call(emu, `/v2/${P}/taskgroups/nope`))).toEqual([404, 'OMS.1009']);
      expect(emu.stats.calls).toMatchObject({ 'taskGroup.show': 2 });
    });

    it('stops a monitoring group (PUT): pausing (7), then paused (3) after stopDelayMs, deletable after the settle time', async () => {
      emu.setTaskGroups(P, [group(1, 2), group(2, 6)]);
      const stop = await call(emu, `/v2/${P}/taskgroups/g01/stop`, 'PUT');
      expect([stop.status, stop.text]).toEqual([200, '']);
      expect((await call(emu, `/v2/${P}/taskgroups/g01`)).json.status).toBe(7);
      expect(verdict(await call(emu, `/v2/${P}/taskgroups/g01`, 'DELETE'))).toEqual([400, 'OMS.0063']);
      expect(verdict(await call(emu, `/v2/${P}/taskgroups/g01/stop`, 'PUT'))).toEqual([400, 'OMS.0066']);
      clock += 100;
      expect((await call(emu, `/v2/${P}/taskgroups/g01`)).json.status).toBe(3);
      expect(emu.taskGroups(P).find((g) => g.group_id === 'g01')?.status).toBe(3);
      expect((await call(emu, `/v2/${P}/taskgroups?status=3`)).json.count).toBe(1);
      expect(verdict(await call(emu, `/v2/${P}/taskgroups/g01`, 'DELETE'))).toEqual([400, 'OMS.0063']);
      clock += 50;
      const del = await call(emu, `/v2/${P}/taskgroups/g01`, 'DELETE');
      expect([del.status, del.text]).toEqual([200, '']);
      expect(emu.stats.groupsStopped[P]).toEqual(['g01']);
      expect(emu.stats.groupsDeleted[P]).toEqual(['g01']);
      expect(emu.stats.stopped[P] ?? []).toEqual([]); // `stopped` and `deleted` stay tasks-only
      expect(emu.stats.deleted[P] ?? []).toEqual([]);
      expect(emu.taskGroups(P).map((g) => g.group_id)).toEqual(['g02']);
      // The task route's method (POST) is not the group's: no such API.
      expect(verdict(await call(emu, `/v2/${P}/taskgroups/g02/stop`, 'POST'))).toEqual([404, 'APIGW.0101']);
    });

    it('a missing group answers a stop with 404 OMS.1009 (which states stop: tests/integration/emulator-states.test.ts)', async () => {
      expect(verdict(await call(emu, `/v2/${P}/taskgroups/nope/stop`, 'PUT'))).toEqual([404, 'OMS.1009']);
      expect(emu.stats.calls['taskGroup.stop']).toBe(1);
    });

    it('refuses to delete creating, monitoring and pausing groups (OMS.0063); others, 8 and 9 included, go', async () => {
      emu.setTaskGroups(P, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((status, i) => group(i, status)));
      const refused: number[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await call(emu, `/v2/${P}/taskgroups/g0${i}`, 'DELETE');
        if (res.status !== 200) {
          expect(verdict(res)).toEqual([400, 'OMS.0063']);
          refused.push(i);
        }
      }
      expect(refused).toEqual([1, 2, 7]);
      expect(emu.stats.groupsDeleted[P]).toEqual(['g00', 'g03', 'g04', 'g05', 'g06', 'g08', 'g09']);
      expect(verdict(await call(emu, `/v2/${P}/taskgroups/g00`, 'DELETE'))).toEqual([404, 'OMS.1009']);
      // Judged at arrival: the three refused deletes were sent to groups in progress.
      expect(emu.stats.calls[DELETE_IN_PROGRESS]).toBe(3);
      expect(emu.stats.calls['taskGroup.delete']).toBe(11);
      expect(emu.stats.calls.delete).toBeUndefined();
    });
  });

  describe('deleting a group and its member tasks', () => {
    const members = [
      { id: '191297407830001', status: 5, group_type: 'GROUP_TASK', group_id: 'g01', start_time: T0 - 3 * HOUR },
      { id: '191297407830002', status: 5, group_type: 'GROUP_TASK', group_id: 'g01', start_time: T0 - 2 * HOUR },
      { id: '191297407830003', status: 5, group_type: 'GROUP_TASK', group_id: 'g02', start_time: T0 - HOUR },
      { id: '191297407830004', status: 5, start_time: T0 },
    ];

    it('leaves the member tasks alone by default', async () => {
      await start({ projects: { [P]: members }, taskGroups: { [P]: [group(1), group(2)] } });
      expect((await call(emu, `/v2/${P}/taskgroups/g01`, 'DELETE')).status).toBe(200);
      expect((await call(emu, `/v2/${P}/tasks?group_id=g01`)).json.count).toBe(2);
      expect(emu.stats.membersRemoved).toEqual({});
    });

    it('removes them with the group under groupDeleteRemovesMembers, and setGroupDeleteRemovesMembers switches it', async () => {
      await start({ projects: { [P]: members }, taskGroups: { [P]: [group(1), group(2)] }, groupDeleteRemovesMembers: true });
      expect((await call(emu, `/v2/${P}/taskgroups/g01`, 'DELETE')).status).toBe(200);
      expect((await call(emu, `/v2/${P}/tasks?group_id=g01`)).json).toEqual({ tasks: [], count: 0 });
      expect(emu.tasks(P).map((t) => t.id)).toEqual(['191297407830004', '191297407830003']);
      expect(emu.stats.membersRemoved).toEqual({ [P]: ['191297407830002', '191297407830001'] });
      expect(emu.stats.deleted).toEqual({}); // not deleted by a DELETE of their own
      emu.setGroupDeleteRemovesMembers(false);
      expect((await call(emu, `/v2/${P}/taskgroups/g02`, 'DELETE')).status).toBe(200);
      expect(emu.tasks(P)).toHaveLength(2);
      expect(emu.stats.groupsDeleted[P]).toEqual(['g01', 'g02']);
    });
  });

  describe('sync tasks', () => {
    beforeEach(() => start({ syncTasks: { [P]: Array.from({ length: 25 }, (_, i) => sync(i)) } }));

    it('lists {"tasks":[...],"count":N} by last start (else creation), newest first, ids as strings', async () => {
      const first = await call(emu, `/v2/${P}/sync-tasks?limit=5`);
      expect(first.status).toBe(200);
      expect(first.json.count).toBe(25);
      expect(first.json.tasks.map((s: EmuSyncTask) => s.sync_task_id)).toEqual(['s00', 's01', 's02', 's03', 's04']);
      expect((await call(emu, `/v2/${P}/sync-tasks?offset=20`)).json.tasks).toHaveLength(5);
      emu.setSyncTasks(P, [
        { sync_task_id: '7', create_time: 10 }, // never started: its creation counts
        { sync_task_id: '8', create_time: 1, last_start_time: 20 },
        { sync_task_id: '9', create_time: 1, last_start_time: 10 },
      ]);
      const page = await call(emu, `/v2/${P}/sync-tasks`);
      expect(page.text.startsWith('{"tasks":[{"sync_task_id":"8",')).toBe(true);
      expect(page.json.tasks.map((s: EmuSyncTask) => s.sync_task_id)).toEqual(['8', '9', '7']);
    });

    it('refuses offsets above 10000 always, and above offsetCap when that is lower', async () => {
      expect((await call(emu, `/v2/${P}/sync-tasks?offset=10000`)).json).toEqual({ tasks: [], count: 25 });
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks?offset=10001`))).toEqual([400, 'OMS.0064']);
      expect((await call(emu, `/v2/${P}/taskgroups?offset=10001`)).status).toBe(200); // groups document 2^31-1
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks?status=RUNNING`))).toEqual([400, 'OMS.0064']);
      await emu.close();
      await start({ syncTasks: { [P]: [sync(1)] }, offsetCap: 20 });
      expect((await call(emu, `/v2/${P}/sync-tasks?offset=20`)).status).toBe(200);
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks?offset=21`))).toEqual([400, 'OMS.0064']);
    });

    it('shows a sync task only with a query_time of digits; a missing one is 404 OMS.1009', async () => {
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks/s01`))).toEqual([400, 'OMS.0064']);
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks/s01?query_time=abc`))).toEqual([400, 'OMS.0064']);
      expect((await call(emu, `/v2/${P}/sync-tasks/s01?query_time=${T0}`)).json).toEqual(sync(1));
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks/nope?query_time=${T0}`))).toEqual([404, 'OMS.1009']);
    });

    it('stops a synchronizing one: still SYNCHRONIZING for stopDelayMs, then STOPPED, deletable after the settle time', async () => {
      emu.setSyncTasks(P, [sync(1, 'SYNCHRONIZING'), sync(2)]);
      const show = async (): Promise<string> => (await call(emu, `/v2/${P}/sync-tasks/s01?query_time=${T0}`)).json.status;
      const stop = await call(emu, `/v2/${P}/sync-tasks/s01/stop`, 'POST');
      expect([stop.status, stop.text]).toEqual([200, '']);
      expect(await show()).toBe('SYNCHRONIZING');
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks/s01`, 'DELETE'))).toEqual([400, 'OMS.0063']);
      clock += 100;
      expect(await show()).toBe('STOPPED');
      expect(emu.syncTasks(P).map((s) => s.status)).toEqual(['STOPPED', 'STOPPED']);
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks/s01`, 'DELETE'))).toEqual([400, 'OMS.0063']);
      clock += 50;
      expect((await call(emu, `/v2/${P}/sync-tasks/s01`, 'DELETE')).status).toBe(200);
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks/s02/stop`, 'POST'))).toEqual([400, 'OMS.0066']);
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks/s01/stop`, 'POST'))).toEqual([404, 'OMS.1009']);
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks/s01`, 'DELETE'))).toEqual([404, 'OMS.1009']);
      expect(emu.stats.syncTasksStopped[P]).toEqual(['s01']);
      expect(emu.stats.syncTasksDeleted[P]).toEqual(['s01']);
      expect(emu.stats.calls[DELETE_IN_PROGRESS]).toBe(1); // the one sent while it still read SYNCHRONIZING
      expect(emu.stats.calls).toMatchObject({ 'syncTask.stop': 3, 'syncTask.delete': 4, 'syncTask.show': 2 });
    });

    it('refuses to delete a synchronizing one that was never stopped', async () => {
      emu.setSyncTasks(P, [sync(1, 'SYNCHRONIZING')]);
      expect(verdict(await call(emu, `/v2/${P}/sync-tasks/s01`, 'DELETE'))).toEqual([400, 'OMS.0063']);
      expect(emu.syncTasks(P)).toHaveLength(1);
    });
  });

  it('syncStopUnsupported: the stop route answers 404 APIGW.0101, as an unknown route, and stops nothing', async () => {
    await start({ syncTasks: { [P]: [sync(1, 'SYNCHRONIZING')] }, syncStopUnsupported: true });
    expect(verdict(await call(emu, `/v2/${P}/sync-tasks/s01/stop`, 'POST'))).toEqual([404, 'APIGW.0101']);
    expect(emu.syncTasks(P)[0]?.status).toBe('SYNCHRONIZING');
    expect(emu.stats.calls['unknown-route']).toBe(1);
    expect(emu.stats.calls['syncTask.stop']).toBeUndefined();
    expect((await call(emu, `/v2/${P}/sync-tasks/s01?query_time=1`)).status).toBe(200);
  });

  it('requires credentials, and binds them to their account, on group and sync routes', async () => {
    await start({
      tokens: [TOKEN, 'other-tok'],
      accounts: [
        { name: 'acme', projects: [P], tokens: [TOKEN] },
        { name: 'other', projects: ['proj2'], tokens: ['other-tok'] },
      ],
      taskGroups: { [P]: [group(1)] },
      syncTasks: { [P]: [sync(1)] },
    });
    for (const path of [`/v2/${P}/taskgroups`, `/v2/${P}/sync-tasks`, `/v2/${P}/taskgroups/g01`]) {
      expect([path, ...verdict(await call(emu, path, 'GET', {}))]).toEqual([path, 401, 'APIGW.0301']);
    }
    expect(verdict(await call(emu, `/v2/${P}/taskgroups/g01`, 'DELETE', { 'X-Auth-Token': 'other-tok' }))).toEqual([401, 'APIGW.0301']);
    expect(emu.taskGroups(P)).toHaveLength(1);
    expect(emu.stats.crossAccount).toBe(1);
    expect((await call(emu, `/v2/${P}/taskgroups/g01`)).status).toBe(200);
    expect(emu.stats.calls.unauthorized).toBe(4);
  });

  it('splices raw entries of both kinds verbatim, addressed by the id read from their text', async () => {
    await start({
      taskGroups: { [P]: [{ rawJson: '{"group_id":12345678901234567890,"start_time":9}' }, { rawJson: '{"group_id":"raw-g","status":6,"start_time":8}' }, { rawJson: '[1]' }] },
      syncTasks: { [P]: [{ rawJson: '{"sync_task_id":"raw-s","status":"STOPPED","last_start_time":3,"extra":{"x":1.5e3}}' }, { rawJson: '{"status":"STOPPED"}' }] },
    });
    const groups = await call(emu, `/v2/${P}/taskgroups`);
    expect(groups.text).toBe('{"taskgroups":[{"group_id":12345678901234567890,"start_time":9},{"group_id":"raw-g","status":6,"start_time":8},[1]],"count":3}');
    const syncs = await call(emu, `/v2/${P}/sync-tasks`);
    expect(syncs.text).toBe('{"tasks":[{"sync_task_id":"raw-s","status":"STOPPED","last_start_time":3,"extra":{"x":1.5e3}},{"status":"STOPPED"}],"count":2}');
    expect((await call(emu, `/v2/${P}/taskgroups/12345678901234567890`)).text).toBe('{"group_id":12345678901234567890,"start_time":9}');
    expect((await call(emu, `/v2/${P}/taskgroups/raw-g`, 'DELETE')).status).toBe(200);
    expect((await call(emu, `/v2/${P}/sync-tasks/raw-s`, 'DELETE')).status).toBe(200);
    expect(emu.taskGroups(P).map((g) => g.group_id)).toEqual(['12345678901234567890', '']);
    expect(emu.syncTasks(P)).toEqual([{ status: 'STOPPED', sync_task_id: '' }]);
  });

  it('injects faults on every kind by route, and resetStats clears the new stats', async () => {
    await start({ taskGroups: { [P]: [group(1)] }, syncTasks: { [P]: [sync(1)] }, faults: { rate500: 1, routes: ['delete'] } });
    expect((await call(emu, `/v2/${P}/taskgroups/g01`, 'DELETE')).status).toBe(500);
    expect((await call(emu, `/v2/${P}/sync-tasks/s01`, 'DELETE')).status).toBe(500);
    expect((await call(emu, `/v2/${P}/taskgroups`)).status).toBe(200);
    expect(emu.stats.faultsInjected['500']).toBe(2);
    emu.setFaults({});
    await call(emu, `/v2/${P}/taskgroups/g01`, 'DELETE');
    await call(emu, `/v2/${P}/sync-tasks/s01`, 'DELETE');
    expect([emu.stats.groupsDeleted[P], emu.stats.syncTasksDeleted[P]]).toEqual([['g01'], ['s01']]);
    const stats = emu.stats;
    emu.resetStats();
    expect(stats).toBe(emu.stats);
    const { groupsDeleted, groupsStopped, syncTasksDeleted, syncTasksStopped, membersRemoved, calls } = stats;
    expect({ groupsDeleted, groupsStopped, syncTasksDeleted, syncTasksStopped, membersRemoved, calls }).toEqual({
      groupsDeleted: {},
      groupsStopped: {},
      syncTasksDeleted: {},
      syncTasksStopped: {},
      membersRemoved: {},
      calls: {},
    });
  });
});

describe('demo task groups and sync tasks', () => {
  const NOW = Date.UTC(2026, 10, 3, 12, 0, 0);
  const groups = demoTaskGroups(NOW);
  const syncs = demoSyncTasks(NOW);
  const tasks = demoProjects(NOW);

  it('are deterministic, in the demo projects only, with string ids', () => {
    expect(demoTaskGroups(NOW)).toEqual(groups);
    expect(demoSyncTasks(NOW)).toEqual(syncs);
    const projects = Object.values(DEMO_PROJECTS) as string[];
    expect([...Object.keys(groups), ...Object.keys(syncs)].every((p) => projects.includes(p))).toBe(true);
    const ids = [...Object.values(groups).flat().map((g) => g.group_id), ...Object.values(syncs).flat().map((s) => s.sync_task_id)];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('cover the statuses a policy meets, and an old succeeded group whose member tasks are listed', () => {
    const all = Object.values(groups).flat();
    for (const status of [1, 3, 5, 6, 9]) expect(all.some((g) => g.status === status)).toBe(true);
    const bj4 = tasks[DEMO_PROJECTS.beijing4] ?? [];
    const withMembers = all.filter((g) => bj4.some((t) => t.group_id === g.group_id));
    expect(withMembers).toHaveLength(1);
    const [old] = withMembers;
    expect(old?.status).toBe(6);
    expect(NOW - (old?.start_time ?? NOW)).toBeGreaterThan(30 * DAY);
    const members = bj4.filter((t) => t.group_id === old?.group_id);
    expect(members.length).toBeGreaterThan(0);
    expect(members.every((t) => t.group_type === 'GROUP_TASK' && t.status === 5 && NOW - (t.start_time ?? NOW) > 30 * DAY)).toBe(true);
    const ages = Object.values(syncs)
      .flat()
      .map((s) => [s.status, NOW - (s.last_start_time ?? NOW) > 30 * DAY ? 'old' : 'recent']);
    for (const pair of [['STOPPED', 'old'], ['STOPPED', 'recent'], ['SYNCHRONIZING', 'old']]) expect(ages).toContainEqual(pair);
  });

  it('are served by the emulator as given', async () => {
    const emu = await startEmulator({ tokens: [TOKEN], taskGroups: groups, syncTasks: syncs, now: () => NOW });
    try {
      const page = await call(emu, `/v2/${DEMO_PROJECTS.beijing4}/taskgroups?limit=100`);
      expect(page.json.count).toBe(groups[DEMO_PROJECTS.beijing4]?.length);
      const listed = await call(emu, `/v2/${DEMO_PROJECTS.beijing4}/sync-tasks?limit=100`);
      expect(listed.json.count).toBe(syncs[DEMO_PROJECTS.beijing4]?.length);
    } finally {
      await emu.close();
    }
  });
});
