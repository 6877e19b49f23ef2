/** A target's summary from its lanes' counters: the task lane in the target's own fields, a block per other kind. */
import { emptyTally, type Lane, type Tally, type TargetRun } from './run-state.js';
import { nonEmpty, type PlanLists } from './named-items.js';
import type { EventLog } from '../log/types.js';
import type { Kind } from '../oms/kinds.js';
import { BLOCK_KEYS, addTotals, emptyTotals, type KindSummary, type RunSummary, type TargetSummary } from './summary.js';

/** The deferred items of a lane as summary fields, when there are any: tasks by `taskId`, other kinds by `id`. */
export function deferredFields(tally: Tally, idField: 'taskId' | 'id') {
  if (tally.deferredItems.length === 0) return {};
  return {
    deferredItems: tally.deferredItems.map(({ id, reason }) => ({ [idField]: id, reason })),
    ...(tally.deferredOmitted ? { deferredOmitted: tally.deferredOmitted } : {}),
  };
}

/**
 * The target's summary: the task lane in the target's own fields, as they always were (zeros when the run lists no
 * tasks), and a block per other kind. A stopped target says so in each of them.
 */
export function targetSummary(run: TargetRun, goneByLane: ReadonlyMap<Lane, PlanLists> | undefined): TargetSummary {
  const { target, stopped } = run;
  const tasks = run.lanes.find((lane) => lane.kind === 'task')?.tally ?? { ...emptyTally(), truncated: stopped !== undefined };
  const error = stopped ?? tasks.error;
  const summary: TargetSummary = {
    name: target.name,
    projectId: target.projectId,
    listed: tasks.listed,
    selected: tasks.selected,
    deleted: tasks.deleted,
    failed: tasks.failed,
    deferred: tasks.deferred,
    refused: tasks.refused,
    ...(tasks.limitOverridden ? { limitOverridden: true as const } : {}),
    truncated: tasks.truncated,
    failures: tasks.failures,
    ...(tasks.failuresOmitted ? { failuresOmitted: tasks.failuresOmitted } : {}),
    ...deferredFields(tasks, 'taskId'),
    ...(error === undefined ? {} : { error }),
  };
  for (const lane of run.lanes) {
    const key = BLOCK_KEYS[lane.kind as keyof typeof BLOCK_KEYS];
    if (!key) continue;
    const { failures, error: laneError, failuresOmitted, deferredItems: _items, deferredOmitted: _omitted, ...counters } = lane.tally;
    const blockError = stopped ?? laneError;
    const gone = goneByLane?.get(lane);
    const block: KindSummary = {
      ...counters,
      failures: failures.map(({ taskId, ...rest }) => ({ id: taskId, ...rest })),
      ...(failuresOmitted ? { failuresOmitted } : {}),
      ...deferredFields(lane.tally, 'id'),
      ...(blockError === undefined ? {} : { error: blockError }),
      ...nonEmpty(gone),
    };
    summary[key] = block;
  }
  return summary;
}

/** The run's summary from its targets' lanes, and the closing `run finished` line. */
export function assembleSummary(
  runs: readonly TargetRun[],
  kinds: readonly Kind[],
  run: {
    runId: string;
    dryRun: boolean;
    startedAt: string;
    finishedAt: string;
    unlisted: { notFound: string[]; notSelected: string[] } | undefined;
    gone: (PlanLists & { byLane: Map<Lane, PlanLists> }) | undefined;
  },
  log: EventLog,
  closingFields: (() => Record<string, unknown>) | undefined,
  clock: () => number,
): RunSummary {
  const { runId, dryRun, startedAt, unlisted, gone } = run;
  const summary: RunSummary = {
    runId,
    dryRun,
    startedAt,
    finishedAt: run.finishedAt,
    totals: emptyTotals(),
    targets: [],
    ...(unlisted?.notFound.length ? { notFound: unlisted.notFound } : {}),
    ...(unlisted?.notSelected.length ? { notSelected: unlisted.notSelected } : {}),
    ...nonEmpty(gone),
  };
  for (const kind of kinds) {
    const key = BLOCK_KEYS[kind as keyof typeof BLOCK_KEYS];
    if (key) summary[key] = emptyTotals();
  }
  for (const targetRun of runs) {
    summary.targets.push(targetSummary(targetRun, gone?.byLane));
    for (const lane of targetRun.lanes) {
      const key = BLOCK_KEYS[lane.kind as keyof typeof BLOCK_KEYS];
      addTotals(key ? summary[key]! : summary.totals, lane.tally);
    }
  }
  log.info('run finished', {
    runId,
    dryRun,
    totals: summary.totals,
    ...(summary.taskGroups ? { taskGroups: summary.taskGroups } : {}),
    ...(summary.syncTasks ? { syncTasks: summary.syncTasks } : {}),
    durationMs: clock() - Date.parse(startedAt),
    ...closingFields?.(),
  });
  return summary;
}
