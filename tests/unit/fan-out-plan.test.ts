/**
 * maxDeletesPerRun over a fanned-out run (lib/run/fan-out-plan.ts): each target's share of the cap from every
 * target's plan, the split one run over all targets would make, fixed once; and a target's ledger over its rounds.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openArchiveStore } from '../../lib/archive/store.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { planKey, readLedger, reserveRound, settleRound, sharesOfCap, writePlan } from '../../lib/run/fan-out-plan.js';

const EXEC = 'arn:aws:states:ap-southeast-1:123456789012:execution:oms-task-janitor-prod:run-1';
const store = () => openArchiveStore(mkdtempSync(join(tmpdir(), 'janitor-plan-')));

describe('a target\'s share of the run cap', () => {
  it('is how many of the oldest `cap` items over all targets are its own; ties go to the smaller id', async () => {
    const shares = async (cap: number) => {
      const s = store();
      await writePlan(s, EXEC, { target: 'a', lastActivityMs: [100, 300, 500], ids: ['1', '3', '5'] });
      await writePlan(s, EXEC, { target: 'b', lastActivityMs: [200, 300, 400], ids: ['2', '4', '6'] });
      return sharesOfCap(s, EXEC, ['a', 'b'], cap);
    };
    expect(await shares(1)).toEqual({ a: 1, b: 0 });
    expect(await shares(3)).toEqual({ a: 2, b: 1 }); // 100 (a), 200 (b), 300: a's id 3 before b's id 4
    expect(await shares(4)).toEqual({ a: 2, b: 2 });
    expect(await shares(100)).toEqual({ a: 3, b: 3 });
  });

  it('are fixed by the first caller: a plan written later, or written again, changes nothing', async () => {
    const s = store();
    await writePlan(s, EXEC, { target: 'a', lastActivityMs: [100, 200], ids: ['1', '2'] });
    await writePlan(s, EXEC, { target: 'a', lastActivityMs: [1, 2, 3], ids: ['7', '8', '9'] }); // a retried plan step
    expect(await sharesOfCap(s, EXEC, ['a', 'b'], 2)).toEqual({ a: 2 }); // b has no plan: no share
    await writePlan(s, EXEC, { target: 'b', lastActivityMs: [1, 2], ids: ['8', '9'] });
    expect(await sharesOfCap(s, EXEC, ['a', 'b'], 2)).toEqual({ a: 2 });
    // Another execution's plans are its own.
    expect(await sharesOfCap(s, 'another-execution', ['a', 'b'], 2)).toEqual({});
    // A plan file that is not what writePlan writes counts as none.
    await s.put(planKey('third', 'b'), Buffer.from(JSON.stringify({ executionId: 'third', target: 'b', lastActivityMs: [1, 2], ids: ['8'] })), 'application/json');
    expect(await sharesOfCap(s, 'third', ['b'], 2)).toEqual({});
  });

  it("a target's rounds: each reserves what is left of its share, and gives back what it did not act on", async () => {
    const s = store();
    const summary = (deleted: number) => ({ runId: 'r', totals: { deleted } }) as unknown as RunSummary;
    const combine = (sofar: RunSummary | undefined, round: RunSummary) => summary((sofar?.totals.deleted ?? 0) + round.totals.deleted);
    const first = await reserveRound(s, EXEC, 'a', 5, Date.now() + 60_000);
    expect(first.reserved).toBe(5);
    // The same round sent again while the first still runs: nothing is left for it.
    const again = await reserveRound(s, EXEC, 'a', 5, Date.now() + 60_000);
    expect(again.reserved).toBe(0);
    await settleRound(s, EXEC, 'a', { reserved: 0, acted: 0, summary: summary(0) }, combine);
    await settleRound(s, EXEC, 'a', { reserved: 5, acted: 2, summary: summary(2) }, combine);
    const second = await reserveRound(s, EXEC, 'a', 5, Date.now() + 60_000);
    expect(second.reserved).toBe(3);
    // A round that never settles (it failed) keeps its reservation: nothing is left.
    expect((await reserveRound(s, EXEC, 'a', 5, Date.now() + 60_000)).reserved).toBe(0);
    const ledger = await readLedger(s, EXEC, 'a');
    expect(ledger).toMatchObject({ share: 5, used: 5, rounds: 4, summary: { totals: { deleted: 2 } } });
    expect(ledger).toMatchObject({ inFlight: 2 }); // four reserved, two settled: two may still run
    expect(Date.parse(ledger!.inFlightUntil!)).toBeGreaterThan(Date.now());
    // A round that failed settles with no summary: its reservation stays used, the summary so far stays, and it is over.
    await settleRound(s, EXEC, 'a', { reserved: 3, acted: 3 }, combine);
    expect(await readLedger(s, EXEC, 'a')).toMatchObject({ used: 5, inFlight: 1 });
    await settleRound(s, EXEC, 'a', { reserved: 0, acted: 0 }, combine);
    const after = await readLedger(s, EXEC, 'a');
    expect(after).toMatchObject({ used: 5, summary: { totals: { deleted: 2 } } });
    expect(after!.inFlightUntil).toBeUndefined();
    expect(after!.inFlight).toBeUndefined();
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
          const shares = await sharesOfCap(s, EXEC, targets, cap);
          expect(Object.values(shares).reduce((a, b) => a + b, 0)).toBe(Math.min(cap, total));
        },
      ),
      { numRuns: 60 },
    );
  });
});
