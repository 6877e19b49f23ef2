/** The run summary of shared/spec.md: printed by `--json`, returned by the Lambda handler. */
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
}

export interface Totals {
  listed: number;
  selected: number;
  deleted: number;
  failed: number;
  deferred: number;
  protected: number;
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
  truncated: boolean;
  failures: Failure[];
  /** Only when failures were more than MAX_FAILURES_LISTED: how many are in the logs but not here. */
  failuresOmitted?: number;
  /** Only when the target stopped or could not be listed: why, in words (no secrets). */
  error?: string;
}

export interface Failure {
  taskId: string;
  /** 0 when there was no HTTP answer (timeout, connection, stop-timeout). */
  httpStatus: number;
  errorCode: string;
  errorMsg: string;
  /** http-error | redirect | stop-refused | stop-timeout | timeout | connection | invalid-response | error */
  reason: string;
  /** X-Request-Id of the failing answer, when there was one. */
  requestId?: string;
}

/** The summary stays small enough for a Lambda response; every failure is in the logs regardless. */
export const MAX_FAILURES_LISTED = 100;

export function emptyTotals(): Totals {
  return { listed: 0, selected: 0, deleted: 0, failed: 0, deferred: 0, protected: 0, skipped: 0 };
}

/** Exit status of a finished run: 1 when a task failed or a target was refused or stopped, else 0. */
export function exitCodeOf(summary: RunSummary): 0 | 1 {
  return summary.targets.some((t) => t.failed > 0 || t.refused || t.error !== undefined) ? 1 : 0;
}
