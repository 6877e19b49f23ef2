import { randomUUID } from 'node:crypto';
import { setTimeout as sleepMs } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { HttpError, TransportError } from '../http/errors.js';
import type { EventLog } from '../log/types.js';
import type { OmsClient } from '../oms/client.js';
import { isUnfamiliarAnswer } from '../oms/codes.js';
import { KIND_MODELS, KINDS, type Kind } from '../oms/kinds.js';
import { compileTaskProtection, protectsTasksByIdOrName } from '../policy/protection.js';
import { stillSelected } from '../policy/reselect.js';
import { applyRunCap, mayBeSelected, oldestFirst, select } from '../policy/select.js';
import type { Candidate, Policy, SelectionOptions, Target } from '../policy/types.js';
import { RunDeclined, type EngineDeps, type PurgeRequest } from './engine-types.js';
import { feed } from './feed.js';
import { purgeItem } from './item-purge.js';
import { planLists, warnUnlisted } from './named-items.js';
import { QuietOutcomes, logOutcome } from './outcome-log.js';
import type { DeferReason, Outcome } from './outcome.js';
import { emptyTally, type Lane, type TargetRun } from './run-state.js';
import { assembleSummary } from './run-summary.js';
import { MAX_FAILURES_LISTED, type RunSummary } from './summary.js';
import { credentialsFailed, logUnfamiliar, watchAnswers } from './target-stop.js';

export { RunDeclined, type EngineDeps, type ForceGrant, type PurgeRequest, type RunRecorder } from './engine-types.js';

/**
 * The kinds a run lists: those the policy has rules for (an explicit purge: tasks only; applying a manifest: also
 * the kinds it planned). A kind nothing asks about is never listed.
 */
function runKinds(request: PurgeRequest): Kind[] {
  if (request.taskIds) return ['task'];
  const planned = [...(request.plannedByTarget?.values() ?? [])].flatMap((byKind) => [...byKind.keys()]);
  const kinds = KINDS.filter((kind) => request.policy.rules.some((rule) => rule.kind === kind) || planned.includes(kind));
  // Deleting a group or sync task may take its member tasks along (not confirmed either way): when the policy
  // protects tasks by id or name, the tasks are listed too, so that a group holding a protected member is kept.
  if (kinds.some((kind) => kind !== 'task') && !kinds.includes('task') && protectsTasksByIdOrName(request.policy.protect)) kinds.unshift('task');
  return kinds;
}

/** list -> select -> cap -> (pause) -> delete, for every target of the request. Never throws for a task's failure. */
export async function runPurge(request: PurgeRequest, deps: EngineDeps): Promise<RunSummary> {
  const clock = deps.clock ?? Date.now;
  const log = deps.log;
  const runId = deps.runId ?? randomUUID();
  const startedAt = new Date(clock()).toISOString();
  const { policy, dryRun } = request;
  const schedule = pLimit(policy.concurrency);
  const wanted = request.targets ? new Set(request.targets) : undefined;
  const kinds = runKinds(request);
  const runs: TargetRun[] = policy.targets
    .filter((target) => !wanted || wanted.has(target.name))
    .map((target) => ({
      target,
      oms: deps.clientFor?.(target) ?? deps.oms,
      lanes: kinds.map((kind) => ({ kind, tally: emptyTally() })),
      consecutive403: 0,
      consecutiveThrottled: 0,
    }));

  log.info('run started', { runId, dryRun, targets: runs.map((r) => r.target.name), kinds, explicitTaskIds: request.taskIds?.length });
  const watching = policy.rules.filter((rule) => rule.noProgressFor !== undefined).map((rule) => rule.name);
  if (watching.length > 0 && deps.progress === undefined) {
    log.warn('progress not watched', { rules: watching, reason: 'noProgressFor needs the archive root, where progress is kept between runs (CLI --archive, stage param archive): these rules select nothing this run' });
  }
  for (const run of runs) if (run.oms instanceof Error) credentialsFailed(run, run.oms, log);
  let listedLanes = 0;
  const lanes = runs.flatMap((run) => (run.stopped === undefined ? run.lanes.map((lane) => ({ run, lane })) : []));
  // Every target and kind is listed at once; each page request takes a slot of the one limiter (a listing holds
  // none itself, so pages never wait for a slot their own listing holds).
  await Promise.all(
    lanes.map(async ({ run, lane }) => {
      await listLane(run, lane, request, deps, clock, schedule);
      deps.onProgress?.({ phase: 'list', done: ++listedLanes, total: lanes.length });
    }),
  );
  // Then each kind is selected, groups and sync tasks knowing which of them hold a protected member task.
  for (const run of runs) {
    const members = membersHeld(run, policy);
    for (const lane of run.lanes) {
      if (lane.listing === undefined) continue;
      if (lane.kind === 'task' || members === undefined) selectLane(run, lane, request, deps, undefined);
      else if ('error' in members) hold(run, lane, members.error, deps.log);
      else selectLane(run, lane, request, deps, members.held[lane.kind]);
      lane.listing = undefined; // the selection keeps what it needs; the rest of the listing can go
    }
  }

  const unlisted = request.taskIds ? warnUnlisted(request.taskIds, runs, log) : undefined;
  const gone = request.plannedByTarget ? planLists(request.plannedByTarget, runs, log) : undefined;

  // The run cap is over every target and kind, oldest first; a refused lane contributes nothing.
  // Applying a manifest, every outcome and skip line says so, beside the rule that matched now.
  const from = request.plannedByTarget ? { from: request.notice ? 'notice' : 'manifest' } : {};
  try {
    await act(runs, request, deps, { runId, schedule, clock, from });
  } finally {
    // Said even when the run ends early (declined, an archive that failed): what was deferred untouched so far.
    for (const run of runs) for (const lane of run.lanes) lane.quiet?.log(log, run.target.name, lane.kind, from);
  }

  return assembleSummary(runs, kinds, { runId, dryRun, startedAt, finishedAt: new Date(clock()).toISOString(), unlisted, gone }, log, deps.closingFields, clock);
}

/**
 * The run cap, the confirmation, the archive, then every queued item: paused, deleted or deferred, oldest first,
 * within the run's limiter. Outcomes go to `record` as they come.
 */
async function act(
  runs: readonly TargetRun[],
  request: PurgeRequest,
  deps: EngineDeps,
  context: { runId: string; schedule: LimitFunction; clock: () => number; from: Record<string, unknown> },
): Promise<void> {
  const { policy, dryRun } = request;
  const { log } = deps;
  const { runId, schedule, clock, from } = context;
  const selectable = runs.flatMap((run) => run.lanes.filter((lane) => lane.selection && !lane.selection.refused).map((lane) => ({ run, lane })));
  const cap = applyRunCap(selectable.map((s) => s.lane.selection!), policy.limits.maxDeletesPerRun);
  const queue: Array<{ run: TargetRun; lane: Lane; candidate: Candidate }> = [];
  selectable.forEach(({ run, lane }, i) => {
    for (const candidate of cap.deferred[i] ?? []) record(run, lane, candidate, { kind: 'deferred', reason: 'run-cap' }, deps, from);
    for (const candidate of cap.run[i] ?? []) queue.push({ run, lane, candidate });
  });
  // Oldest first over all targets (ties: smaller id), the order applyRunCap chose by.
  queue.sort((a, b) => oldestFirst(a.candidate, b.candidate));

  if (!dryRun && queue.length > 0 && deps.confirm) {
    const counts = new Map<string, { target: string; kind: Kind; count: number }>();
    for (const { run, lane } of queue) {
      const key = `${run.target.name}\u0000${lane.kind}`;
      const entry = counts.get(key) ?? counts.set(key, { target: run.target.name, kind: lane.kind, count: 0 }).get(key)!;
      entry.count += 1;
    }
    const order = (c: { target: string; kind: Kind }) => policy.targets.findIndex((t) => t.name === c.target) * KINDS.length + KINDS.indexOf(c.kind);
    if (!(await deps.confirm([...counts.values()].sort((a, b) => order(a) - order(b))))) {
      log.warn('run declined', { runId, queued: queue.length, outcome: 'declined' });
      throw new RunDeclined(queue.length);
    }
  }

  // Nothing is paused or deleted that is not archived first: an item whose record was not kept is left for a later run.
  if (!dryRun && deps.recorder) {
    const unarchived = await deps.recorder.beforeChanges(queue.map(({ run, candidate }) => ({ target: run.target, candidate })));
    if (unarchived.size > 0) {
      log.warn('items not archived', { count: unarchived.size, reason: 'their listed records were not kept (more possible candidates than the run can act on): left for a later run' });
      for (const entry of queue.filter((q) => unarchived.has(q.candidate))) record(entry.run, entry.lane, entry.candidate, { kind: 'deferred', reason: 'not-archived' }, deps, from);
      queue.splice(0, queue.length, ...queue.filter((q) => !unarchived.has(q.candidate)));
    }
  }

  let done = 0;
  const remaining = deps.remainingTimeMs;
  const reserveMs = deps.reserveMs ?? 30_000;
  const feeder = feed(queue, schedule, policy.concurrency, async ({ run, lane, candidate }) => {
    let outcome: Outcome;
    if (dryRun) outcome = { kind: 'would-delete' };
    else {
      const gate = (): DeferReason | undefined =>
        run.stopped !== undefined ? 'target-stopped' : remaining && remaining() < reserveMs ? 'time-budget' : undefined;
      outcome = await purgeItem(
        candidate,
        {
          oms: run.oms as OmsClient, // only targets that were listed have tasks to purge
          project: run.target,
          schedule,
          sleep: deps.sleep ?? ((ms) => sleepMs(ms)),
          clock,
          pollIntervalMs: deps.pollIntervalMs ?? 2000,
          waitIntervalMs: deps.waitIntervalMs ?? 30_000,
          stopTimeoutMs: policy.limits.stopTimeoutMs,
          ...(remaining ? { budgetLeftMs: () => remaining() - reserveMs } : {}),
          stillSelected: (selected, now) => stillSelected(selected, now, policy, clock(), lane.options),
          onAnswer: (error) => {
            if (isUnfamiliarAnswer(error)) logUnfamiliar(log, run.target.name, candidate.item.kind, error);
            watchAnswers(run, error, log);
            feeder.pump();
          },
        },
        gate,
      );
    }
    record(run, lane, candidate, outcome, deps, from);
    deps.onProgress?.({ phase: 'purge', done: ++done, total: queue.length });
  });
  await feeder.done;
}

async function listLane(run: TargetRun, lane: Lane, request: PurgeRequest, deps: EngineDeps, clock: () => number, schedule: LimitFunction): Promise<void> {
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
function membersHeld(run: TargetRun, policy: Policy): { held: Partial<Record<Kind, Set<string>>> } | { error: string } | undefined {
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
function hold(run: TargetRun, lane: Lane, reason: string, log: EventLog): void {
  lane.tally.error = reason;
  lane.tally.truncated = true;
  log.error('kind not cleaned', { target: run.target.name, kind: lane.kind, reason });
}

function selectLane(run: TargetRun, lane: Lane, request: PurgeRequest, deps: EngineDeps, heldIds: ReadonlySet<string> | undefined): void {
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
function laneOptions(request: PurgeRequest, target: Target, kind: Kind): SelectionOptions {
  const { taskIds, stopFirst, plannedByTarget } = request;
  const planned = plannedByTarget ? (plannedByTarget.get(target.name)?.get(kind) ?? new Map()) : undefined;
  return { taskIds, stopFirst, ...(planned ? { planned } : {}) };
}

/** `fields`: what every outcome line of the run adds (`from: manifest` when applying one). */
function record(run: TargetRun, lane: Lane, candidate: Candidate, outcome: Outcome, deps: EngineDeps, fields: Record<string, unknown>): void {
  const { log } = deps;
  const s = lane.tally;
  switch (outcome.kind) {
    case 'deleted':
      s.deleted += 1;
      break;
    case 'would-delete':
      break;
    case 'deferred':
      s.deferred += 1;
      s.truncated = true; // the run stopped short of this target's selection: a later run has more to do
      if (s.deferredItems.length < MAX_FAILURES_LISTED) s.deferredItems.push({ id: candidate.item.id, reason: outcome.reason });
      else s.deferredOmitted = (s.deferredOmitted ?? 0) + 1;
      break;
    case 'failed': {
      s.failed += 1;
      if (s.failures.length < MAX_FAILURES_LISTED) s.failures.push(outcome.failure);
      else s.failuresOmitted = (s.failuresOmitted ?? 0) + 1;
      break;
    }
  }
  logOutcome(log, run.target.name, candidate, outcome, fields);
  (lane.quiet ??= new QuietOutcomes()).add(candidate, outcome);
  deps.onOutcome?.(run.target, candidate, outcome);
}
