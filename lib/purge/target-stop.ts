/** When a target stops: its credentials failed, or its answers say that going on cannot help. */
import { AuthError } from '../auth/errors.js';
import { HttpError } from '../http/errors.js';
import type { EventLog } from '../log/types.js';
import type { Kind } from '../oms/kinds.js';
import type { TargetRun } from './run-state.js';

/** Requests in a row, in one target, that end the same bad way before the target stops (403s, or throttled). */
export const STOP_AFTER_IN_A_ROW = 5;

/** Its own credentials could not be read or used: nothing is sent for this target (and never another account's
 * credentials instead). */
export function credentialsFailed(run: TargetRun, error: Error, log: EventLog): void {
  run.stopped = `stopped: its credentials failed: ${error.message}`;
  for (const lane of run.lanes) lane.tally.truncated = true;
  log.error('target stopped', { target: run.target.name, reason: run.stopped, secretId: run.target.credentials?.secretId });
}

/**
 * An answer whose code no Huawei document the janitor was built from names (lib/oms/codes.ts), logged in full under
 * one fixed message, so that the first runs against a real account show at a glance what nobody foresaw.
 */
export function logUnfamiliar(log: EventLog, target: string, kind: Kind, error: HttpError): void {
  log.warn('unfamiliar OMS answer', {
    target, kind, call: `${error.method} ${error.path}`, httpStatus: error.status, errorCode: error.errorCode ?? '', errorMsg: error.errorMsg ?? '', requestId: error.requestId ?? null,
  });
}

/**
 * Stops a target whose answers say that going on cannot help: five 403s in a row (permissions), five requests in a
 * row that stayed throttled through every retry (a throttling storm: the next run tries again), or a 401 that
 * re-authentication could not cure (a wrong AK/SK would otherwise be locked by Huawei after 5 failures).
 */
export function watchAnswers(run: TargetRun, error: unknown, log: EventLog): void {
  if (error instanceof AuthError && run.stopped === undefined) {
    // The credentials cannot be used at all (IAM refused the password, or the AK/SK was refused elsewhere).
    run.stopped = `stopped: ${error.message}`;
    log.error('target stopped', { target: run.target.name, reason: run.stopped });
    return;
  }
  if (!(error instanceof HttpError)) {
    if (error === undefined) {
      run.consecutive403 = 0;
      run.consecutiveThrottled = 0;
    }
    return;
  }
  run.consecutive403 = error.status === 403 ? run.consecutive403 + 1 : 0;
  run.consecutiveThrottled = error.status === 429 ? run.consecutiveThrottled + 1 : 0;
  if (run.stopped !== undefined) return;
  if (run.consecutive403 >= STOP_AFTER_IN_A_ROW) {
    run.stopped = `stopped after ${STOP_AFTER_IN_A_ROW} consecutive 403 answers: the credentials lack permission for this project`;
  } else if (run.consecutiveThrottled >= STOP_AFTER_IN_A_ROW) {
    run.stopped = `stopped after ${STOP_AFTER_IN_A_ROW} requests in a row stayed throttled (HTTP 429) through every retry: the rest is left for the next run`;
  } else if (error.status === 401) {
    const code = error.errorCode && error.errorCode !== '401' ? ` ${error.errorCode}` : '';
    run.stopped = `stopped: authentication was refused (HTTP 401${code}); check the credentials`;
  } else return;
  log.error('target stopped', { target: run.target.name, reason: run.stopped });
}
