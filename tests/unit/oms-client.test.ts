import { describe, expect, it } from '@jest/globals';
import { tokenAuthenticator } from '../../lib/auth/types.js';
import { HttpError } from '../../lib/http/errors.js';
import type { Http, HttpRequest } from '../../lib/http/types.js';
import type { Kind } from '../../lib/oms/kinds.js';
import { OmsClient } from '../../lib/oms/client.js';
import { OmsResponseError } from '../../lib/oms/errors.js';
import { knownDistinct } from '../../lib/oms/listing.js';
import { select } from '../../lib/policy/select.js';
import { policy, rule } from './select-fixtures.js';

/**
 * A scripted OMS answering through the Http seam: hostile answers (lying counts, repeated pages, conflicting
 * duplicates) that the emulator deliberately never produces.
 */
function scriptedBy(answer: (request: HttpRequest) => { body?: string; error?: HttpError }, parallelPages = 1) {
  const requests: HttpRequest[] = [];
  let inFlight = 0;
  const stats = { maxInFlight: 0 };
  const http: Http = {
    async request(request) {
      requests.push(request);
      stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
      // Later offsets answer sooner, so that pages arrive out of order when read in parallel.
      await new Promise((r) => setTimeout(r, Math.max(0, 20 - offsetOf(request) / 50)));
      inFlight -= 1;
      const a = answer(request);
      if (a.error) throw a.error;
      // As the real client does: `parse` runs on the body (its throw is what a retry would see) and gives `value`.
      const body = a.body ?? '';
      return request.parse ? { status: 200, headers: new Headers(), body: '', value: request.parse(body) } : { status: 200, headers: new Headers(), body };
    },
  };
  const client = new OmsClient({ http, auth: tokenAuthenticator('t') });
  const oms = {
    list: (kind: Kind, p: typeof project) => client.list(kind, p, { parallelPages }),
    show: client.show.bind(client),
    delete: client.delete.bind(client),
    pause: client.pause.bind(client),
  };
  return { oms, requests, stats };
}

const project = { endpoint: 'https://oms.example', projectId: 'p1' };
const taskText = (id: number | string, extra = '') => `{"id": ${id}, "name": "t-${id}", "status": 4, "start_time": 1000${extra}}`;
const page = (tasks: string[], count?: number) => `{"tasks": [${tasks.join(',')}]${count === undefined ? '' : `, "count": ${count}`}}`;
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => taskText(from + i));
const offsetOf = (r: HttpRequest) => Number(r.searchParams?.offset ?? 0);

describe.each([1, 4])('OmsClient.listTasks against hostile answers, %i page(s) at a time', (parallel) => {
  const scripted = (answer: Parameters<typeof scriptedBy>[0]) => scriptedBy(answer, parallel);
  it('a task listed twice with different contents gets an unknown status, so nothing selects it', async () => {
    const first = `{"id": 5, "name": "keep-me", "group_type": "SYNC_TASK", "status": 4, "start_time": 1000}`;
    const second = `{"id": 5, "status": 4, "start_time": 1000}`;
    const { oms } = scripted((r) => ({ body: offsetOf(r) === 0 ? page([first, ...range(100, 99)], 200) : page([second, ...range(300, 10)], 200) }));
    const listing = await oms.list('task', project);
    const five = listing.tasks.filter((t) => t.id === '5');
    expect(five).toHaveLength(1);
    expect(five[0]).toMatchObject({ status: null, name: 'keep-me', groupType: 'SYNC_TASK' });
  });

  it('a listing is frozen and known to hold each id once; select checks any other list itself', async () => {
    const { oms } = scripted((r) => ({ body: offsetOf(r) === 0 ? page(range(1, 100), 110) : page([...range(50, 5), ...range(101, 10)], 110) }));
    const listing = await oms.list('task', project);
    expect(listing.tasks).toHaveLength(110);
    expect(Object.isFrozen(listing.tasks)).toBe(true);
    expect(() => (listing.tasks as unknown[]).push(listing.tasks[0])).toThrow(TypeError);
    expect(knownDistinct(listing.tasks)).toBe(true);
    // A copy with a repeated task is not trusted: the repeat is selected and counted once.
    const copy = [...listing.tasks, listing.tasks[0]!];
    expect(knownDistinct(copy)).toBe(false);
    const everything = policy({ rules: [rule({ statuses: ['failed'], olderThanDays: 0 })] });
    const result = select(copy, everything, 10_000_000);
    expect({ listed: result.listed, selected: result.selected.length }).toEqual({ listed: 110, selected: 110 });
  });

  it('a count that falls between pages (tasks deleted meanwhile) makes the listing truncated, with the reason', async () => {
    // Page 1 counted 300; by page 2 ten tasks were deleted, so the tasks after them moved up past page 1 unseen.
    const { oms } = scripted((r) => ({ body: page(range(offsetOf(r) + (offsetOf(r) === 0 ? 0 : 10), Math.max(0, Math.min(100, 290 - offsetOf(r)))), offsetOf(r) === 0 ? 300 : 290) }));
    const listing = await oms.list('task', project);
    expect(listing.truncated).toBe(true);
    expect(listing.truncation).toMatch(/the count fell from 300 to 290 while paging/);
  });

  it('a count that grows while pages come back out of order is no drop: counts are compared in arrival order', async () => {
    // Later offsets answer sooner here, so in offset order the growing count would seem to fall.
    let answered = 0;
    const { oms } = scripted((r) => ({ body: page(range(offsetOf(r), Math.max(0, Math.min(100, 400 - offsetOf(r)))), 400 + answered++) }));
    const listing = await oms.list('task', project);
    expect(listing.tasks).toHaveLength(400);
    expect(listing.truncation ?? '').not.toMatch(/count fell/);
  });

  it('a count that grows between pages does not: tasks created meanwhile only push others to later pages', async () => {
    const { oms } = scripted((r) => ({ body: page(range(offsetOf(r), Math.max(0, Math.min(100, 250 - offsetOf(r)))), offsetOf(r) === 0 ? 240 : 250) }));
    const listing = await oms.list('task', project);
    expect(listing).toMatchObject({ truncated: false });
    expect(listing.tasks).toHaveLength(250);
  });

  it('an identical repeat is simply de-duplicated', async () => {
    const { oms } = scripted((r) => ({ body: offsetOf(r) === 0 ? page(range(1, 100), 150) : page(range(51, 50), 150) }));
    const listing = await oms.list('task', project);
    expect(listing.tasks).toHaveLength(100);
    expect(listing.tasks.every((t) => t.status === 4)).toBe(true);
    // 150 counted, 100 distinct seen: said, not hidden
    expect(listing.truncated).toBe(true);
  });

  it('a count that lies low does not end the listing while pages are full', async () => {
    const { oms } = scripted((r) => ({ body: page(range(offsetOf(r), Math.max(0, Math.min(100, 250 - offsetOf(r)))), 100) }));
    const listing = await oms.list('task', project);
    expect(listing.tasks).toHaveLength(250);
    expect(listing.truncated).toBe(false);
  });

  it('a count that lies high marks the listing truncated', async () => {
    const { oms } = scripted((r) => ({ body: page(offsetOf(r) === 0 ? range(0, 30) : [], 1000) }));
    const listing = await oms.list('task', project);
    expect(listing.tasks).toHaveLength(30);
    expect(listing.truncated).toBe(true);
    expect(listing.truncation).toMatch(/counted 1000/);
  });

  it('a server that caps limit quietly is paged by what it returned', async () => {
    const { oms, requests } = scripted((r) => ({ body: page(range(offsetOf(r), Math.max(0, Math.min(50, 120 - offsetOf(r)))), 120) }));
    const listing = await oms.list('task', project);
    expect(listing.tasks).toHaveLength(120);
    expect(requests.map(offsetOf)).toEqual([0, 50, 100]);
    expect(listing.truncated).toBe(false);
  });

  it('a server repeating the same full page forever is stopped and reported', async () => {
    const { oms, requests } = scripted(() => ({ body: page(range(0, 100)) }));
    const listing = await oms.list('task', project);
    expect(requests).toHaveLength(2);
    expect(listing).toMatchObject({ truncated: true });
    expect(listing.tasks).toHaveLength(100);
  });

  it('a refused offset gives the partial view; a refused first page is an error', async () => {
    const refuse = new HttpError({ status: 400, errorCode: 'OMS.0064', method: 'GET', path: '/x', attempts: 1 });
    const partial = scripted((r) => (offsetOf(r) >= 100 ? { error: refuse } : { body: page(range(0, 100), 500) }));
    expect(await partial.oms.list('task', project)).toMatchObject({ truncated: true, tasks: expect.any(Array) });
    const none = scripted(() => ({ error: refuse }));
    await expect(none.oms.list('task', project)).rejects.toBe(refuse);
  });

  it.each([
    ['an HTML page', '<html>502</html>'],
    ['an object without tasks', '{"count": 3}'],
    ['tasks that is not an array', '{"tasks": {"id": 1}}'],
    ['a truncated body', '{"tasks": [{"id": 1'],
  ])('%s is an OmsResponseError, never an empty listing', async (_what, body) => {
    const { oms } = scripted(() => ({ body }));
    await expect(oms.list('task', project)).rejects.toBeInstanceOf(OmsResponseError);
  });
});

describe('OmsClient.listTasks in parallel', () => {
  it('reads the pages after the first up to parallelPages at a time and gives the same listing as page by page', async () => {
    const answer = (r: HttpRequest) => ({ body: page(range(offsetOf(r), Math.max(0, Math.min(100, 1050 - offsetOf(r)))), 1050) });
    const one = scriptedBy(answer, 1);
    const four = scriptedBy(answer, 4);
    const [a, b] = await Promise.all([one.oms.list('task', project), four.oms.list('task', project)]);
    expect(b).toEqual(a);
    expect(b).toMatchObject({ truncated: false, pages: 11 });
    expect(b.tasks.map((t) => t.id)).toEqual(a.tasks.map((t) => t.id)); // listing order, not arrival order
    expect(one.stats.maxInFlight).toBe(1);
    expect(four.stats.maxInFlight).toBe(4);
    expect(four.requests.map(offsetOf).sort((x, y) => x - y)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  });

  it('a count that lies high costs at most parallelPages wasted requests', async () => {
    const { oms, requests } = scriptedBy((r) => ({ body: page(offsetOf(r) === 0 ? range(0, 30) : [], 1_000_000) }), 4);
    const listing = await oms.list('task', project);
    expect(listing).toMatchObject({ truncated: true });
    expect(requests.length).toBeLessThanOrEqual(1 + 4);
  });

  it('a page that fails after retries fails the listing, even when later pages were fine', async () => {
    const boom = new HttpError({ status: 503, method: 'GET', path: '/x', attempts: 6 });
    const { oms } = scriptedBy((r) => (offsetOf(r) === 300 ? { error: boom } : { body: page(range(offsetOf(r), 100), 800) }), 4);
    await expect(oms.list('task', project)).rejects.toBe(boom);
  });

  it('when the count grows while paging, full pages beyond it are still read, page by page', async () => {
    const { oms } = scriptedBy((r) => ({ body: page(range(offsetOf(r), Math.max(0, Math.min(100, 520 - offsetOf(r)))), offsetOf(r) === 0 ? 300 : 520) }), 4);
    const listing = await oms.list('task', project);
    expect(listing.tasks).toHaveLength(520);
    expect(listing.truncated).toBe(false);
  });
});

describe('OmsClient show, stop, delete', () => {
  const scripted = (answer: Parameters<typeof scriptedBy>[0]) => scriptedBy(answer);
  it.each([
    ['another id', '{"id": 191297407830873, "status": 3}'],
    ['no id', '{"name": "other", "status": 3}'],
    ['a rounded float id', '{"id": 1.91297407830872e14, "status": 3}'],
  ])('a show answering with %s is refused', async (_what, body) => {
    const { oms } = scripted(() => ({ body }));
    await expect(oms.show('task', project, '191297407830872')).rejects.toBeInstanceOf(OmsResponseError);
  });

  it('a show naming the task is read losslessly', async () => {
    const { oms } = scripted(() => ({ body: '{"id": 9007199254740993, "status": 3, "start_time": 5}' }));
    expect(await oms.show('task', project, '9007199254740993')).toMatchObject({ id: '9007199254740993', status: 3 });
  });

  it('delete: 400 OMS.1009 and a plain 404 are already gone; 404 APIGW.0101 (no such API) is a failure', async () => {
    const answer = (status: number, errorCode?: string) =>
      scripted(() => ({ error: new HttpError({ status, ...(errorCode ? { errorCode } : {}), method: 'DELETE', path: '/x', attempts: 1 }) })).oms;
    expect(await answer(400, 'OMS.1009').delete('task', project, '1')).toBe('already-gone');
    expect(await answer(404).delete('task', project, '1')).toBe('already-gone');
    await expect(answer(404, 'APIGW.0101').delete('task', project, '1')).rejects.toBeInstanceOf(HttpError);
    await expect(answer(400, 'OMS.0054').delete('task', project, '1')).rejects.toBeInstanceOf(HttpError);
  });

  it.each(['12/../1', '-1', '1.5e3', '0042', '12345678901234567890', ''])('never puts the malformed id %j in a URL', async (id) => {
    const { oms, requests } = scripted(() => ({ body: '' }));
    await expect(oms.delete('task', project, id)).rejects.toThrow(RangeError);
    await expect(oms.pause('task', project, id)).rejects.toThrow(RangeError);
    expect(requests).toHaveLength(0);
  });
});

describe('OmsClient: task groups and sync tasks, with the trust rules of tasks', () => {
  const groupText = (id: string, extra = '') => `{"group_id": "${id}", "status": 6, "start_time": 1000${extra}}`;
  const groupPage = (items: string[], count?: number) => `{"taskgroups": [${items.join(',')}]${count === undefined ? '' : `, "count": ${count}`}}`;
  const syncPage = (items: string[], count?: number) => `{"tasks": [${items.join(',')}]${count === undefined ? '' : `, "count": ${count}`}}`;
  const syncText = (id: string) => `{"sync_task_id": "${id}", "status": "STOPPED", "create_time": 1000}`;
  const groups = (from: number, n: number) => Array.from({ length: n }, (_, i) => groupText(`g-${from + i}`));

  it('lists groups from `taskgroups` at /taskgroups, pages by count, de-duplicates, and marks a changed duplicate unknown', async () => {
    const { oms, requests } = scriptedBy((r) => {
      const offset = offsetOf(r);
      if (offset === 0) return { body: groupPage([groupText('g-dup'), ...groups(1, 99)], 150) };
      return { body: groupPage([groupText('g-dup', ', "description": "changed"'), ...groups(100, 50)], 150) };
    });
    const listing = await oms.list('taskGroup', project);
    expect(requests.map((r) => r.url)).toEqual(['https://oms.example/v2/p1/taskgroups', 'https://oms.example/v2/p1/taskgroups']);
    expect(listing.tasks).toHaveLength(150);
    expect(listing.tasks.every((t) => t.kind === 'taskGroup')).toBe(true);
    expect(listing.tasks.find((t) => t.id === 'g-dup')).toMatchObject({ status: null });
    expect(listing.truncated).toBe(false);
  });

  it('an answer without the kind\'s array (a tasks page for a groups listing) is a bad answer, retried like a 502', async () => {
    const { oms } = scriptedBy(() => ({ body: '{"tasks": [], "count": 0}' }));
    await expect(oms.list('taskGroup', project)).rejects.toThrow(/no "taskgroups" array/);
  });

  it('sync tasks: a refused offset (the API stops at 10000) gives the partial view, marked truncated', async () => {
    const { oms } = scriptedBy((r) =>
      offsetOf(r) === 0
        ? { body: syncPage(Array.from({ length: 100 }, (_, i) => syncText(`s-${i}`)), 20_000) }
        : { error: new HttpError({ status: 400, errorCode: 'OMS.0064', method: 'GET', path: '/x', attempts: 1 }) },
    );
    const listing = await oms.list('syncTask', project);
    expect(listing.tasks).toHaveLength(100);
    expect(listing.truncated).toBe(true);
    expect(listing.truncation).toMatch(/refused offset 100/);
  });

  it('show: a group must name itself; a sync task is asked with query_time', async () => {
    const { oms, requests } = scriptedBy((r) => ({ body: r.url.includes('sync-tasks') ? syncText('s-1') : groupText('g-2') }));
    await expect(oms.show('taskGroup', project, 'g-1')).rejects.toBeInstanceOf(OmsResponseError);
    expect(await oms.show('syncTask', project, 's-1')).toMatchObject({ kind: 'syncTask', id: 's-1', status: 'STOPPED' });
    const syncShow = requests.find((r) => r.url.includes('sync-tasks'))!;
    expect(String(syncShow.searchParams?.query_time)).toMatch(/^[0-9]{13}$/);
  });

  it('pause: PUT …/taskgroups/{id}/stop and POST …/sync-tasks/{id}/stop; delete: DELETE on the item; 404 is already gone', async () => {
    const { oms, requests } = scriptedBy(() => ({ body: '' }));
    await oms.pause('taskGroup', project, 'g-1');
    await oms.pause('syncTask', project, 's-1');
    await oms.pause('task', project, '7');
    await oms.delete('taskGroup', project, 'g-1');
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'PUT https://oms.example/v2/p1/taskgroups/g-1/stop',
      'POST https://oms.example/v2/p1/sync-tasks/s-1/stop',
      'POST https://oms.example/v2/p1/tasks/7/stop',
      'DELETE https://oms.example/v2/p1/taskgroups/g-1',
    ]);
    const gone = scriptedBy(() => ({ error: new HttpError({ status: 404, errorCode: 'OMS.1009', method: 'DELETE', path: '/x', attempts: 1 }) })).oms;
    expect(await gone.delete('syncTask', project, 's-1')).toBe('already-gone');
  });

  it.each(['a/b', '../x', 'a?b', 'a%2F', '.hidden', '', 'x'.repeat(1025), 'é'])('never puts the malformed group or sync id %j in a URL', async (id) => {
    const { oms, requests } = scriptedBy(() => ({ body: '' }));
    for (const kind of ['taskGroup', 'syncTask'] as const) {
      await expect(oms.delete(kind, project, id)).rejects.toThrow(RangeError);
      await expect(oms.pause(kind, project, id)).rejects.toThrow(RangeError);
      await expect(oms.show(kind, project, id)).rejects.toThrow(RangeError);
    }
    expect(requests).toHaveLength(0);
  });
});
