import { HttpError, TransportError } from '../http/errors.js';
import { OmsResponseError } from '../oms/errors.js';
import type { Failure } from './summary.js';

/** What happened to one selected task in one run. */
export type Outcome =
  | { kind: 'deleted'; alreadyGone: boolean; paused: boolean }
  | { kind: 'would-delete' }
  | { kind: 'deferred'; reason: DeferReason; leftPaused?: boolean }
  | { kind: 'failed'; failure: Failure };

/**
 * Why a task was left for a later run: the listing is the source of truth, so the next run picks it up again.
 * - run-cap: over limits.maxDeletesPerRun; time-budget: too little Lambda time left;
 * - target-stopped: its target stopped (5 403s or 5 throttled requests in a row, a 401);
 * - finished-during-pause: a stopFirst task that succeeded or failed before it was paused (not deleted: the next
 *   run judges it as the finished task it is now); unknown-status-after-pause: its status after the pause is one
 *   the janitor does not know;
 * - delete-under-way: a task group that, looked at after our pause, was already being deleted (status 8 or 9) by
 *   someone else: nothing more is sent; the next listing shows how that delete ended;
 * - in-progress-since-listing: listed paused, its delete refused as "in progress" (paused a moment before), and a
 *   look found it running again (someone resumed it): it is not paused by the janitor, the next run judges it.
 */
export type DeferReason = 'run-cap' | 'time-budget' | 'target-stopped' | 'finished-during-pause' | 'unknown-status-after-pause' | 'in-progress-since-listing' | 'delete-under-way';

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
