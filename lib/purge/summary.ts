import type { Kind } from '../oms/kinds.js';

/**
 * The run summary (README "The run summary"): printed by `--json`, returned by the Lambda handler. Its original fields
 * (`totals`, a target's counters, `failures`, `error`) are about migration tasks, as they always were; task groups
 * and sync tasks have blocks of their own (`taskGroups`, `syncTasks`), present when the policy has rules of that
 * kind, at the top and per target.
 */
export interface RunSummary {
  runId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  totals: Totals;
  targets: TargetSummary[];
  /**
   * Explicit purges, when not empty: named task ids that no listing held (nothing was done with them). Applying a
   * manifest: planned ids that an incomplete listing did not show.
   */
  notFound?: string[];
  /** Explicit purges only, when not empty: named task ids that were listed but protected or kept (left alone). */
  notSelected?: string[];
  /** Applying a manifest, when not empty: planned task ids that a complete listing no longer holds (nothing to do). */
  alreadyGone?: string[];
  /** Applying a manifest, when not empty: planned task ids listed otherwise than planned (left alone). */
  changedSincePlan?: string[];
  /** Applying a manifest, when not empty: planned task ids no rule of the current policy selects now (left alone). */
  noRuleNow?: string[];
  taskGroups?: Totals;
  syncTasks?: Totals;
  /** A real run under a notice window (lib/notice): what is announced and pending after this run. */
  notice?: NoticeSummary;
}

/** What a notice window has pending after a run: the items announced, when they may go, and the first of them. */
export interface NoticeSummary {
  windowMs: number;
  /** Items announced and not yet deleted. */
  pending: number;
  /** Of those, announced by this run (new, or changed since they were announced). */
  added: number;
  /** False when the next notice could not be written (another run replaced it): the next run announces again. */
  written: boolean;
  /** The earliest time an announced item may go. */
  nextDeletion?: string;
  byTarget: { target: string; kind: Kind; count: number; nextDeletion: string }[];
  /** The first announced items (soonest to go first), with names. */
  first: { target: string; kind: Kind; id: string; name: string; deleteAfter: string }[];
}

/** A deferred item as the engine tallies it (the summary names the id field per kind). */
export interface DeferredItem {
  id: string;
  reason: string;
}

export interface Totals {
  listed: number;
  selected: number;
  deleted: number;
  failed: number;
  deferred: number;
  protected: number;
  /** Matched a rule (or named, or planned) but kept by a keepLatest window: left alone on purpose. */
  kept: number;
  skipped: number;
}

export interface TargetSummary {
  name: string;
  projectId: string;
  listed: number;
  selected: number;
  deleted: number;
  failed: number;
  deferred: number;
  refused: boolean;
  /** Only when the selection was over limits.maxDeletePercent and let through (force, or an acceptance in a manifest). */
  limitOverridden?: true;
  truncated: boolean;
  failures: Failure[];
  /** Only when failures were more than MAX_FAILURES_LISTED: how many are in the logs but not here. */
  failuresOmitted?: number;
  /** Only when tasks were deferred: the first MAX_FAILURES_LISTED, with why (run-cap, time-budget, creating, …). */
  deferredItems?: { taskId: string; reason: string }[];
  /** Only when more were deferred than listed in deferredItems: how many more. */
  deferredOmitted?: number;
  /** Only when the target stopped or could not be listed: why, in words (no secrets). */
  error?: string;
  taskGroups?: KindSummary;
  syncTasks?: KindSummary;
}

/** A target's task groups or sync tasks: the counters of a target and of `totals`, for that kind. */
export interface KindSummary extends Totals {
  /** Selection above maxDeletePercent of this kind's listing: nothing of this kind in the target was touched. */
  refused: boolean;
  /** Only when this kind's selection was over limits.maxDeletePercent and let through. */
  limitOverridden?: true;
  truncated: boolean;
  failures: KindFailure[];
  failuresOmitted?: number;
  /** This kind could not be listed, or the target stopped: why. */
  error?: string;
  /** Only when items of this kind were deferred: the first MAX_FAILURES_LISTED, with why. */
  deferredItems?: { id: string; reason: string }[];
  deferredOmitted?: number;
  /** Applying a manifest, when not empty: planned ids of this kind that a complete listing no longer holds. */
  alreadyGone?: string[];
  /** Applying a manifest, when not empty: planned ids of this kind that an incomplete listing did not show. */
  notFound?: string[];
  /** Applying a manifest, when not empty: planned ids of this kind listed otherwise than planned. */
  changedSincePlan?: string[];
  /** Applying a manifest, when not empty: planned ids of this kind no rule of the current policy selects now. */
  noRuleNow?: string[];
}

/** A failure of a task group or sync task: as a task's, with `id` for `taskId`. */
export type KindFailure = Omit<Failure, 'taskId'> & { id: string };

export interface Failure {
  /** The item's id (of whatever kind; a KindFailure calls it `id`). */
  taskId: string;
  /** 0 when there was no HTTP answer (timeout, connection, stop-timeout). */
  httpStatus: number;
  errorCode: string;
  errorMsg: string;
  /** http-error | redirect | stop-timeout | timeout | connection | invalid-response | error */
  reason: string;
  /** X-Request-Id of the failing answer, when there was one. */
  requestId?: string;
}

/** The summary stays small enough for a Lambda response; every failure is in the logs regardless. */
export const MAX_FAILURES_LISTED = 100;

export function emptyTotals(): Totals {
  return { listed: 0, selected: 0, deleted: 0, failed: 0, deferred: 0, protected: 0, kept: 0, skipped: 0 };
}

/** The summary's block key of each kind that has one. */
export const BLOCK_KEYS = { taskGroup: 'taskGroups', syncTask: 'syncTasks' } as const satisfies Partial<Record<Kind, string>>;

/** One row of a target's outcome per kind the summary has: tasks (the target's own fields), then the blocks. */
export type KindRow = { kind: Kind } & Pick<TargetSummary, 'listed' | 'selected' | 'deleted' | 'failed' | 'deferred' | 'refused' | 'limitOverridden' | 'truncated' | 'error'>;

/**
 * A target's rows, one per kind: tasks always (the target's own fields), task groups and sync tasks when present.
 * Text tables, reports and the exit status read outcomes through this, so no kind is ever forgotten by one of them.
 */
export function kindRows(target: TargetSummary): KindRow[] {
  const rows: KindRow[] = [{ kind: 'task', ...pick(target) }];
  for (const [kind, key] of Object.entries(BLOCK_KEYS) as [Kind, 'taskGroups' | 'syncTasks'][]) {
    const block = target[key];
    if (block) rows.push({ kind, ...pick(block) });
  }
  return rows;
}

function pick(s: TargetSummary | KindSummary): Omit<KindRow, 'kind'> {
  const { listed, selected, deleted, failed, deferred, refused, limitOverridden, truncated, error } = s;
  return { listed, selected, deleted, failed, deferred, refused, ...(limitOverridden ? { limitOverridden } : {}), truncated, ...(error === undefined ? {} : { error }) };
}

/** Adds `more`'s counters into `into`. */
export function addTotals(into: Totals, more: Totals): void {
  for (const key of Object.keys(into) as (keyof Totals)[]) into[key] += more[key];
}

/** The totals over every kind (tasks and the blocks): what a headline counts. */
export function allKindsTotals(summary: RunSummary): Totals {
  const sum = { ...summary.totals };
  for (const block of [summary.taskGroups, summary.syncTasks]) if (block) addTotals(sum, block);
  return sum;
}

/** Exit status of a finished run: 1 when anything failed or a target (or a kind in it) was refused or stopped, else 0. */
export function exitCodeOf(summary: RunSummary): 0 | 1 {
  return summary.targets.some((t) => kindRows(t).some((r) => r.failed > 0 || r.refused || r.error !== undefined)) ? 1 : 0;
}
