import { randomUUID } from 'node:crypto';
import { setTimeout as sleepMs } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { OmsClient } from '../oms/client.js';
import { isUnfamiliarAnswer } from '../oms/codes.js';
import { KINDS, type Kind } from '../oms/kinds.js';
import { protectsTasksByIdOrName } from '../policy/protection.js';
import { stillSelected } from '../policy/reselect.js';
import { applyRunCap, oldestFirst } from '../policy/select.js';
import type { Candidate } from '../policy/types.js';
import { RunDeclined, type EngineDeps, type PurgeRequest } from './engine-types.js';
import { feed } from './feed.js';
import { hold, listLane, membersHeld, selectLane } from './lane.js';
import { purgeItem, type ItemPurgeDeps } from './item-purge.js';
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
  const sleep = deps.sleep ?? ((ms: number) => sleepMs(ms));
  const budgetLeft = remaining ? { budgetLeftMs: () => remaining() - reserveMs } : {};
  // What purgeItem needs is the same for every item of a target's kind: made once per lane, not once per item (a
  // run may act on 100,000 items).
  const perLane = new Map<Lane, { itemDeps: ItemPurgeDeps; gate: () => DeferReason | undefined }>();
  const laneDeps = (run: TargetRun, lane: Lane) => {
    let made = perLane.get(lane);
    if (made === undefined) {
      const itemDeps: ItemPurgeDeps = {
        oms: run.oms as OmsClient, // only targets that were listed have tasks to purge
        project: run.target,
        schedule,
        sleep,
        clock,
        pollIntervalMs: deps.pollIntervalMs ?? 2000,
        waitIntervalMs: deps.waitIntervalMs ?? 30_000,
        stopTimeoutMs: policy.limits.stopTimeoutMs,
        ...budgetLeft,
        stillSelected: (selected, now) => stillSelected(selected, now, policy, clock(), lane.options),
        onAnswer: (error) => {
          if (isUnfamiliarAnswer(error)) logUnfamiliar(log, run.target.name, lane.kind, error);
          watchAnswers(run, error, log);
          feeder.pump();
        },
      };
      const gate = (): DeferReason | undefined => (run.stopped !== undefined ? 'target-stopped' : remaining && remaining() < reserveMs ? 'time-budget' : undefined);
      perLane.set(lane, (made = { itemDeps, gate }));
    }
    return made;
  };
  const feeder = feed(queue, schedule, policy.concurrency, async ({ run, lane, candidate }) => {
    let outcome: Outcome;
    if (dryRun) outcome = { kind: 'would-delete' };
    else {
      const { itemDeps, gate } = laneDeps(run, lane);
      outcome = await purgeItem(candidate, itemDeps, gate);
    }
    record(run, lane, candidate, outcome, deps, from);
    deps.onProgress?.({ phase: 'purge', done: ++done, total: queue.length });
  });
  await feeder.done;
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
