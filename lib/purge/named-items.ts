/** What an explicit purge or a manifest named that the run could not act on: not listed, gone, changed, left alone. */
import type { EventLog } from '../log/types.js';
import type { PlannedItems } from '../policy/types.js';
import { KIND_MODELS } from '../oms/kinds.js';
import type { Lane, TargetRun } from './run-state.js';

const PLAN_LIST_KEYS = ['alreadyGone', 'notFound', 'changedSincePlan', 'noRuleNow'] as const;
const emptyPlanLists = (): PlanLists => ({ alreadyGone: [], notFound: [], changedSincePlan: [], noRuleNow: [] });

/**
 * An explicit purge says what became of every named task it will not delete, rather than finishing quietly as if
 * it had worked: not in any listing, or listed but protected or kept by a keepLatest window (skipped ones already
 * have their own line). A log line each, and the ids for the summary.
 */
export function warnUnlisted(taskIds: readonly string[], runs: readonly TargetRun[], log: EventLog): { notFound: string[]; notSelected: string[] } {
  // An explicit purge lists tasks only (runKinds), so every lane here is a task lane.
  const taskLanes = runs.flatMap((run) => run.lanes.filter((lane) => lane.kind === 'task'));
  const listed = new Set(taskLanes.flatMap((lane) => lane.listedIds ?? []));
  const chosen = new Set(taskLanes.flatMap((lane) => [...(lane.selection?.selected ?? []).map((c) => c.item.id), ...(lane.selection?.skipped ?? []).map((s) => s.idText)]));
  const notFound: string[] = [];
  const notSelected: string[] = [];
  for (const taskId of taskIds) {
    if (!listed.has(taskId)) {
      notFound.push(taskId);
      log.warn('task not found in any listing', { taskId, outcome: 'not-found', targets: runs.map((r) => r.target.name) });
    } else if (!chosen.has(taskId)) {
      notSelected.push(taskId);
      log.warn('named task left alone: protected, or kept by a keepLatest window', { taskId, outcome: 'not-selected' });
    }
  }
  return { notFound, notSelected };
}

/** Applying a manifest: what became of planned items that were not selected, by id (lib/purge/summary.ts). */
export interface PlanLists {
  alreadyGone: string[];
  notFound: string[];
  changedSincePlan: string[];
  noRuleNow: string[];
}

/**
 * Applying a manifest, what became of the planned items the run did not select, by id: the ones the fresh listing
 * does not hold are already gone when the listing is complete (deleted by hand, or by a run killed half-way), and
 * only "not found" when it stopped short (they may be in the part not seen; nothing is done with them either way);
 * the listed ones skipped as changed since the plan, or that no rule of the current policy selects now, by their
 * skip reason. A log line for each gone or not found one (the skipped ones have theirs); the task ids for the
 * summary's top-level lists, the other kinds' for their blocks.
 */
export function planLists(planned: ReadonlyMap<string, PlannedItems>, runs: readonly TargetRun[], log: EventLog): PlanLists & { byLane: Map<Lane, PlanLists> } {
  const top = emptyPlanLists();
  const byLane = new Map<Lane, PlanLists>();
  const listsOf = (lane: Lane) => (lane.kind === 'task' ? top : (byLane.get(lane) ?? byLane.set(lane, emptyPlanLists()).get(lane)!));
  for (const run of runs) {
    for (const lane of run.lanes) {
      // A lane whose listing failed has nothing to say about its items: its error says why.
      if (lane.listedIds === undefined) continue;
      const lists = listsOf(lane);
      for (const skip of lane.selection?.skipped ?? []) {
        if (skip.reason === 'changed-since-plan') lists.changedSincePlan.push(skip.idText);
        else if (skip.reason === 'no-rule-now') lists.noRuleNow.push(skip.idText);
      }
      const listed = new Set(lane.listedIds);
      const idField = KIND_MODELS[lane.kind].logIdField;
      for (const id of planned.get(run.target.name)?.get(lane.kind)?.keys() ?? []) {
        if (listed.has(id)) continue;
        if (lane.tally.truncated) {
          lists.notFound.push(id);
          log.warn(`planned ${KIND_MODELS[lane.kind].noun} not seen: the listing is incomplete`, { target: run.target.name, kind: lane.kind, [idField]: id, outcome: 'not-found' });
        } else {
          lists.alreadyGone.push(id);
          log.info(`planned ${KIND_MODELS[lane.kind].noun} already gone`, { target: run.target.name, kind: lane.kind, [idField]: id, outcome: 'already-gone' });
        }
      }
    }
  }
  return { ...top, byLane };
}

/** The non-empty lists, as summary fields. */
export function nonEmpty(lists: PlanLists | undefined): Partial<PlanLists> {
  return Object.fromEntries(PLAN_LIST_KEYS.filter((key) => (lists?.[key].length ?? 0) > 0).map((key) => [key, lists![key]]));
}
