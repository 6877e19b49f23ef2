import { afterEach, describe, expect, it } from '@jest/globals';
import type { Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, deletedIds, emulator, policy, runEngine, task } from '../helpers/harness.js';

const STUCK = `rules:\n  - { name: stuck, statuses: [migrating, retrying, pausing, paused], olderThan: 2d, stopFirst: true }\n`;

describe('engine: stopFirst pauses, waits and deletes', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('pauses only the migrating task, waits for paused (riding out OMS.0063 right after the pause), then deletes; retrying, pausing and paused ones are never paused', async () => {
    emu = await emulator({
      projects: { [PROJECT]: [task('21', 2, 3 * DAY), task('22', 6, 3 * DAY), task('23', 7, 3 * DAY), task('24', 3, 3 * DAY)] },
      // 23 is listed pausing only if the listing comes within stopDelayMs of the emulator's start (it then turns
      // paused): 600 ms keeps that true on a loaded machine.
      stopDelayMs: 600,
      pauseSettleMs: 300,
    });
    const { summary, logs } = await runEngine(policy(emu, STUCK));
    expect(deletedIds(emu)).toEqual(['21', '22', '23', '24']);
    // migrating is paused; retrying is deleted as it is; pausing is only waited for; paused is deleted at once
    expect(emu.stats.stopped[PROJECT]).toEqual(['21']);
    expect(emu.stats.calls['pause-not-pausable'] ?? 0).toBe(0);
    expect(emu.stats.calls['delete-in-progress'] ?? 0).toBe(0);
    expect(summary.targets[0]).toMatchObject({ deleted: 4, failed: 0 });
    // the deletes refused as "in progress" during the settle window were retried, not counted as failures
    expect(emu.stats.byStatus['400'] ?? 0).toBeGreaterThan(0);
    expect(logs.lines.filter((l) => l.outcome === 'deleted' && l.paused === true).map((l) => l.taskId)).toEqual(['21']);
  });

  it('a task listed paused whose delete OMS still refuses (OMS.0063) is waited out; one resumed meanwhile is judged again: left alone unless its rule covers it running', async () => {
    const [paused61, paused62] = [task('61', 3, 3 * DAY), task('62', 3, 3 * DAY)];
    const run = async (rules: string) => {
      emu = await emulator({ projects: { [PROJECT]: [paused61!, paused62!] } });
      for (const id of ['61', '62']) emu.setTaskFault(PROJECT, id, { method: 'DELETE', status: 400, errorCode: 'OMS.0063', errorMsg: 'The task is in progress.', times: 1 });
      let resumed = false;
      // Before the first look, someone resumes 61 (it migrates again); 62 stays paused.
      const sleep = async () => {
        if (resumed) return;
        resumed = true;
        emu!.setTasks(PROJECT, [{ ...paused61!, status: 2 }, paused62!]);
      };
      return runEngine(policy(emu, rules), {}, { sleep });
    };
    // A rule about paused tasks only: the running task is no longer what it selected. Nothing more is sent to it.
    const { summary, logs } = await run('rules:\n  - { name: stale-paused, statuses: [paused], olderThan: 2d }\n');
    expect(deletedIds(emu!)).toEqual(['62']);
    expect(emu!.stats.stopped[PROJECT] ?? []).toEqual([]);
    expect(summary.targets[0]).toMatchObject({ selected: 2, deleted: 1, failed: 0, deferred: 1 });
    expect(logs.lines.find((l) => l.taskId === '61')).toMatchObject({ outcome: 'deferred', reason: 'changed-since-listing' });
    expect(logs.lines.find((l) => l.taskId === '62')).toMatchObject({ outcome: 'deleted' });
    expect(logs.lines.find((l) => l.taskId === '62')!.paused).toBeUndefined();
    await emu!.close();
    // A stopFirst rule that covers migrating tasks of that age selects it as it is now: paused, then deleted.
    const again = await run(STUCK);
    expect(deletedIds(emu!)).toEqual(['61', '62']);
    expect(emu!.stats.stopped[PROJECT]).toEqual(['61']);
    expect(again.summary.targets[0]).toMatchObject({ selected: 2, deleted: 2, failed: 0 });
  });

  it('a task not paused within stopTimeout fails with reason stop-timeout and is not deleted', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('31', 2, 3 * DAY)] }, stopDelayMs: 60_000 });
    const p = policy(emu, STUCK);
    const { summary } = await runEngine({ ...p, limits: { ...p.limits, stopTimeoutMs: 400 } });
    expect(deletedIds(emu)).toEqual([]);
    expect(emu.stats.stopped[PROJECT]).toEqual(['31']);
    expect(summary.targets[0]!.failures[0]).toMatchObject({ taskId: '31', reason: 'stop-timeout', httpStatus: 0 });
  });

  it('a pause refused with OMS.0066 while the task still reads migrating is never a failure: tried again, then deferred (pause-refused) at stopTimeout', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('51', 2, 3 * DAY)] } });
    emu.setTaskFault(PROJECT, '51', { method: 'POST', status: 400, errorCode: 'OMS.0066', errorMsg: 'Pause failed.' });
    const p = policy(emu, STUCK);
    const { summary, logs } = await runEngine({ ...p, limits: { ...p.limits, stopTimeoutMs: 500 } });
    expect(summary.targets[0]).toMatchObject({ selected: 1, deleted: 0, failed: 0, deferred: 1, failures: [] });
    expect(logs.lines.find((l) => l.taskId === '51' && l.outcome)).toMatchObject({ outcome: 'deferred', reason: 'pause-refused' });
    // Looked at between pauses, never deleted while it reads migrating.
    expect(emu.stats.calls.stop).toBeGreaterThan(1);
    expect(emu.stats.calls.show).toBeGreaterThanOrEqual(emu.stats.calls.stop! - 1);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
  });

  it('inside Lambda, the time budget also ends the wait for a pause: the task is deferred, left paused', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('61', 2, 3 * DAY)] }, stopDelayMs: 60_000 });
    let calls = 0;
    const remainingTimeMs = () => (++calls <= 1 ? 120_000 : 20_000);
    const { summary, logs } = await runEngine(policy(emu, STUCK), {}, { remainingTimeMs });
    expect(emu.stats.stopped[PROJECT]).toEqual(['61']);
    expect(summary.targets[0]).toMatchObject({ deleted: 0, failed: 0, deferred: 1, truncated: true });
    expect(logs.lines.find((l) => l.taskId === '61' && l.outcome === 'deferred')).toMatchObject({ reason: 'time-budget', detail: 'paused-not-deleted' });
  });

  it('a dry run of a stopFirst rule sends no stop', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('41', 2, 3 * DAY)] } });
    const { summary } = await runEngine(policy(emu, STUCK), { dryRun: true });
    expect(emu.stats.calls.stop ?? 0).toBe(0);
    expect(summary.targets[0]).toMatchObject({ selected: 1, deleted: 0 });
  });
});

describe('engine: a pausing task is not starved by the queue of plain deletes', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('its looks and its delete come soon after the pause, not after every other deletion', async () => {
    const plain = Array.from({ length: 150 }, (_, i) => task(String(1000 + i), 3, 3 * DAY - i * 1000));
    emu = await emulator({ projects: { [PROJECT]: [task('1', 2, 4 * DAY), ...plain] }, stopDelayMs: 50, faults: { latencyMs: 5 } });
    const p = { ...policy(emu, STUCK), concurrency: 2 };
    const { summary } = await runEngine(p);
    expect(summary.targets[0]).toMatchObject({ deleted: 151, failed: 0 });
    const order = emu.stats.deleted[PROJECT] ?? [];
    // oldest first, so task 1 is stopped first; it is paused after 50 ms and looked at after 250 ms: with 2 slots
    // and 5 ms per request, about 100 plain deletes fit in that time, far from all 150.
    expect(order.indexOf('1')).toBeLessThan(120);
    expect(emu.stats.maxInFlight).toBeLessThanOrEqual(2);
  });
});
