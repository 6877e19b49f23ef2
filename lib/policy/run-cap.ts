/**
 * `limits.maxDeletesPerRun` over all targets of a run: the oldest candidates go first whichever target they are
 * in; the rest are deferred to a later run (the listing is the source of truth, so reruns converge).
 */
import type { Candidate, TargetSelection } from './types.js';
import { compareTaskIds } from './task-id.js';

export interface RunCap {
  /** Per target, index-aligned with the input: what this run may touch, oldest first. */
  run: Candidate[][];
  /** Per target, index-aligned with the input: selected but left for a later run, oldest first. */
  deferred: Candidate[][];
}

/**
 * Splits the selections of one run into what runs now and what is deferred. A refused target contributes nothing
 * to either (its selection is for reports only, and must not use up the cap of the others).
 *
 * The order is oldest first over every target; ties: smaller id, then target order, then the target's own order.
 * What a target runs is therefore a prefix of its own selection in that order (`select` already sorts it so; any
 * other input is sorted first, stably), and the split is found by merging the targets' heads for the first
 * `maxDeletesPerRun` places only: no entry per candidate (a run may select 100,000 tasks and run 1,000 of them).
 */
export function applyRunCap(selections: readonly TargetSelection[], maxDeletesPerRun: number): RunCap {
  if (!Number.isSafeInteger(maxDeletesPerRun) || maxDeletesPerRun < 0) {
    throw new RangeError(`applyRunCap: maxDeletesPerRun must be a whole number >= 0, got ${maxDeletesPerRun}`);
  }
  const lists = selections.map((selection) => (selection.refused ? [] : inOrder(selection.selected)));
  const taken = lists.map(() => 0);
  for (let place = 0; place < maxDeletesPerRun; place += 1) {
    // The oldest head; on a tie the earlier target keeps it (only a strictly older head replaces it).
    let best = -1;
    for (let target = 0; target < lists.length; target += 1) {
      const head = lists[target]![taken[target]!];
      if (head !== undefined && (best < 0 || byAgeThenId(head, lists[best]![taken[best]!]!) < 0)) best = target;
    }
    if (best < 0) break; // every candidate runs
    taken[best]! += 1;
  }
  return { run: lists.map((list, target) => list.slice(0, taken[target])), deferred: lists.map((list, target) => list.slice(taken[target])) };
}

function byAgeThenId(a: Candidate, b: Candidate): number {
  return a.lastActivityMs - b.lastActivityMs || compareTaskIds(a.item.id, b.item.id);
}

/** The candidates oldest first (ties: smaller id, then their own order): as given when they already are. */
function inOrder(candidates: readonly Candidate[]): readonly Candidate[] {
  for (let i = 1; i < candidates.length; i += 1) {
    if (byAgeThenId(candidates[i - 1]!, candidates[i]!) > 0) return [...candidates].sort(byAgeThenId); // a stable sort
  }
  return candidates;
}
