import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { applyRunCap, select } from '../../lib/policy/select.js';
import { compareTaskIds } from '../../lib/policy/task-id.js';
import type { Candidate, TargetSelection } from '../../lib/policy/types.js';
import { DAY, ids, NOW, policy, rule, task } from './select-fixtures.js';

/** n old (selectable) tasks and m young ones. */
function listing(old: number, young: number) {
  return [
    ...Array.from({ length: old }, (_, i) => task({ id: String(i + 1), ageMs: 30 * DAY })),
    ...Array.from({ length: young }, (_, i) => task({ id: String(1000 + i), ageMs: 1 * DAY })),
  ];
}

describe('select: blast radius', () => {
  it('refuses a target whose selection exceeds maxDeletePercent, still listing the selection', () => {
    const result = select(listing(6, 4), policy({ limits: { maxDeletePercent: 50 } }), NOW);
    expect(result.refused).toBe(true);
    expect(result.overLimit).toContain('6 of 10');
    expect(result.overLimit).toContain('60%');
    expect(result.overLimit).toContain('50%');
    expect(result.selected).toHaveLength(6);
  });

  it('does not refuse a selection exactly at the limit', () => {
    const result = select(listing(5, 5), policy({ limits: { maxDeletePercent: 50 } }), NOW);
    expect(result.refused).toBe(false);
    expect(result.overLimit).toBeUndefined();
  });

  it('does not refuse a forced run, and says it was over the limit (so that the run can record the override)', () => {
    const result = select(listing(6, 4), policy({ limits: { maxDeletePercent: 50 } }), NOW, { force: true });
    expect(result.refused).toBe(false);
    expect(result.overLimit).toContain('6 of 10');
    expect(result.selected).toHaveLength(6);
  });

  it('judges the percentage only above limits.percentFloor selected items: 1 of 1 is not refused under the default floor', () => {
    // 3 selected of 4 listed is 75%, over 50%: refused with a floor of 0, 1 or 2; not with 3 (3 is not more than 3).
    for (const [percentFloor, refused] of [[0, true], [2, true], [3, false], [20, false]] as const) {
      const result = select(listing(3, 1), policy({ limits: { maxDeletePercent: 50, percentFloor } }), NOW);
      expect([percentFloor, result.refused]).toEqual([percentFloor, refused]);
    }
    // Above the floor the percentage is judged as ever: 25 of 30 listed under a floor of 20.
    expect(select(listing(25, 5), policy({ limits: { maxDeletePercent: 50, percentFloor: 20 } }), NOW).refused).toBe(true);
  });

  it('applies to explicit purges too', () => {
    const result = select(listing(2, 2), policy({ limits: { maxDeletePercent: 25 } }), NOW, { taskIds: ['1', '1000'] });
    expect(result.refused).toBe(true);
  });

  it('does not refuse an empty listing', () => {
    expect(select([], policy({ limits: { maxDeletePercent: 1 } }), NOW).refused).toBe(false);
  });
});

function selection(target: string, agesDays: number[], refused = false): TargetSelection {
  const tasks = agesDays.map((d, i) => task({ id: `${target}${i + 1}`, ageMs: d * DAY }));
  return { ...select(tasks, policy({ rules: [rule({ olderThanDays: 1 })] }), NOW), refused };
}

describe('applyRunCap', () => {
  it('runs the oldest candidates across targets and defers the rest, index-aligned', () => {
    const a = selection('1', [10, 40]);
    const b = selection('2', [30, 20]);
    const { run, deferred } = applyRunCap([a, b], 2);
    expect(run.map((r) => r.map((c) => c.item.id))).toEqual([['12'], ['21']]);
    expect(deferred.map((r) => r.map((c) => c.item.id))).toEqual([['11'], ['22']]);
  });

  it('gives refused targets nothing to run or defer, and lets them use none of the cap', () => {
    const refused = selection('1', [50, 60], true);
    const ok = selection('2', [10, 20]);
    const { run, deferred } = applyRunCap([refused, ok], 2);
    expect(run).toEqual([[], ok.selected]);
    expect(deferred).toEqual([[], []]);
    expect(ids({ selected: run[1] ?? [] })).toEqual(['22', '21']);
  });

  it('defers everything under a cap of 0 and refuses a cap that is not a whole number', () => {
    const a = selection('1', [10]);
    expect(applyRunCap([a], 0)).toEqual({ run: [[]], deferred: [a.selected] });
    expect(() => applyRunCap([a], Number.NaN)).toThrow(RangeError);
    expect(() => applyRunCap([a], -1)).toThrow(RangeError);
  });

  it('splits exactly as sorting every candidate of every target would, for sorted and unsorted selections alike', () => {
    // The plain definition: one list of every candidate, sorted by age, id, target, then the target's own order.
    const reference = (selections: TargetSelection[], cap: number) => {
      const all = selections.flatMap((s, target) => (s.refused ? [] : s.selected.map((candidate, position) => ({ candidate, target, position }))));
      all.sort((a, b) => a.candidate.lastActivityMs - b.candidate.lastActivityMs || compareTaskIds(a.candidate.item.id, b.candidate.item.id) || a.target - b.target || a.position - b.position);
      const run: Candidate[][] = selections.map(() => []);
      const deferred: Candidate[][] = selections.map(() => []);
      all.forEach(({ candidate, target }, rank) => (rank < cap ? run : deferred)[target]!.push(candidate));
      return { run, deferred };
    };
    // Few ages and ids, so that ties (within and across targets) are common; `rule` tells equal-keyed candidates apart.
    const candidate = fc.record({ ms: fc.integer({ min: 0, max: 4 }), id: fc.integer({ min: 1, max: 12 }), rule: fc.string({ maxLength: 2 }) }).map(
      ({ ms, id, rule }): Candidate => ({ item: { id: String(id) } as Candidate['item'], rule, lastActivityMs: ms * DAY }),
    );
    const selectionArb = fc.record({ selected: fc.array(candidate, { maxLength: 12 }), refused: fc.boolean(), sorted: fc.boolean() }).map(
      ({ selected, refused, sorted }): TargetSelection => ({
        listed: selected.length,
        selected: sorted ? [...selected].sort((a, b) => a.lastActivityMs - b.lastActivityMs || compareTaskIds(a.item.id, b.item.id)) : selected,
        protected: 0,
        kept: 0,
        skipped: [],
        refused,
      }),
    );
    fc.assert(
      fc.property(fc.array(selectionArb, { maxLength: 5 }), fc.integer({ min: 0, max: 40 }), (selections, cap) => {
        const got = applyRunCap(selections, cap);
        const want = reference(selections, cap);
        // The same candidate objects in the same places (toBe per element, not a structural match).
        expect(got.run.length).toBe(want.run.length);
        got.run.forEach((list, t) => expect(list.length === want.run[t]!.length && list.every((c, i) => c === want.run[t]![i])).toBe(true));
        got.deferred.forEach((list, t) => expect(list.length === want.deferred[t]!.length && list.every((c, i) => c === want.deferred[t]![i])).toBe(true));
      }),
      { numRuns: 2000 },
    );
  });
});
