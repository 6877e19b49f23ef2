/**
 * A fanned-out run's summary (issue 18.2): one invocation per target, again while a target stopped at its deadline
 * with work left, merged into one run summary. Real engine runs against the emulator make the per-target summaries.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Emulator } from '../../emulator/index.js';
import { hasWorkLeft, mergeSummaries } from '../../lib/purge/merge.js';
import { DAY, PROJECT, PROJECT_B, deletedIds, emulator, policy, runEngine, task } from '../helpers/harness.js';

describe('merging per-target summaries', () => {
  let emu: Emulator;
  afterEach(async () => emu?.close());

  it('rounds of one target add up, each target appears once, a failed target is reported stopped alone', async () => {
    emu = await emulator({
      projects: {
        [PROJECT]: Array.from({ length: 5 }, (_, i) => task(String(10 + i), 4, (50 - i) * DAY)),
        [PROJECT_B]: Array.from({ length: 3 }, (_, i) => task(String(20 + i), 4, (50 - i) * DAY)),
      },
    });
    const p = policy(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n', { a: PROJECT, b: PROJECT_B });
    // Target a: the first invocation's time runs out after two deletions; the second finishes.
    let left = 44_000;
    const first = await runEngine(p, { targets: ['a'] }, { remainingTimeMs: () => (left -= 6_000), reserveMs: 30_000 });
    expect(hasWorkLeft(first.summary)).toBe(true);
    const second = await runEngine(p, { targets: ['a'] });
    expect(hasWorkLeft(second.summary)).toBe(false);
    const onlyB = await runEngine(p, { targets: ['b'] });

    const merged = mergeSummaries('exec-1', [
      { target: 'a', summaries: [first.summary, second.summary] },
      { target: 'b', summaries: [onlyB.summary] },
      { target: 'c', summaries: [], error: 'its credentials failed: secret oms-janitor/prod/c not found' },
    ]);
    expect(deletedIds(emu)).toHaveLength(5);
    expect(deletedIds(emu, PROJECT_B)).toHaveLength(3);
    expect(merged.runId).toBe('exec-1');
    expect(merged.totals).toMatchObject({ listed: 8, selected: 8, deleted: 8, failed: 0, deferred: 0 });
    expect(merged.targets.map((t) => [t.name, t.listed, t.deleted, t.deferred, t.error ?? null])).toEqual([
      ['a', 5, 5, 0, null],
      ['b', 3, 3, 0, null],
      ['c', 0, 0, 0, 'stopped: its credentials failed: secret oms-janitor/prod/c not found'],
    ]);
    expect(first.summary.targets[0]!.deferred).toBeGreaterThan(0); // the first round did defer: the merge took the last
    expect(merged.startedAt <= merged.finishedAt).toBe(true);
  });
});
