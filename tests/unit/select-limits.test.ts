import { describe, expect, it } from '@jest/globals';
import { applyRunCap, select } from '../../lib/policy/select.js';
import type { TargetSelection } from '../../lib/policy/types.js';
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
});
