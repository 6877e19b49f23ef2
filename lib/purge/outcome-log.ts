import type { EventLog } from '../log/types.js';
import type { Candidate } from '../policy/types.js';
import { isQuiet, type Outcome } from './outcome.js';
import { KIND_MODELS, statusName, type Kind } from '../oms/kinds.js';

/** How many ids a summary line names (the first ones, in the order the run took them: oldest first). */
export const FIRST_IDS_LOGGED = 20;

/** The quiet outcomes of one target and kind, counted, for their INFO summary lines. */
export class QuietOutcomes {
  private readonly groups = new Map<'would-delete' | 'deferred', { count: number; by: Map<string, number>; firstIds: string[] }>();

  add(candidate: Candidate, outcome: Outcome): void {
    if (!isQuiet(outcome)) return;
    const key = outcome.kind === 'would-delete' ? 'would-delete' : 'deferred';
    const group = this.groups.get(key) ?? this.groups.set(key, { count: 0, by: new Map(), firstIds: [] }).get(key)!;
    group.count += 1;
    // A dry run's items by the rule that selected them, deferrals by their reason.
    const by = outcome.kind === 'deferred' ? outcome.reason : candidate.rule;
    group.by.set(by, (group.by.get(by) ?? 0) + 1);
    if (group.firstIds.length < FIRST_IDS_LOGGED) group.firstIds.push(candidate.item.id);
  }

  /**
   * One INFO line per kind of outcome: `tasks would be deleted (dry run)`, `task groups deferred`, with `summary`
   * (not `outcome`, so that a query counting outcome lines counts items), `count`, `byRule` or `byReason`, and the
   * first ids.
   */
  log(log: EventLog, target: string, kind: Kind, extra: Record<string, unknown> = {}): void {
    const noun = KIND_MODELS[kind].noun;
    for (const [what, group] of this.groups) {
      const by = Object.fromEntries(group.by);
      log.info(what === 'would-delete' ? `${noun}s would be deleted (dry run)` : `${noun}s deferred`, {
        target,
        kind,
        summary: what,
        count: group.count,
        ...(what === 'would-delete' ? { byRule: by } : { byReason: by }),
        firstIds: group.firstIds,
        ...(group.count > group.firstIds.length ? { moreIds: group.count - group.firstIds.length } : {}),
        ...extra,
      });
    }
  }
}

/**
 * The one log line per outcome, for every kind: `kind`, the id under its kind's field (KindModel.logIdField), target, rule,
 * status, and the name (tasks) or description (the other kinds). 400 and 403 answers carry httpStatus, errorCode,
 * errorMsg and requestId; a 403 is logged at error level, a 400 at warn. Messages start with the kind's noun
 * (`task deleted`, `task group deleted`). `extra` adds run-wide fields (`from: manifest` when applying one). Quiet
 * outcomes (isQuiet) are written at DEBUG.
 */
export function logOutcome(log: EventLog, target: string, candidate: Candidate, outcome: Outcome, extra: Record<string, unknown> = {}): void {
  const { item } = candidate;
  const { noun, logIdField } = KIND_MODELS[item.kind];
  // One object per line, filled in the order the fields are written (no intermediate objects: a run logs one line
  // per item it touches).
  const fields: Record<string, unknown> = { kind: item.kind, [logIdField]: item.id, target, rule: candidate.rule, status: statusName(item.kind, item.status) };
  if (item.kind === 'task') fields.name = item.name;
  else {
    fields.description = item.description ?? '';
    fields.sourceBucket = item.srcBucket ?? '';
    fields.destinationBucket = item.dstBucket ?? '';
  }
  for (const key in extra) fields[key] = extra[key];
  switch (outcome.kind) {
    case 'deleted':
      fields.outcome = 'deleted';
      if (outcome.alreadyGone) fields.detail = 'already-gone';
      if (outcome.paused) fields.paused = true;
      log.info(`${noun} deleted`, fields);
      return;
    case 'would-delete':
      fields.outcome = 'would-delete';
      log.debug(`${noun} would be deleted (dry run)`, fields);
      return;
    case 'deferred': {
      fields.outcome = 'deferred';
      fields.reason = outcome.reason;
      if (outcome.leftPaused) fields.detail = 'paused-not-deleted';
      if (outcome.attempted) fields.attempted = true;
      if (isQuiet(outcome)) log.debug(`${noun} deferred`, fields);
      else log.info(`${noun} deferred`, fields);
      return;
    }
    case 'failed': {
      const f = outcome.failure;
      Object.assign(fields, { outcome: 'failed', reason: f.reason, httpStatus: f.httpStatus, errorCode: f.errorCode, errorMsg: f.errorMsg, requestId: f.requestId ?? null });
      if (f.httpStatus === 400) log.warn(`${noun} delete refused (HTTP 400)`, fields);
      else if (f.httpStatus === 403) log.error(`${noun} delete forbidden (HTTP 403)`, fields);
      else log.error(`${noun} failed`, fields);
    }
  }
}
