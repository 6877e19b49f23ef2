import { HttpError, TransportError } from '../http/errors.js';
import { OmsResponseError } from '../oms/errors.js';
import type { Failure } from './summary.js';

/** What happened to one selected task in one run. */
export type Outcome =
  | { kind: 'deleted'; alreadyGone: boolean; paused: boolean }
  | { kind: 'would-delete' }
  | { kind: 'deferred'; reason: DeferReason; leftPaused?: boolean }
  | { kind: 'failed'; failure: Failure };

/** Why a task was left for a later run: the listing is the source of truth, so the next run picks it up again. */
export type DeferReason = 'run-cap' | 'time-budget' | 'target-stopped';

/** A failed request as the summary's failure entry. Messages come from the server or our own error classes. */
export function failureOf(taskId: string, error: unknown): Failure {
  if (error instanceof HttpError) {
    return {
      taskId,
      httpStatus: error.status,
      errorCode: error.errorCode ?? '',
      errorMsg: error.errorMsg ?? '',
      reason: 'http-error',
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
