/**
 * maxDeletesPerRun over a fanned-out run (lib/run/fan-out-plan.ts): each target's share of the cap from every
 * target's plan, the split one run over all targets would make.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openArchiveStore } from '../../lib/archive/store.js';
import { planKey, shareOfCap, writePlan } from '../../lib/run/fan-out-plan.js';

const EXEC = 'arn:aws:states:ap-southeast-1:123456789012:execution:oms-task-janitor-prod:run-1';
const store = () => openArchiveStore(mkdtempSync(join(tmpdir(), 'janitor-plan-')));

describe('a target\'s share of the run cap', () => {
  it('is how many of the oldest `cap` items over all targets are its own; ties go to the smaller id', async () => {
    const s = store();
    await writePlan(s, EXEC, { target: 'a', lastActivityMs: [100, 300, 500], ids: ['1', '3', '5'] });
    await writePlan(s, EXEC, { target: 'b', lastActivityMs: [200, 300, 400], ids: ['2', '4', '6'] });
    const shares = async (cap: number) => [await shareOfCap(s, EXEC, ['a', 'b'], 'a', cap), await shareOfCap(s, EXEC, ['a', 'b'], 'b', cap)];
    expect(await shares(1)).toEqual([1, 0]);
    expect(await shares(3)).toEqual([2, 1]); // 100 (a), 200 (b), 300: a's id 3 before b's id 4
    expect(await shares(4)).toEqual([2, 2]);
    expect(await shares(100)).toEqual([3, 3]);
    // A target outside the run's targets has none.
    expect(await shareOfCap(s, EXEC, ['a'], 'b', 100)).toBe(0);
  });

  it('a target without a plan (its planning failed) or with a plan of another execution has none, and takes none from the others', async () => {
    const s = store();
    await writePlan(s, EXEC, { target: 'a', lastActivityMs: [100, 200], ids: ['1', '2'] });
    await writePlan(s, 'another-execution', { target: 'b', lastActivityMs: [1, 2], ids: ['8', '9'] });
    expect(await shareOfCap(s, EXEC, ['a', 'b'], 'a', 2)).toBe(2);
    expect(await shareOfCap(s, EXEC, ['a', 'b'], 'b', 2)).toBe(0);
    // A plan file that is not what writePlan writes counts as none.
    await s.put(planKey(EXEC, 'b'), Buffer.from(JSON.stringify({ executionId: EXEC, target: 'b', lastActivityMs: [1, 2], ids: ['8'] })), 'application/json');
    expect(await shareOfCap(s, EXEC, ['a', 'b'], 'b', 2)).toBe(0);
  });

  it('the shares never add up to more than the cap, nor to less than what there is within it (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 999 })), { maxLength: 30 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 60 }),
        async (plans, cap) => {
          const s = store();
          const targets = plans.map((_, i) => `t${i}`);
          let total = 0;
          for (const [i, items] of plans.entries()) {
            const unique = [...new Map(items.map(([ms, id]) => [String(id), ms])).entries()];
            total += unique.length;
            await writePlan(s, EXEC, { target: targets[i]!, lastActivityMs: unique.map(([, ms]) => ms), ids: unique.map(([id]) => id) });
          }
          const shares = await Promise.all(targets.map((t) => shareOfCap(s, EXEC, targets, t, cap)));
          expect(shares.reduce((a, b) => a + b, 0)).toBe(Math.min(cap, total));
        },
      ),
      { numRuns: 60 },
    );
  });
});
