/**
 * A backlog's dry run or capped run does not write a line per untouched item at INFO (issue 16.9): one summary line
 * per target and kind (count, by rule or reason, the first ids), and the per-item lines at DEBUG. What the run did to
 * an item (deleted, failed, paused and left) keeps its own INFO line.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { jsonLinesLog } from '../../lib/log/json-lines.js';
import { Redactor } from '../../lib/log/redact.js';
import { runPurge } from '../../lib/purge/engine.js';
import { createRunClient } from '../../lib/purge/runtime.js';
import { tokenAuthenticator } from '../../lib/auth/types.js';
import { DAY, FAST_RETRY, PROJECT, TOKEN, deletedIds, emulator, policy, policyText, runCli, task } from '../helpers/harness.js';

const lines = (stderr: string) => stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('log volume of a backlog', () => {
  let emu: Emulator;
  afterEach(async () => emu?.close());

  async function backlog(extraPolicy = '') {
    // 45 failed tasks, oldest first by id; 5 succeeded ones under another rule.
    const tasks = [
      ...Array.from({ length: 45 }, (_, i) => task(String(1000 + i), 4, (200 - i) * DAY)),
      ...Array.from({ length: 5 }, (_, i) => task(String(2000 + i), 5, (100 - i) * DAY)),
    ];
    emu = await emulator({ projects: { [PROJECT]: tasks } });
    const dir = mkdtempSync(join(tmpdir(), 'janitor-log-volume-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, policyText(emu, `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n  - { name: done, statuses: [succeeded], olderThan: 30d }\n${extraPolicy}`));
    return file;
  }

  it('a dry run at INFO: one summary line per target and kind, no line per item; at DEBUG the item lines too', async () => {
    const file = await backlog();
    const info = lines((await runCli(['purge', '--policy', file, '--json'], { OMS_AUTH_TOKEN: TOKEN })).stderr);
    expect(info.filter((l) => l.outcome === 'would-delete')).toEqual([]);
    const summary = info.filter((l) => l.summary !== undefined);
    expect(summary).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'tasks would be deleted (dry run)',
        target: 'main',
        kind: 'task',
        summary: 'would-delete',
        count: 50,
        byRule: { failed: 45, done: 5 },
        moreIds: 30,
      }),
    ]);
    // The first ids in the order the run takes them: oldest first.
    expect(summary[0]!.firstIds).toEqual(Array.from({ length: 20 }, (_, i) => String(1000 + i)));
    expect(summary[0]).not.toHaveProperty('outcome');

    const debug = lines((await runCli(['purge', '--policy', file, '--json', '--log-level', 'DEBUG'], { OMS_AUTH_TOKEN: TOKEN })).stderr);
    const items = debug.filter((l) => l.outcome === 'would-delete');
    expect(items).toHaveLength(50);
    expect(items.every((l) => l.level === 'DEBUG')).toBe(true);
  });

  it('a capped real run: each deletion its own INFO line, the run-cap deferrals one summary line', async () => {
    const file = await backlog('limits: { maxDeletesPerRun: 10 }\n');
    const r = await runCli(['purge', '--policy', file, '--no-dry-run', '--json'], { OMS_AUTH_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    expect(deletedIds(emu)).toHaveLength(10);
    const info = lines(r.stderr);
    expect(info.filter((l) => l.outcome === 'deleted')).toHaveLength(10);
    expect(info.filter((l) => l.outcome === 'deferred')).toEqual([]);
    expect(info.filter((l) => l.summary !== undefined)).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'tasks deferred', summary: 'deferred', count: 40, byReason: { 'run-cap': 40 }, moreIds: 20 }),
    ]);
    // The summary's own list is unchanged.
    const summary = JSON.parse(r.stdout) as { targets: { deferred: number; deferredItems: unknown[] }[] };
    expect(summary.targets[0]).toMatchObject({ deferred: 40 });
    expect(summary.targets[0]!.deferredItems).toHaveLength(40);
  });

  it('an item the run paused and had to leave keeps its own INFO line', async () => {
    // A migrating task that pauses only after the time budget is gone: deferred, left paused.
    emu = await emulator({ projects: { [PROJECT]: [task('7', 2, 10 * DAY, { total_time: 1 })] }, stopDelayMs: 60_000 });
    const p = policy(emu, 'rules:\n  - { name: stuck, statuses: [migrating], olderThan: 2d, stopFirst: true }\n');
    const raw: string[] = [];
    const log = jsonLinesLog((line) => raw.push(line), { level: 'INFO', redactor: new Redactor() });
    const { oms } = createRunClient(p, tokenAuthenticator(TOKEN), { retry: FAST_RETRY });
    let left = 40_000;
    await runPurge({ policy: p, dryRun: false }, { oms, log, pollIntervalMs: 5, remainingTimeMs: () => (left -= 2_000) });
    const deferred = lines(raw.join('')).filter((l) => l.outcome === 'deferred');
    expect(deferred).toEqual([expect.objectContaining({ level: 'INFO', taskId: '7', reason: 'time-budget', detail: 'paused-not-deleted' })]);
    expect(emu.stats.calls.stop).toBe(1);
  });
});
