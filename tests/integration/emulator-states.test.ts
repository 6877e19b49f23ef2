import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmulator } from '../../emulator/index.js';
import type { Emulator } from '../../emulator/index.js';
import { DELETE_IN_PROGRESS, PAUSE_NOT_PAUSABLE } from '../../emulator/stats.js';
import { KIND_MODELS, handlingOf } from '../../lib/oms/kinds.js';

/**
 * The emulator answers a pause and a delete in each state as Huawei documents them, one row per kind and state
 * (docs/behaviour.md "What each state gets"; sources: the API pages StopTask, StopTaskGroup, DeleteTaskGroup,
 * DeleteSyncTask, the Python SDK's OMS v2 docstrings, Huawei's Terraform provider). `pause` is what a stop (pause)
 * of an item in that state gets, `delete` what a DELETE of another item in that same state gets.
 */
const ROWS: Array<{ kind: 'task' | 'taskGroup' | 'syncTask'; state: string; status: number | string; pause: 'ok' | 'OMS.0066'; delete: 'ok' | 'OMS.0063' }> = [
  { kind: 'task', state: 'waiting', status: 1, pause: 'OMS.0066', delete: 'ok' },
  { kind: 'task', state: 'migrating', status: 2, pause: 'ok', delete: 'OMS.0063' },
  { kind: 'task', state: 'paused', status: 3, pause: 'OMS.0066', delete: 'ok' },
  { kind: 'task', state: 'failed', status: 4, pause: 'OMS.0066', delete: 'ok' },
  { kind: 'task', state: 'succeeded', status: 5, pause: 'OMS.0066', delete: 'ok' },
  { kind: 'task', state: 'retrying', status: 6, pause: 'OMS.0066', delete: 'ok' },
  { kind: 'task', state: 'pausing', status: 7, pause: 'OMS.0066', delete: 'OMS.0063' },
  { kind: 'taskGroup', state: 'waiting', status: 0, pause: 'OMS.0066', delete: 'ok' },
  { kind: 'taskGroup', state: 'creating', status: 1, pause: 'OMS.0066', delete: 'OMS.0063' },
  { kind: 'taskGroup', state: 'monitoring', status: 2, pause: 'ok', delete: 'OMS.0063' },
  { kind: 'taskGroup', state: 'paused', status: 3, pause: 'OMS.0066', delete: 'ok' },
  { kind: 'taskGroup', state: 'creationFailed', status: 4, pause: 'OMS.0066', delete: 'ok' },
  { kind: 'taskGroup', state: 'failed', status: 5, pause: 'OMS.0066', delete: 'ok' },
  { kind: 'taskGroup', state: 'succeeded', status: 6, pause: 'OMS.0066', delete: 'ok' },
  { kind: 'taskGroup', state: 'pausing', status: 7, pause: 'OMS.0066', delete: 'OMS.0063' },
  { kind: 'syncTask', state: 'synchronizing', status: 'SYNCHRONIZING', pause: 'ok', delete: 'OMS.0063' },
  { kind: 'syncTask', state: 'stopped', status: 'STOPPED', pause: 'OMS.0066', delete: 'ok' },
];

const P = 'proj1';
const TOKEN = 'tok';
const T0 = 1_800_000_000_000;
const PATH = { task: 'tasks', taskGroup: 'taskgroups', syncTask: 'sync-tasks' } as const;
const PAUSE_METHOD = { task: 'POST', taskGroup: 'PUT', syncTask: 'POST' } as const;

async function answer(emu: Emulator, path: string, method: string): Promise<'ok' | string> {
  const res = await fetch(`${emu.url}${path}`, { method, headers: { 'X-Auth-Token': TOKEN } });
  const text = await res.text();
  if (res.status === 200) return 'ok';
  expect(res.status).toBe(400);
  return (JSON.parse(text) as { error_code: string }).error_code;
}

describe('the emulator pauses and deletes in the states OMS does, and no other', () => {
  let emu: Emulator;
  // A frozen clock: nothing that was paused moves on during a row.
  beforeAll(async () => {
    emu = await startEmulator({ tokens: [TOKEN], now: () => T0 });
  });
  afterAll(async () => emu.close());

  it.each(ROWS)('$kind $state ($status): pause -> $pause, delete -> $delete', async (row) => {
    // Two items in the state: one is paused, the other deleted (a pause of the first would change its state).
    const ids = row.kind === 'task' ? ['101', '102'] : ['a1', 'a2'];
    if (row.kind === 'task') emu.setTasks(P, ids.map((id) => ({ id, name: `t${id}`, status: row.status as number, start_time: T0 - 1000 })));
    else if (row.kind === 'taskGroup') emu.setTaskGroups(P, ids.map((group_id) => ({ group_id, status: row.status as number, start_time: T0 - 1000 })));
    else emu.setSyncTasks(P, ids.map((sync_task_id) => ({ sync_task_id, status: row.status as string, create_time: T0 - 1000 })));
    emu.resetStats();
    const base = `/v2/${P}/${PATH[row.kind]}`;
    expect(await answer(emu, `${base}/${ids[0]}/stop`, PAUSE_METHOD[row.kind])).toBe(row.pause);
    expect(await answer(emu, `${base}/${ids[1]}`, 'DELETE')).toBe(row.delete);
    // The arrival counters name exactly the refused requests (what the property tests assert the janitor never sends).
    expect(emu.stats.calls[PAUSE_NOT_PAUSABLE] ?? 0).toBe(row.pause === 'ok' ? 0 : 1);
    expect(emu.stats.calls[DELETE_IN_PROGRESS] ?? 0).toBe(row.delete === 'ok' ? 0 : 1);
  });

  it('the janitor sends, per state, only what these rows accept (lib/oms/kinds.ts handling)', () => {
    for (const row of ROWS) {
      const handling = handlingOf(row.kind, row.status);
      const expected = row.pause === 'ok' ? 'pause' : row.delete === 'ok' ? ['delete', 'finished'] : 'wait';
      expect([row.kind, row.state, handling]).toEqual([row.kind, row.state, Array.isArray(expected) ? expect.stringMatching(/^(delete|finished)$/) : expected]);
    }
  });

  it('covers every state of every kind the janitor knows', () => {
    for (const [kind, model] of Object.entries(KIND_MODELS)) {
      const rows = ROWS.filter((row) => row.kind === kind).map((row) => row.status);
      const known = Object.values(model.statuses).filter((raw) => !(model.deleting as readonly string[]).some((name) => model.statuses[name] === raw));
      expect([...rows].sort()).toEqual([...known].sort());
    }
  });
});

describe('the emulator: a task group being created', () => {
  it('stays creating by default; with createDelayMs it reads monitoring after that long, and only then stops', async () => {
    let clock = T0;
    const emu = await startEmulator({ tokens: [TOKEN], now: () => clock, createDelayMs: 1000, taskGroups: { [P]: [{ group_id: 'c1', status: 1, start_time: T0 - 1000 }] } });
    try {
      const show = async () => ((await (await fetch(`${emu.url}/v2/${P}/taskgroups/c1`, { headers: { 'X-Auth-Token': TOKEN } })).json()) as { status: number }).status;
      expect(await show()).toBe(1);
      expect(await answer(emu, `/v2/${P}/taskgroups/c1/stop`, 'PUT')).toBe('OMS.0066');
      clock += 1000;
      expect(await show()).toBe(2);
      expect(emu.taskGroups(P)[0]!.status).toBe(2);
      expect(await answer(emu, `/v2/${P}/taskgroups/c1/stop`, 'PUT')).toBe('ok');
      expect(await show()).toBe(7);
    } finally {
      await emu.close();
    }
    const forever = await startEmulator({ tokens: [TOKEN], now: () => clock, taskGroups: { [P]: [{ group_id: 'c1', status: 1, start_time: T0 - 1000 }] } });
    clock += 365 * 86_400_000;
    expect(forever.taskGroups(P)[0]!.status).toBe(1);
    await forever.close();
  });
});

describe('the emulator command line: drills an operator can run from the shell', () => {
  it('--fail-deletes answers every DELETE of those ids with 403, --offset-cap refuses deeper pages, --fault injects', async () => {
    const { startDemoEmulator, DEMO_PROJECTS: PROJECTS } = await import('../../emulator/index.js');
    const { parseEmulatorArgs } = await import('../../emulator/cli.js');
    const args = parseEmulatorArgs(['--port', '0', '--fail-deletes', '191297400000001,x-1', '--offset-cap', '20', '--fault', '503=1']);
    const emu = await startDemoEmulator(args, Date.now());
    try {
      const call = (path: string, method = 'GET') => fetch(`${emu.url}${path}`, { method, headers: { 'X-Auth-Token': 'demo-token' } });
      // --fault 503=1: every OMS request answers 503, as started (nothing set by the test).
      expect((await call(`/v2/${PROJECTS.beijing4}/tasks?limit=10&offset=0`)).status).toBe(503);
      emu.setFaults({});
      expect((await call(`/v2/${PROJECTS.beijing4}/tasks/191297400000001`, 'DELETE')).status).toBe(403);
      expect((await call(`/v2/${PROJECTS.shanghai1}/taskgroups/x-1`, 'DELETE')).status).toBe(403);
      expect((await call(`/v2/${PROJECTS.beijing4}/tasks/191297400000002`, 'DELETE')).status).toBe(400); // not there: OMS.1009
      expect((await call(`/v2/${PROJECTS.beijing4}/tasks?limit=10&offset=30`)).status).toBe(400);
    } finally {
      await emu.close();
    }
  });
});
