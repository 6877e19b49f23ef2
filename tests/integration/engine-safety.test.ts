import { afterEach, describe, expect, it } from '@jest/globals';
import type { Emulator } from '../../emulator/index.js';
import { exitCodeOf } from '../../lib/purge/summary.js';
import { DAY, FAST_RETRY, PROJECT, deletedIds, emulator, policy, runEngine, task } from '../helpers/harness.js';

const STUCK = `rules:\n  - { name: stuck, statuses: [migrating], olderThan: 2d, stopFirst: true }\n  - { name: done, statuses: [succeeded], olderThan: 30d, keepLatest: 1 }\n`;
const FAILED_RULE = `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n`;

describe('engine safety (issue 7)', () => {
  let emu: Emulator | undefined;
  afterEach(async () => emu?.close());

  it('7.2: a stuck migration that finished before its pause is not deleted: deferred for the next run to judge', async () => {
    // Listed migrating; by the time the janitor pauses it, it has succeeded (OMS answers the pause OMS.0066).
    emu = await emulator({ projects: { [PROJECT]: [task('71', 2, 3 * DAY), task('72', 2, 3 * DAY)] } });
    const finished = [task('71', 5, 3 * DAY), task('72', 4, 3 * DAY)];
    const { summary, logs } = await runEngine(policy(emu, STUCK), {}, {
      onProgress: (p) => {
        if (p.phase === 'list') emu!.setTasks(PROJECT, finished);
      },
    });
    expect(deletedIds(emu)).toEqual([]);
    expect(summary.targets[0]).toMatchObject({ selected: 2, deleted: 0, failed: 0, deferred: 2, truncated: true });
    const lines = logs.lines.filter((l) => l.outcome === 'deferred');
    expect(lines.map((l) => [l.taskId, l.reason]).sort()).toEqual([
      ['71', 'finished-during-pause'],
      ['72', 'finished-during-pause'],
    ]);
    // The next run judges them as the finished tasks they are: 71 (succeeded, 3 days) is young for the 30d rule.
    const next = await runEngine(policy(emu, STUCK));
    expect(next.summary.targets[0]).toMatchObject({ selected: 0, deleted: 0 });
  });

  it('7.4: five requests in a row that stay throttled stop the target; the rest is deferred for the next run', async () => {
    const tasks = Array.from({ length: 600 }, (_, i) => task(String(9000 + i), 4, 40 * DAY + i * 60_000));
    emu = await emulator({
      projects: { [PROJECT]: tasks },
      faults: { rate429: 1, routes: ['delete'], retryAfter: 'seconds', retryAfterSeconds: 0 },
    });
    const p = { ...policy(emu, FAILED_RULE), concurrency: 8 };
    const retry = { ...FAST_RETRY, attempts: 4 };
    const { summary, logs } = await runEngine(p, {}, {}, undefined, retry);
    const deletes = emu.stats.calls.delete ?? 0;
    // Before the fix: 600 tasks × every attempt. Now at most the tasks in flight when the fifth one ended, each
    // with its attempts.
    expect(deletes).toBeLessThanOrEqual((8 + 5) * retry.attempts);
    const t = summary.targets[0]!;
    expect(t.error).toMatch(/5 requests in a row stayed throttled \(HTTP 429\)/);
    expect(t.failed).toBeGreaterThanOrEqual(5);
    expect(t.failed).toBeLessThanOrEqual(8 + 4);
    expect(t.failed + t.deferred).toBe(600);
    expect(t.deleted).toBe(0);
    expect(exitCodeOf(summary)).toBe(1);
    expect(logs.lines.filter((l) => l.outcome === 'deferred' && l.reason === 'target-stopped')).toHaveLength(t.deferred);
  });

  it('7.11: a refused target says how to proceed in its log line', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('1', 4, 40 * DAY), task('2', 4, 40 * DAY), task('3', 5, DAY)] } });
    const p = policy(emu, `${FAILED_RULE}limits: { maxDeletePercent: 50, percentFloor: 0 }\n`);
    const { summary, logs } = await runEngine(p, {}, { howToForce: (t) => `force ${t} please` });
    expect(summary.targets[0]).toMatchObject({ refused: true, deleted: 0 });
    const line = logs.lines.find((l) => l.message === 'target refused')!;
    expect(line.howToProceed).toBe('review the selection (a dry run lists it), then: force main please');
    expect(line.reason).toMatch(/^2 of 3 listed tasks \(66\.67%\) were selected, more than limits\.maxDeletePercent \(50%.*: none of them is touched$/);
  });

  it('7.10: an explicit purge names, in the summary, the ids no listing holds and those it left alone', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('11', 4, 40 * DAY), task('12', 4, 40 * DAY)] } });
    const p = policy(emu, `${FAILED_RULE}protect: { taskIds: ["12"] }\n`);
    const { summary } = await runEngine(p, { taskIds: ['11', '12', '404404'] });
    expect(deletedIds(emu)).toEqual(['11']);
    expect(summary.notFound).toEqual(['404404']);
    expect(summary.notSelected).toEqual(['12']);
    // A policy run has neither field.
    const plain = await runEngine(p);
    expect(plain.summary).not.toHaveProperty('notFound');
    expect(plain.summary).not.toHaveProperty('notSelected');
  });
});
