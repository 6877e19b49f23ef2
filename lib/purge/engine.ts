import { randomUUID } from 'node:crypto';
import { setTimeout as sleepMs } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { AuthError } from '../auth/errors.js';
import { HttpError, TransportError } from '../http/errors.js';
import type { EventLog } from '../log/types.js';
import type { OmsClient } from '../oms/client.js';
import { KIND_MODELS, KINDS, type Kind } from '../oms/kinds.js';
import type { Item } from '../oms/item.js';
import { compileTaskProtection, protectsTasksByIdOrName } from '../policy/protection.js';
import { stillSelected } from '../policy/reselect.js';
import { applyRunCap, mayBeSelected, oldestFirst, select } from '../policy/select.js';
import { isUnfamiliarAnswer } from '../oms/codes.js';
import type { Candidate, PlannedItems, Policy, SelectionOptions, Target, TargetSelection } from '../policy/types.js';
import { QuietOutcomes, logOutcome } from './outcome-log.js';
import { feed } from './feed.js';
import type { DeferReason, Outcome } from './outcome.js';
import { BLOCK_KEYS, MAX_FAILURES_LISTED, addTotals, emptyTotals, type DeferredItem, type Failure, type KindSummary, type RunSummary, type TargetSummary, type Totals } from './summary.js';
import { purgeItem } from './item-purge.js';

/** One run, as the CLI or the Lambda handler asked for it (validated by lib/purge/request.ts). */
export interface PurgeRequest extends Omit<SelectionOptions, 'planned' | 'force'> {
  policy: Policy;
  /** Who may pass the maxDeletePercent refusal: each grant lets through what it names (lib/purge/request.ts). */
  force?: readonly ForceGrant[];
  dryRun: boolean;
  /** Target names to run; default all. */
  targets?: string[];
  /** Applying a manifest: its items by target, then kind, then id (lib/purge/manifest.ts plannedByTarget). Exclusive of taskIds. */
  plannedByTarget?: ReadonlyMap<string, PlannedItems>;
  /**
   * A run under a notice window (lib/notice): `plannedByTarget` holds the announced items now due, judged exactly as
   * a manifest's; every lane is also selected by the rules, for the next announcement (EngineDeps.onAnnounce).
   * Outcome lines say `from: notice`.
   */
  notice?: true;
}

/**
 * A let-through of the limits.maxDeletePercent refusal, for the kinds and targets it names (absent: every one):
 * `--force` is `{}`, `--force syncTask` is `{kind: 'syncTask'}`, and a reviewed acceptance (`plan --accept-over-limit`,
 * recorded in the manifest) names its target and kind, with who accepted it and when.
 */
export interface ForceGrant {
  target?: string;
  kind?: Kind;
  acceptedBy?: string;
  acceptedAt?: string;
}

/** What a real run's archive needs from the engine (lib/archive/run-archive.ts implements it). */
export interface RunRecorder {
  /**
   * Before a lane is listed: the sink its items go through as they are parsed. `accepts` holds for every item the
   * lane's selection can take (lib/policy/select.ts mayBeSelected); the run acts on at most `cap` of them.
   */
  itemSink(target: Target, kind: Kind, accepts: (item: Item) => boolean, cap: number): (item: Item, raw: unknown) => void;
  /**
   * After selection and confirmation, before the first pause or delete (also when there is none): the run's queue.
   * Resolves to the candidates it could not record (deferred `not-archived`, never acted on); rejects when nothing
   * could be recorded (the run then acts on nothing and fails).
   */
  beforeChanges(queue: readonly { target: Target; candidate: Candidate }[]): Promise<ReadonlySet<Candidate>>;
}

export interface EngineDeps {
  oms: OmsClient;
  /**
   * The client of a target that has credentials of its own (another account; lib/purge/runtime.ts), or the reason
   * it has none: that target stops before any request, the others go on. Default: `oms` for every target.
   */
  clientFor?: (target: Target) => OmsClient | Error;
  log: EventLog;
  /** Default Date.now. */
  clock?: () => number;
  /** Lambda's context.getRemainingTimeInMillis; absent = no time budget (the CLI). */
  remainingTimeMs?: () => number;
  /** No new task starts when less than this remains. Default 30000 ms. */
  reserveMs?: number;
  /** The longest wait between looks at an item this run paused. Default 2000 ms. */
  pollIntervalMs?: number;
  /**
   * The longest wait between looks at an item OMS would not pause or delete just now, or one in a state that can
   * only be waited out (a creating group). Default 30000 ms.
   */
  waitIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  runId?: string;
  onProgress?: (progress: { phase: 'list' | 'purge'; done: number; total: number }) => void;
  /** Told every selected task's outcome (the `plan` table is built from these). */
  onOutcome?: (target: Target, candidate: Candidate, outcome: Outcome) => void;
  /**
   * Told the selection of a refused target (which gets no outcomes: nothing in it is touched), so that `plan` can
   * list it for review before a forced run.
   */
  onRefused?: (target: Target, selected: readonly Candidate[]) => void;
  /**
   * How an operator lets a refused target through, in the caller's terms (the CLI command, the Lambda event), for
   * the `target refused` log line. Default: a generic hint.
   */
  howToForce?: (target: string, kind: Kind) => string;
  /**
   * Asked once, after selection and before the first pause or delete of a real run that has anything to do, with the
   * counts per target and kind: false ends the run there (RunDeclined), nothing changed. The CLI asks the person at
   * the terminal; absent, nobody is asked.
   */
  confirm?: (going: readonly { target: string; kind: Kind; count: number }[]) => Promise<boolean>;
  /**
   * A real run's archive (lib/archive/run-archive.ts): it keeps the full records of possible candidates as the
   * listings stream in, and records the run's queue before the first pause or delete. Not used by dry runs.
   */
  recorder?: RunRecorder;
  /**
   * The progress of in-progress items across runs (lib/archive/progress.ts ProgressRecord), for rules with
   * `noProgressFor`: told each listing, it answers since when an item has not moved. Absent: such rules match nothing.
   */
  progress?: { observe(target: string, kind: Kind, items: readonly Item[], nowMs: number, complete: boolean): (item: Item) => number | undefined };
  /**
   * A run under a notice window: what the policy's rules select now in each target and kind (never acted on by
   * this selection; the run's notice announces it).
   */
  onAnnounce?: (target: Target, kind: Kind, selected: readonly Candidate[]) => void;
  /** More fields for the closing `run finished` line (the HTTP layer's counters), read when the run ends. */
  closingFields?: () => Record<string, unknown>;
}

/** One kind of one target: its listing, selection and counters. */
interface Lane {
  kind: Kind;
  tally: Tally;
  /** Between listing and selection only: what was listed, and when the listing started (ages are measured from it). */
  listing?: { items: Item[]; nowMs: number };
  selection?: TargetSelection;
  /** What the selection was asked with: judging again an item a look shows changed uses the same (lib/policy/reselect.ts). */
  options?: SelectionOptions;
  /** Valid ids of the listing, kept only for explicit purges and manifests (to report named items no listing had). */
  listedIds?: string[];
  /** Dry-run and not-attempted outcomes, summarised at INFO when the run ends (lib/purge/outcome-log.ts). */
  quiet?: QuietOutcomes;
}

/** A lane's counters: a KindSummary (tasks: the target's own fields) being filled. */
interface Tally extends Totals {
  refused: boolean;
  /** The selection was over limits.maxDeletePercent and let through (force, or an acceptance in the manifest). */
  limitOverridden?: true;
  truncated: boolean;
  failures: Failure[];
  failuresOmitted?: number;
  /** The first MAX_FAILURES_LISTED deferred items, by id, with why; the rest counted. */
  deferredItems: DeferredItem[];
  deferredOmitted?: number;
  /** Listing this kind failed: why. */
  error?: string;
}

interface TargetRun {
  target: Target;
  /** This target's client, or why it has none (its credentials failed). */
  oms: OmsClient | Error;
  /** One per kind of the run, in KINDS order. */
  lanes: Lane[];
  /** The target stopped (its credentials failed, 5 403s or 5 throttled requests in a row, a 401): why. Every kind
   * of it stops: they share the credentials and the project. */
  stopped?: string;
  consecutive403: number;
  /** Requests in a row that ended throttled (429 after every retry). */
  consecutiveThrottled: number;
}

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

  const summary: RunSummary = {
    runId,
    dryRun,
    startedAt,
    finishedAt: new Date(clock()).toISOString(),
    totals: emptyTotals(),
    targets: [],
    ...(unlisted?.notFound.length ? { notFound: unlisted.notFound } : {}),
    ...(unlisted?.notSelected.length ? { notSelected: unlisted.notSelected } : {}),
    ...nonEmpty(gone),
  };
  for (const kind of kinds) {
    const key = BLOCK_KEYS[kind as keyof typeof BLOCK_KEYS];
    if (key) summary[key] = emptyTotals();
  }
  for (const run of runs) {
    const target = targetSummary(run, gone?.byLane);
    summary.targets.push(target);
    for (const lane of run.lanes) {
      const key = BLOCK_KEYS[lane.kind as keyof typeof BLOCK_KEYS];
      addTotals(key ? summary[key]! : summary.totals, lane.tally);
    }
  }
  log.info('run finished', {
    runId,
    dryRun,
    totals: summary.totals,
    ...(summary.taskGroups ? { taskGroups: summary.taskGroups } : {}),
    ...(summary.syncTasks ? { syncTasks: summary.syncTasks } : {}),
    durationMs: clock() - Date.parse(startedAt), ...deps.closingFields?.() });
  return summary;
}

/** The person asked before a real run (EngineDeps.confirm) said no: nothing was paused or deleted. */
export class RunDeclined extends Error {
  override name = 'RunDeclined';
  constructor(readonly queued: number) {
    super(`not confirmed: nothing was paused or deleted (${queued} item(s) would have gone)`);
  }
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

/** Its own credentials could not be read or used: nothing is sent for this target (and never another account's
 * credentials instead). */
function credentialsFailed(run: TargetRun, error: Error, log: EventLog): void {
  run.stopped = `stopped: its credentials failed: ${error.message}`;
  for (const lane of run.lanes) lane.tally.truncated = true;
  log.error('target stopped', { target: run.target.name, reason: run.stopped, secretId: run.target.credentials?.secretId });
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

/**
 * An answer whose code no Huawei document the janitor was built from names (lib/oms/codes.ts), logged in full under
 * one fixed message, so that the first runs against a real account show at a glance what nobody foresaw.
 */
function logUnfamiliar(log: EventLog, target: string, kind: Kind, error: HttpError): void {
  log.warn('unfamiliar OMS answer', {
    target, kind, call: `${error.method} ${error.path}`, httpStatus: error.status, errorCode: error.errorCode ?? '', errorMsg: error.errorMsg ?? '', requestId: error.requestId ?? null,
  });
}

/** Requests in a row, in one target, that end the same bad way before the target stops (403s, or throttled). */
export const STOP_AFTER_IN_A_ROW = 5;

/**
 * Stops a target whose answers say that going on cannot help: five 403s in a row (permissions), five requests in a
 * row that stayed throttled through every retry (a throttling storm: the next run tries again), or a 401 that
 * re-authentication could not cure (a wrong AK/SK would otherwise be locked by Huawei after 5 failures).
 */
function watchAnswers(run: TargetRun, error: unknown, log: EventLog): void {
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

/**
 * An explicit purge says what became of every named task it will not delete, rather than finishing quietly as if
 * it had worked: not in any listing, or listed but protected or kept by a keepLatest window (skipped ones already
 * have their own line). A log line each, and the ids for the summary.
 */
function warnUnlisted(taskIds: readonly string[], runs: readonly TargetRun[], log: EventLog): { notFound: string[]; notSelected: string[] } {
  // An explicit purge lists tasks only (runKinds), so every lane here is a task lane.
  const taskLanes = runs.flatMap((run) => run.lanes.filter((lane) => lane.kind === 'task'));
  const listed = new Set(taskLanes.flatMap((lane) => lane.listedIds ?? []));
  const chosen = new Set(taskLanes.flatMap((lane) => [...(lane.selection?.selected ?? []).map((c) => c.item.id), ...(lane.selection?.skipped ?? []).map((s) => s.idText)]));
  const notFound: string[] = [];
  const notSelected: string[] = [];
  for (const taskId of taskIds) {
    if (!listed.has(taskId)) {
      notFound.push(taskId);
      log.warn('task not found in any listing', { taskId, outcome: 'not-found', targets: runs.map((r) => r.target.name) });
    } else if (!chosen.has(taskId)) {
      notSelected.push(taskId);
      log.warn('named task left alone: protected, or kept by a keepLatest window', { taskId, outcome: 'not-selected' });
    }
  }
  return { notFound, notSelected };
}

/** Applying a manifest: what became of planned items that were not selected, by id (lib/purge/summary.ts). */
interface PlanLists {
  alreadyGone: string[];
  notFound: string[];
  changedSincePlan: string[];
  noRuleNow: string[];
}
const PLAN_LIST_KEYS = ['alreadyGone', 'notFound', 'changedSincePlan', 'noRuleNow'] as const;
const emptyPlanLists = (): PlanLists => ({ alreadyGone: [], notFound: [], changedSincePlan: [], noRuleNow: [] });

/**
 * Applying a manifest, what became of the planned items the run did not select, by id: the ones the fresh listing
 * does not hold are already gone when the listing is complete (deleted by hand, or by a run killed half-way), and
 * only "not found" when it stopped short (they may be in the part not seen; nothing is done with them either way);
 * the listed ones skipped as changed since the plan, or that no rule of the current policy selects now, by their
 * skip reason. A log line for each gone or not found one (the skipped ones have theirs); the task ids for the
 * summary's top-level lists, the other kinds' for their blocks.
 */
function planLists(planned: ReadonlyMap<string, PlannedItems>, runs: readonly TargetRun[], log: EventLog): PlanLists & { byLane: Map<Lane, PlanLists> } {
  const top = emptyPlanLists();
  const byLane = new Map<Lane, PlanLists>();
  const listsOf = (lane: Lane) => (lane.kind === 'task' ? top : (byLane.get(lane) ?? byLane.set(lane, emptyPlanLists()).get(lane)!));
  for (const run of runs) {
    for (const lane of run.lanes) {
      // A lane whose listing failed has nothing to say about its items: its error says why.
      if (lane.listedIds === undefined) continue;
      const lists = listsOf(lane);
      for (const skip of lane.selection?.skipped ?? []) {
        if (skip.reason === 'changed-since-plan') lists.changedSincePlan.push(skip.idText);
        else if (skip.reason === 'no-rule-now') lists.noRuleNow.push(skip.idText);
      }
      const listed = new Set(lane.listedIds);
      const idField = KIND_MODELS[lane.kind].logIdField;
      for (const id of planned.get(run.target.name)?.get(lane.kind)?.keys() ?? []) {
        if (listed.has(id)) continue;
        if (lane.tally.truncated) {
          lists.notFound.push(id);
          log.warn(`planned ${KIND_MODELS[lane.kind].noun} not seen: the listing is incomplete`, { target: run.target.name, kind: lane.kind, [idField]: id, outcome: 'not-found' });
        } else {
          lists.alreadyGone.push(id);
          log.info(`planned ${KIND_MODELS[lane.kind].noun} already gone`, { target: run.target.name, kind: lane.kind, [idField]: id, outcome: 'already-gone' });
        }
      }
    }
  }
  return { ...top, byLane };
}

/** The non-empty lists, as summary fields. */
function nonEmpty(lists: PlanLists | undefined): Partial<PlanLists> {
  return Object.fromEntries(PLAN_LIST_KEYS.filter((key) => (lists?.[key].length ?? 0) > 0).map((key) => [key, lists![key]]));
}

/** The deferred items of a lane as summary fields, when there are any: tasks by `taskId`, other kinds by `id`. */
function deferredFields(tally: Tally, idField: 'taskId' | 'id') {
  if (tally.deferredItems.length === 0) return {};
  return {
    deferredItems: tally.deferredItems.map(({ id, reason }) => ({ [idField]: id, reason })),
    ...(tally.deferredOmitted ? { deferredOmitted: tally.deferredOmitted } : {}),
  };
}

function emptyTally(): Tally {
  return { ...emptyTotals(), refused: false, truncated: false, failures: [], deferredItems: [] };
}

/**
 * The target's summary: the task lane in the target's own fields, as they always were (zeros when the run lists no
 * tasks), and a block per other kind. A stopped target says so in each of them.
 */
function targetSummary(run: TargetRun, goneByLane: ReadonlyMap<Lane, PlanLists> | undefined): TargetSummary {
  const { target, stopped } = run;
  const tasks = run.lanes.find((lane) => lane.kind === 'task')?.tally ?? { ...emptyTally(), truncated: stopped !== undefined };
  const error = stopped ?? tasks.error;
  const summary: TargetSummary = {
    name: target.name,
    projectId: target.projectId,
    listed: tasks.listed,
    selected: tasks.selected,
    deleted: tasks.deleted,
    failed: tasks.failed,
    deferred: tasks.deferred,
    refused: tasks.refused,
    ...(tasks.limitOverridden ? { limitOverridden: true as const } : {}),
    truncated: tasks.truncated,
    failures: tasks.failures,
    ...(tasks.failuresOmitted ? { failuresOmitted: tasks.failuresOmitted } : {}),
    ...deferredFields(tasks, 'taskId'),
    ...(error === undefined ? {} : { error }),
  };
  for (const lane of run.lanes) {
    const key = BLOCK_KEYS[lane.kind as keyof typeof BLOCK_KEYS];
    if (!key) continue;
    const { failures, error: laneError, failuresOmitted, deferredItems: _items, deferredOmitted: _omitted, ...counters } = lane.tally;
    const blockError = stopped ?? laneError;
    const gone = goneByLane?.get(lane);
    const block: KindSummary = {
      ...counters,
      failures: failures.map(({ taskId, ...rest }) => ({ id: taskId, ...rest })),
      ...(failuresOmitted ? { failuresOmitted } : {}),
      ...deferredFields(lane.tally, 'id'),
      ...(blockError === undefined ? {} : { error: blockError }),
      ...nonEmpty(gone),
    };
    summary[key] = block;
  }
  return summary;
}
