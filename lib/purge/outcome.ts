import { HttpError, TransportError } from '../http/errors.js';
import { OmsResponseError } from '../oms/errors.js';
import type { WaitLabel } from '../oms/kinds.js';
import type { Failure } from './summary.js';

/** What happened to one selected item in one run. */
export type Outcome =
  | { kind: 'deleted'; alreadyGone: boolean; paused: boolean }
  | { kind: 'would-delete' }
  | { kind: 'deferred'; reason: DeferReason; leftPaused?: boolean; attempted?: boolean }
  | { kind: 'failed'; failure: Failure };

/**
 * Why an item was left for a later run (not-archived: a real run's archive did not keep its listed record, so it is
 * not acted on; see lib/archive/records.ts): the listing is the source of truth, so the next run picks it up again.
 * - run-cap: over limits.maxDeletesPerRun; time-budget: too little Lambda time left;
 * - target-stopped: its target stopped (5 403s or 5 throttled requests in a row, a 401);
 * - creating, pausing: in a state OMS neither pauses nor deletes (a task group being created, an item being paused
 *   by someone else), still in it at stopTimeout: waited out, never sent a pause or a delete;
 * - pause-refused: pausable by its status, yet every pause until stopTimeout answered OMS.0066 ("not running");
 * - finished-during-pause: selected busy, a look found it succeeded or failed (not deleted: the next run judges it
 *   as the finished item it is now, with its rules and keepLatest windows);
 * - changed-since-listing: a look (after a refused pause or delete) found it in another state that the rule which
 *   selected it no longer covers (or a keepLatest window might now keep): nothing more is sent;
 * - unknown-status-now: a look found a status the janitor does not know;
 * - delete-under-way: a task group that a look found already being deleted (status 8 or 9) by someone else: nothing
 *   more is sent; the next listing shows how that delete ended.
 */
export type DeferReason =
  | 'run-cap'
  | 'time-budget'
  | 'target-stopped'
  | WaitLabel
  | 'pause-refused'
  | 'finished-during-pause'
  | 'changed-since-listing'
  | 'unknown-status-now'
  | 'delete-under-way'
  | 'not-archived';

/** Deferrals of items the run sent nothing to: the run cap, the time budget, a stopped target. */
const NOT_ATTEMPTED: ReadonlySet<DeferReason> = new Set(['run-cap', 'time-budget', 'target-stopped']);

/**
 * Outcomes that say nothing was done to an item: a dry run's `would-delete`, and a deferral of an item the run sent
 * nothing to (run cap, time budget, stopped target before its first request; not one it sent a pause, a delete or a
 * look to). A backlog has tens of thousands of them, more than Logs Insights returns and than stdout should buffer,
 * so they are one line each at DEBUG only, and one summary line per target and kind at INFO (outcome-log.ts).
 * Deletions, failures and deferrals after a pause or a wait stay one INFO line each.
 */
export function isQuiet(outcome: Outcome): boolean {
  return outcome.kind === 'would-delete' || (outcome.kind === 'deferred' && NOT_ATTEMPTED.has(outcome.reason) && !outcome.attempted && !outcome.leftPaused);
}

/**
 * Whether the run acted on the item: sent it a pause, a look or a delete, or waited on it (everything but a quiet
 * outcome and an item left unarchived, which nothing was sent to). What a fanned-out target's share of the run cap
 * counts: one run counts every item it queued, and a later round must not take again what an earlier one used.
 */
export function actedOn(outcome: Outcome): boolean {
  return !isQuiet(outcome) && !(outcome.kind === 'deferred' && outcome.reason === 'not-archived');
}

/** A failed request as the summary's failure entry. Messages come from the server or our own error classes. */
export function failureOf(taskId: string, error: unknown): Failure {
  if (error instanceof HttpError) {
    return {
      taskId,
      httpStatus: error.status,
      errorCode: error.errorCode ?? '',
      errorMsg: error.errorMsg ?? '',
      reason: error.redirectHost === undefined ? 'http-error' : 'redirect',
      ...(error.requestId ? { requestId: error.requestId } : {}),
    };
  }
  if (error instanceof TransportError) {
    return { taskId, httpStatus: 0, errorCode: '', errorMsg: error.message, reason: error.kind };
  }
  if (error instanceof OmsResponseError) {
    return { taskId, httpStatus: 0, errorCode: '', errorMsg: error.message, reason: 'invalid-response' };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { taskId, httpStatus: 0, errorCode: '', errorMsg: message, reason: 'error' };
}
