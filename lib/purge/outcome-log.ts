import type { EventLog } from '../log/types.js';
import type { Candidate } from '../policy/types.js';
import type { Outcome } from './outcome.js';
import { KIND_MODELS, statusName } from '../oms/kinds.js';

/**
 * The one log line per outcome, for every kind: `kind`, the id under its kind's field (KindModel.logIdField), target, rule,
 * status, and the name (tasks) or description (the other kinds). 400 and 403 answers carry httpStatus, errorCode,
 * errorMsg and requestId; a 403 is logged at error level, a 400 at warn. Messages start with the kind's noun
 * (`task deleted`, `task group deleted`). `extra` adds run-wide fields (`from: manifest` when applying one).
 */
export function logOutcome(log: EventLog, target: string, candidate: Candidate, outcome: Outcome, extra: Record<string, unknown> = {}): void {
  const { item } = candidate;
  const { noun, logIdField } = KIND_MODELS[item.kind];
  const status = statusName(item.kind, item.status);
  const about = item.kind === 'task' ? { name: item.name } : { description: item.description ?? '', sourceBucket: item.srcBucket ?? '', destinationBucket: item.dstBucket ?? '' };
  const base = { kind: item.kind, [logIdField]: item.id, target, rule: candidate.rule, status, ...about, ...extra };
  switch (outcome.kind) {
    case 'deleted':
      log.info(`${noun} deleted`, { ...base, outcome: 'deleted', ...(outcome.alreadyGone ? { detail: 'already-gone' } : {}), ...(outcome.paused ? { paused: true } : {}) });
      return;
    case 'would-delete':
      log.info(`${noun} would be deleted (dry run)`, { ...base, outcome: 'would-delete' });
      return;
    case 'deferred':
      log.info(`${noun} deferred`, { ...base, outcome: 'deferred', reason: outcome.reason, ...(outcome.leftPaused ? { detail: 'paused-not-deleted' } : {}) });
      return;
    case 'failed': {
      const f = outcome.failure;
      const fields = { ...base, outcome: 'failed', reason: f.reason, httpStatus: f.httpStatus, errorCode: f.errorCode, errorMsg: f.errorMsg, requestId: f.requestId ?? null };
      if (f.httpStatus === 400) log.warn(`${noun} delete refused (HTTP 400)`, fields);
      else if (f.httpStatus === 403) log.error(`${noun} delete forbidden (HTTP 403)`, fields);
      else log.error(`${noun} failed`, fields);
    }
  }
}
