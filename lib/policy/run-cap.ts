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
 */
export function applyRunCap(selections: readonly TargetSelection[], maxDeletesPerRun: number): RunCap {
  if (!Number.isSafeInteger(maxDeletesPerRun) || maxDeletesPerRun < 0) {
    throw new RangeError(`applyRunCap: maxDeletesPerRun must be a whole number >= 0, got ${maxDeletesPerRun}`);
  }
  const all = selections.flatMap((selection, target) =>
    selection.refused ? [] : selection.selected.map((candidate, position) => ({ candidate, target, position })),
  );
  // Ties across targets: smaller id, then target order, then the target's own order, so the split is deterministic.
  all.sort(
    (a, b) =>
      a.candidate.lastActivityMs - b.candidate.lastActivityMs ||
      compareTaskIds(a.candidate.item.id, b.candidate.item.id) ||
      a.target - b.target ||
      a.position - b.position,
  );
  const run: Candidate[][] = selections.map(() => []);
  const deferred: Candidate[][] = selections.map(() => []);
  all.forEach(({ candidate, target }, rank) => {
    (rank < maxDeletesPerRun ? run : deferred)[target]?.push(candidate);
  });
  return { run, deferred };
}
