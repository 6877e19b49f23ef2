/** One kind of one target (a lane): listing it (keeping the records the archive needs), holding it back, selecting it. */
import type { LimitFunction } from 'p-limit';
import { HttpError, TransportError } from '../http/errors.js';
import type { EventLog } from '../log/types.js';
import type { OmsClient } from '../oms/client.js';
import { isUnfamiliarAnswer } from '../oms/codes.js';
import { KIND_MODELS, type Kind } from '../oms/kinds.js';
import { compileTaskProtection, protectsTasksByIdOrName } from '../policy/protection.js';
import { mayBeSelected, select } from '../policy/select.js';
import type { Policy, SelectionOptions, Target } from '../policy/types.js';
import type { EngineDeps, PurgeRequest } from './engine-types.js';
import type { Lane, TargetRun } from './run-state.js';
import { logUnfamiliar } from './target-stop.js';

export async function listLane(run: TargetRun, lane: Lane, request: PurgeRequest, deps: EngineDeps, clock: () => number, schedule: LimitFunction): Promise<void> {
  const { target } = run;
  const { kind, tally } = lane;
  // Ages are measured from before the listing, so a slow listing never makes an item look older than it was.
  const nowMs = clock();
  const oms = run.oms as OmsClient; // a target without a client stopped before listing
  const { policy } = request;
  // A real run's archive keeps the full records of what selection may take; the cap bounds them (the run cap, plus
  // what keepLatest windows may hold back: lib/archive/records.ts).
  const keepBack = policy.rules.filter((rule) => rule.kind === kind).reduce((sum, rule) => sum + (rule.keepLatest ?? 0), 0);
  // Progress is only known after the listing: the test counts every in-progress item as stalled (a superset).
  const accepts = mayBeSelected(policy, nowMs, { ...laneOptions(request, target, kind), stalledSince: () => Number.NEGATIVE_INFINITY });
  const onItem = request.dryRun ? undefined : deps.recorder?.itemSink(target, kind, accepts, policy.limits.maxDeletesPerRun + keepBack);
  try {
    const listing = await oms.list(kind, target, { schedule, parallelPages: policy.concurrency, ...(onItem ? { onItem } : {}) });
    tally.listed = listing.tasks.length;
    tally.truncated = listing.truncated;
    if (listing.truncated) deps.log.warn('listing incomplete', { target: target.name, kind, reason: listing.truncation, listed: listing.tasks.length });
    lane.listing = { items: listing.tasks, nowMs };
  } catch (error) {
    tally.error = `listing failed: ${error instanceof Error ? error.message : String(error)}`;
    tally.truncated = true;
    // The answer's status and code at the top level, like a task failure's, so one Logs Insights query finds every
    // 400/403 (a listing refused with 403 is the usual permission problem).
    // A transport failure says which kind (timeout, connection, invalid-response) and why, in errorMsg.
    const answer =
      error instanceof HttpError
        ? { httpStatus: error.status, errorCode: error.errorCode ?? '', errorMsg: error.errorMsg ?? '', requestId: error.requestId ?? null }
        : error instanceof TransportError
          ? { httpStatus: 0, reason: error.kind, errorMsg: error.message }
          : {};
    deps.log.error('listing failed', { target: target.name, kind, outcome: 'listing-failed', ...answer, error });
    if (isUnfamiliarAnswer(error)) logUnfamiliar(deps.log, target.name, kind, error);
  }
}

/**
 * The groups and sync tasks of a target that hold a member task protected by `protect.taskIds` or `protect.names`
 * (their member tasks name them in group_id): deleting one might delete that member along with it, so it is kept.
 * An error when that cannot be known (the task listing failed or is incomplete): then no group or sync task of the
 * target is deleted this run. Undefined when the policy protects no task by id or name.
 */
export function membersHeld(run: TargetRun, policy: Policy): { held: Partial<Record<Kind, Set<string>>> } | { error: string } | undefined {
  if (!protectsTasksByIdOrName(policy.protect) || !run.lanes.some((lane) => lane.kind !== 'task')) return undefined;
  const tasks = run.lanes.find((lane) => lane.kind === 'task');
  if (tasks?.listing === undefined || tasks.tally.truncated) {
    return { error: 'not cleaned: the task listing failed or is incomplete, so a member task that protect.taskIds or protect.names protects could not be ruled out' };
  }
  const isProtected = compileTaskProtection(policy.protect);
  const held = { taskGroup: new Set<string>(), syncTask: new Set<string>() };
  for (const task of tasks.listing.items) {
    if (task.groupId === undefined || !isProtected(task)) continue;
    // The member says whose it is; an unknown group_type widens to both kinds.
    if (task.groupType !== 'SYNC_TASK') held.taskGroup.add(task.groupId);
    if (task.groupType !== 'GROUP_TASK') held.syncTask.add(task.groupId);
  }
  return { held };
}

/** A kind of a target that may not be cleaned this run (see membersHeld): nothing of it is selected. */
export function hold(run: TargetRun, lane: Lane, reason: string, log: EventLog): void {
  lane.tally.error = reason;
  lane.tally.truncated = true;
  log.error('kind not cleaned', { target: run.target.name, kind: lane.kind, reason });
}

export function selectLane(run: TargetRun, lane: Lane, request: PurgeRequest, deps: EngineDeps, heldIds: ReadonlySet<string> | undefined): void {
  const { target } = run;
  const { kind, tally } = lane;
  const noun = KIND_MODELS[kind].noun;
  const { items, nowMs } = lane.listing!;
  const { taskIds, plannedByTarget } = request;
  const grant = request.force?.find((g) => (g.kind === undefined || g.kind === kind) && (g.target === undefined || g.target === target.name));
  const stalledSince = deps.progress?.observe(target.name, kind, items, nowMs, !tally.truncated);
  const watched = { ...(heldIds?.size ? { heldIds } : {}), ...(stalledSince ? { stalledSince } : {}) };
  const options: SelectionOptions = { ...laneOptions(request, target, kind), force: grant !== undefined, ...watched };
  const selection = select(items, request.policy, nowMs, options);
  // Under a notice window the same listing is also judged by the rules alone: what the next notice announces.
  if (request.notice) deps.onAnnounce?.(target, kind, select(items, request.policy, nowMs, watched).selected);
  lane.options = options;
  if (request.taskIds || plannedByTarget) lane.listedIds = items.flatMap((t) => (t.id === null ? [] : [t.id]));
  lane.selection = selection;
  tally.selected = selection.selected.length;
  tally.refused = selection.refused;
  if (!selection.refused && selection.overLimit !== undefined) tally.limitOverridden = true;
  tally.protected = selection.protected;
  tally.kept = selection.kept;
  tally.skipped = selection.skipped.length;
  const from = plannedByTarget ? { from: request.notice ? 'notice' : 'manifest' } : {};
  for (const skip of selection.skipped) deps.log.info(`${noun} skipped`, { target: target.name, kind, [KIND_MODELS[kind].logIdField]: skip.idText, outcome: 'skipped', reason: skip.reason, ...from });
  if (selection.refused) {
    deps.onRefused?.(target, selection.selected);
    const howToProceed = `review the selection (a dry run lists it), then: ${deps.howToForce?.(target.name, kind) ?? 'a run with force'}`;
    deps.log.error('target refused', { target: target.name, kind, reason: `${selection.overLimit}: none of them is touched`, selected: tally.selected, listed: tally.listed, howToProceed });
  } else if (selection.overLimit !== undefined) {
    // Let through by force or by a reviewed acceptance: said at the level of a refusal's sibling, with who allowed it.
    const by = grant?.acceptedBy === undefined ? { by: 'force' } : { by: 'reviewed acceptance', acceptedBy: grant.acceptedBy, acceptedAt: grant.acceptedAt };
    deps.log.warn('limit overridden', { target: target.name, kind, reason: selection.overLimit, selected: tally.selected, listed: tally.listed, ...by });
  }
  deps.log.info('target selected', {
    target: target.name, kind, listed: tally.listed, selected: tally.selected, protected: selection.protected, kept: selection.kept,
    skipped: selection.skipped.length, refused: selection.refused, ...(heldIds?.size ? { heldByProtectedMembers: heldIds.size } : {}),
  });
}

/** What a lane's selection is asked with, before its listing (force and held groups are added after it). */
export function laneOptions(request: PurgeRequest, target: Target, kind: Kind): SelectionOptions {
  const { taskIds, stopFirst, plannedByTarget } = request;
  const planned = plannedByTarget ? (plannedByTarget.get(target.name)?.get(kind) ?? new Map()) : undefined;
  return { taskIds, stopFirst, ...(planned ? { planned } : {}) };
}
