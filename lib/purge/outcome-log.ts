import type { EventLog } from '../log/types.js';
import type { Candidate } from '../policy/types.js';
import type { Outcome } from './outcome.js';

/**
 * The one log line per task outcome. 400 and 403 answers carry taskId, httpStatus, errorCode, errorMsg, requestId
 * and target; a 403 is logged at error level, a 400 at warn.
 */
export function logOutcome(log: EventLog, target: string, candidate: Candidate, outcome: Outcome, status: string | undefined): void {
  const base = { taskId: candidate.task.id, target, rule: candidate.rule, status, name: candidate.task.name };
  switch (outcome.kind) {
    case 'deleted':
      log.info('task deleted', { ...base, outcome: 'deleted', ...(outcome.alreadyGone ? { detail: 'already-gone' } : {}), ...(outcome.paused ? { paused: true } : {}) });
      return;
    case 'would-delete':
      log.info('task would be deleted (dry run)', { ...base, outcome: 'would-delete' });
      return;
    case 'deferred':
      log.info('task deferred', { ...base, outcome: 'deferred', reason: outcome.reason, ...(outcome.leftPaused ? { detail: 'paused-not-deleted' } : {}) });
      return;
    case 'failed': {
      const f = outcome.failure;
      const fields = { ...base, outcome: 'failed', reason: f.reason, httpStatus: f.httpStatus, errorCode: f.errorCode, errorMsg: f.errorMsg, requestId: f.requestId ?? null };
      if (f.httpStatus === 400) log.warn('task delete refused (HTTP 400)', fields);
      else if (f.httpStatus === 403) log.error('task delete forbidden (HTTP 403)', fields);
      else log.error('task failed', fields);
    }
  }
}
