import { startEmulator } from '../../emulator/index.js';
import type { Emulator, EmuTask } from '../../emulator/index.js';

const P = 'proj1';
const TOKEN = 'tok';
const HOUR = 3_600_000;
const T0 = 1_800_000_000_000;

function task(i: number, status = 5): EmuTask {
  return { id: String(191297407830000 + i), name: `t${i}`, status, start_time: T0 - i * HOUR, total_time: 1000 };
}

async function call(emu: Emulator, path: string, method = 'GET'): Promise<{ status: number; text: string; json: any; headers: Headers }> {
  const res = await fetch(`${emu.url}${path}`, { method, headers: { 'X-Auth-Token': TOKEN } });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

describe('OMS task routes', () => {
  let emu: Emulator;
  let clock = T0;

  beforeEach(async () => {
    clock = T0;
    emu = await startEmulator({
      tokens: [TOKEN],
      projects: { [P]: Array.from({ length: 25 }, (_, i) => task(i)) },
      offsetCap: 20,
      stopDelayMs: 100,
      pauseSettleMs: 50,
      now: () => clock,
    });
  });
  afterEach(() => emu.close());

  it('pages newest first with count = total matching, default limit 10', async () => {
    const first = await call(emu, `/v2/${P}/tasks`);
    expect(first.status).toBe(200);
    expect(first.json.count).toBe(25);
    expect(first.json.tasks.map((t: EmuTask) => t.name)).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`));
    const last = await call(emu, `/v2/${P}/tasks?limit=10&offset=20`);
    expect(last.json.tasks.map((t: EmuTask) => t.name)).toEqual(['t20', 't21', 't22', 't23', 't24']);
    expect(last.json.count).toBe(25);
    const beyond = await call(emu, `/v2/${P}/tasks?limit=100&offset=0&status=4`);
    expect(beyond.json).toEqual({ tasks: [], count: 0 });
    expect(emu.stats.calls.list).toBe(3);
  });

  it('breaks start_time ties by id, descending, numerically', async () => {
    emu.setTasks(P, [
      { id: '99', start_time: 5 },
      { id: '100', start_time: 5 },
      { id: '7', start_time: 6 },
    ]);
    const page = await call(emu, `/v2/${P}/tasks`);
    expect(page.text).toContain('"tasks":[{"id":7,');
    expect(page.json.tasks.map((t: EmuTask) => t.id)).toEqual([7, 100, 99]);
  });

  it('filters by status and group_id, counting only the matches', async () => {
    emu.setTasks(P, [task(1, 4), task(2, 5), { ...task(3, 4), group_id: 'g1', group_type: 'GROUP_TASK' }]);
    expect((await call(emu, `/v2/${P}/tasks?status=4`)).json.count).toBe(2);
    const grouped = await call(emu, `/v2/${P}/tasks?group_id=g1`);
    expect(grouped.json.count).toBe(1);
    expect(grouped.json.tasks[0].name).toBe('t3');
  });

  it('validates limit and offset, and refuses offsets above the cap', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'offset=1.5', 'offset=21', 'status=x']) {
      const res = await call(emu, `/v2/${P}/tasks?${query}`);
      expect([query, res.status, res.json.error_code]).toEqual([query, 400, 'OMS.0064']);
    }
    expect((await call(emu, `/v2/${P}/tasks?limit=100&offset=20`)).status).toBe(200);
  });

  it('lists an unknown project as empty', async () => {
    expect((await call(emu, '/v2/nope/tasks')).json).toEqual({ tasks: [], count: 0 });
  });

  it('emits ids above 2^53 verbatim as bare numbers, and other ids as strings', async () => {
    emu.setTasks(P, [
      { id: '9007199254740993', start_time: 3 },
      { id: '9223372036854775807', start_time: 2 },
      { id: 'abc', start_time: 1 },
    ]);
    const page = await call(emu, `/v2/${P}/tasks`);
    expect(page.text).toContain('"id":9007199254740993,');
    expect(page.text).toContain('"id":9223372036854775807,');
    expect(page.text).toContain('"id":"abc",');
    const one = await call(emu, `/v2/${P}/tasks/9007199254740993`);
    expect(one.text.startsWith('{"id":9007199254740993,')).toBe(true);
    // The neighbour that JSON.parse would round it to does not exist.
    expect((await call(emu, `/v2/${P}/tasks/9007199254740992`)).json.error_code).toBe('OMS.1009');
  });

  it('splices raw hostile entries verbatim and still counts them', async () => {
    emu.setTasks(P, [
      { rawJson: '{"id":1.5e3,"name":"float","start_time":9}' },
      { rawJson: '{"id":-1,"start_time":8}' },
      { rawJson: '{"id":{"x":1},"start_time":7}' },
      { rawJson: '{"name":"no-id","start_time":6,"status":4}' },
      { rawJson: '{"id":123,"status":5,"start_time":5}' },
    ]);
    const page = await call(emu, `/v2/${P}/tasks`);
    expect(page.text).toBe(
      '{"tasks":[{"id":1.5e3,"name":"float","start_time":9},{"id":-1,"start_time":8},{"id":{"x":1},"start_time":7},' +
        '{"name":"no-id","start_time":6,"status":4},{"id":123,"status":5,"start_time":5}],"count":5}',
    );
    expect((await call(emu, `/v2/${P}/tasks/123`, 'DELETE')).status).toBe(200);
    expect(emu.tasks(P)).toHaveLength(4);
  });

  it('shows a task, 400 OMS.1009 for a missing one and 400 OMS.0054 for a non-digit id', async () => {
    const one = await call(emu, `/v2/${P}/tasks/191297407830003`);
    expect(one.json).toMatchObject({ id: 191297407830003, name: 't3' });
    expect((await call(emu, `/v2/${P}/tasks/1`)).json.error_code).toBe('OMS.1009');
    const bad = await call(emu, `/v2/${P}/tasks/1e3`, 'DELETE');
    expect([bad.status, bad.json.error_code]).toEqual([400, 'OMS.0054']);
  });

  it('stops a migrating task: pausing (7), then paused (3) after stopDelayMs, then deletable after the settle time', async () => {
    const id = '191297407830001';
    emu.setTasks(P, [{ ...task(1, 2), id }, task(2, 5), task(3, 3)]);
    const stop = await call(emu, `/v2/${P}/tasks/${id}/stop`, 'POST');
    expect([stop.status, stop.text]).toEqual([200, '']);
    expect((await call(emu, `/v2/${P}/tasks/${id}`)).json.status).toBe(7);
    expect((await call(emu, `/v2/${P}/tasks/${id}`, 'DELETE')).json.error_code).toBe('OMS.0063');
    expect((await call(emu, `/v2/${P}/tasks/${id}/stop`, 'POST')).json.error_code).toBe('OMS.0066');
    clock += 100;
    expect((await call(emu, `/v2/${P}/tasks/${id}`)).json.status).toBe(3);
    expect((await call(emu, `/v2/${P}/tasks?status=3`)).json.count).toBe(2);
    expect((await call(emu, `/v2/${P}/tasks/${id}`, 'DELETE')).json.error_code).toBe('OMS.0063');
    clock += 50;
    const del = await call(emu, `/v2/${P}/tasks/${id}`, 'DELETE');
    expect([del.status, del.text]).toEqual([200, '']);
    expect(emu.stats.stopped[P]).toEqual([id]);
    expect(emu.stats.deleted[P]).toEqual([id]);
    expect(emu.tasks(P).map((t) => t.id)).not.toContain(id);
  });

  it('refuses to stop finished tasks (OMS.0066) and unknown ones (OMS.1009)', async () => {
    emu.setTasks(P, [task(1, 5), task(2, 4), task(3, 3)]);
    for (const i of [1, 2, 3]) {
      expect((await call(emu, `/v2/${P}/tasks/${191297407830000 + i}/stop`, 'POST')).json.error_code).toBe('OMS.0066');
    }
    expect((await call(emu, `/v2/${P}/tasks/5/stop`, 'POST')).json.error_code).toBe('OMS.1009');
  });

  it('refuses to delete migrating (2) and pausing (7) tasks and missing ones; waiting, retrying and finished ones go, in order', async () => {
    emu.setTasks(P, [2, 7, 1, 6, 3, 4, 5].map((status, i) => task(i, status)));
    for (const i of [0, 1]) {
      const res = await call(emu, `/v2/${P}/tasks/${191297407830000 + i}`, 'DELETE');
      expect([res.status, res.json.error_code]).toEqual([400, 'OMS.0063']);
    }
    for (const i of [6, 2, 3, 4, 5]) expect((await call(emu, `/v2/${P}/tasks/${191297407830000 + i}`, 'DELETE')).status).toBe(200);
    const again = await call(emu, `/v2/${P}/tasks/191297407830006`, 'DELETE');
    expect([again.status, again.json.error_code]).toEqual([400, 'OMS.1009']);
    expect(emu.stats.deleted[P]).toEqual(['191297407830006', '191297407830002', '191297407830003', '191297407830004', '191297407830005']);
  });

  it('answers 404 APIGW.0101 with a request_id for unknown routes, and a unique X-Request-Id everywhere', async () => {
    const a = await call(emu, `/v2/${P}/tasks`, 'PUT');
    const b = await call(emu, '/v1/whatever');
    expect([a.status, a.json.error_code, b.status]).toEqual([404, 'APIGW.0101', 404]);
    expect(a.json.request_id).toBe(a.headers.get('x-request-id'));
    const ok = await call(emu, `/v2/${P}/tasks`);
    const ids = new Set([a, b, ok].map((r) => r.headers.get('x-request-id')));
    expect(ids.size).toBe(3);
    expect(emu.stats.calls['unknown-route']).toBe(2);
    expect(emu.stats.byStatus).toMatchObject({ '404': 2, '200': 1 });
    expect(emu.stats.total).toBe(3);
  });

  it('resetStats clears counters in place', async () => {
    const stats = emu.stats;
    await call(emu, `/v2/${P}/tasks`);
    emu.resetStats();
    expect(stats).toBe(emu.stats);
    expect([stats.total, stats.calls.list, stats.maxInFlight]).toEqual([0, undefined, 0]);
  });
});
