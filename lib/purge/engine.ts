import { randomUUID } from 'node:crypto';
import { setTimeout as sleepMs } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { HttpError, TransportError } from '../http/errors.js';
import type { EventLog } from '../log/types.js';
import type { OmsClient } from '../oms/client.js';
import { statusName } from '../oms/status.js';
import { applyRunCap, oldestFirst, select } from '../policy/select.js';
import type { Candidate, PlannedTask, Policy, SelectionOptions, Target, TargetSelection } from '../policy/types.js';
import { logOutcome } from './outcome-log.js';
import { feed } from './feed.js';
import type { DeferReason, Outcome } from './outcome.js';
import { MAX_FAILURES_LISTED, emptyTotals, type RunSummary, type TargetSummary } from './summary.js';
import { purgeTask } from './task-purge.js';

/** One run, as the CLI or the Lambda handler asked for it (validated by lib/purge/request.ts). */
export interface PurgeRequest extends Omit<SelectionOptions, 'planned'> {
  policy: Policy;
  dryRun: boolean;
  /** Target names to run; default all. */
  targets?: string[];
  /** Applying a manifest: its tasks by target, then id (lib/purge/manifest.ts plannedByTarget). Exclusive of taskIds. */
  plannedByTarget?: ReadonlyMap<string, ReadonlyMap<string, PlannedTask>>;
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
  /** stopFirst polling interval. Default 2000 ms. */
  pollIntervalMs?: number;
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
  howToForce?: (target: string) => string;
  /** More fields for the closing `run finished` line (the HTTP layer's counters), read when the run ends. */
  closingFields?: () => Record<string, unknown>;
}

interface TargetRun {
  target: Target;
  /** This target's client, or why it has none (its credentials failed). */
  oms: OmsClient | Error;
  summary: TargetSummary;
  selection?: TargetSelection;
  /** Valid ids of the listing, kept only for explicit purges (to report named tasks no listing had). */
  listedIds?: string[];
  consecutive403: number;
  /** Requests in a row that ended throttled (429 after every retry). */
  consecutiveThrottled: number;
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
  const runs: TargetRun[] = policy.targets
    .filter((target) => !wanted || wanted.has(target.name))
    .map((target) => ({ target, oms: deps.clientFor?.(target) ?? deps.oms, summary: emptyTarget(target), consecutive403: 0, consecutiveThrottled: 0 }));

  log.info('run started', { runId, dryRun, targets: runs.map((r) => r.target.name), explicitTaskIds: request.taskIds?.length });
  let listedTargets = 0;
  // Every target is listed at once; each page request takes a slot of the one limiter (a listing holds none itself,
  // so pages never wait for a slot their own listing holds).
  await Promise.all(
    runs.map(async (run) => {
      await listAndSelect(run, request, deps, clock, schedule);
      deps.onProgress?.({ phase: 'list', done: ++listedTargets, total: runs.length });
    }),
  );

  const unlisted = request.taskIds ? warnUnlisted(request.taskIds, runs, log) : undefined;
  const gone = request.plannedByTarget ? warnGone(request.plannedByTarget, runs, log) : undefined;

  const selectable = runs.filter((r) => r.selection && !r.selection.refused);
  const cap = applyRunCap(selectable.map((r) => r.selection!), policy.limits.maxDeletesPerRun);
  const queue: Array<{ run: TargetRun; candidate: Candidate }> = [];
  selectable.forEach((run, i) => {
    for (const candidate of cap.deferred[i] ?? []) record(run, candidate, { kind: 'deferred', reason: 'run-cap' }, deps);
    for (const candidate of cap.run[i] ?? []) queue.push({ run, candidate });
  });
  // Oldest first over all targets (ties: smaller id), the order applyRunCap chose by.
  queue.sort((a, b) => oldestFirst(a.candidate, b.candidate));

  let done = 0;
  const remaining = deps.remainingTimeMs;
  const reserveMs = deps.reserveMs ?? 30_000;
  const feeder = feed(queue, schedule, policy.concurrency, async ({ run, candidate }) => {
    let outcome: Outcome;
    if (dryRun) outcome = { kind: 'would-delete' };
    else {
      const gate = (): DeferReason | undefined =>
        run.summary.error !== undefined ? 'target-stopped' : remaining && remaining() < reserveMs ? 'time-budget' : undefined;
      outcome = await purgeTask(
        candidate,
        {
          oms: run.oms as OmsClient, // only targets that were listed have tasks to purge
          project: run.target,
          schedule,
          sleep: deps.sleep ?? ((ms) => sleepMs(ms)),
          clock,
          pollIntervalMs: deps.pollIntervalMs ?? 2000,
          stopTimeoutMs: policy.limits.stopTimeoutMs,
          onAnswer: (error) => {
            watchAnswers(run, error, log);
            feeder.pump();
          },
        },
        gate,
      );
    }
    record(run, candidate, outcome, deps);
    deps.onProgress?.({ phase: 'purge', done: ++done, total: queue.length });
  });
  await feeder.done;

  const summary: RunSummary = {
    runId,
    dryRun,
    startedAt,
    finishedAt: new Date(clock()).toISOString(),
    totals: emptyTotals(),
    targets: [],
    ...(unlisted?.notFound.length ? { notFound: unlisted.notFound } : {}),
    ...(unlisted?.notSelected.length ? { notSelected: unlisted.notSelected } : {}),
    ...(gone?.alreadyGone.length ? { alreadyGone: gone.alreadyGone } : {}),
    ...(gone?.notFound.length ? { notFound: gone.notFound } : {}),
  };
  for (const run of runs) {
    summary.targets.push(run.summary);
    const t = summary.totals;
    t.listed += run.summary.listed;
    t.selected += run.summary.selected;
    t.deleted += run.summary.deleted;
    t.failed += run.summary.failed;
    t.deferred += run.summary.deferred;
    t.protected += run.selection?.protected ?? 0;
    t.skipped += run.selection?.skipped.length ?? 0;
  }
  log.info('run finished', { runId, dryRun, totals: summary.totals, durationMs: clock() - Date.parse(startedAt), ...deps.closingFields?.() });
  return summary;
}

async function listAndSelect(run: TargetRun, request: PurgeRequest, deps: EngineDeps, clock: () => number, schedule: LimitFunction): Promise<void> {
  const { target, summary } = run;
  // Ages are measured from before the listing, so a slow listing never makes a task look older than it was.
  const nowMs = clock();
  if (run.oms instanceof Error) {
    // Its own credentials could not be read or used: nothing is sent for this target (and never another account's
    // credentials instead).
    summary.error = `stopped: its credentials failed: ${run.oms.message}`;
    summary.truncated = true;
    deps.log.error('target stopped', { target: target.name, reason: summary.error, secretId: target.credentials?.secretId });
    return;
  }
  const oms = run.oms;
  try {
    const listing = await oms.listTasks(target, { schedule, parallelPages: request.policy.concurrency });
    summary.listed = listing.tasks.length;
    summary.truncated = listing.truncated;
    if (listing.truncated) deps.log.warn('listing incomplete', { target: target.name, reason: listing.truncation, listed: listing.tasks.length });
    const { taskIds, stopFirst, force, plannedByTarget } = request;
    const options: SelectionOptions = { taskIds, stopFirst, force, ...(plannedByTarget ? { planned: plannedByTarget.get(target.name) ?? new Map() } : {}) };
    const selection = select(listing.tasks, request.policy, nowMs, options);
    if (request.taskIds || plannedByTarget) run.listedIds = listing.tasks.flatMap((t) => (t.id === null ? [] : [t.id]));
    run.selection = selection;
    summary.selected = selection.selected.length;
    summary.refused = selection.refused;
    for (const skip of selection.skipped) deps.log.info('task skipped', { target: target.name, taskId: skip.idText, outcome: 'skipped', reason: skip.reason });
    if (selection.refused) {
      deps.onRefused?.(target, selection.selected);
      const howToProceed = `review the selection (a dry run lists it), then force this target: ${deps.howToForce?.(target.name) ?? 'a run with force'}`;
      deps.log.error('target refused', { target: target.name, reason: selection.refusal, selected: summary.selected, listed: summary.listed, howToProceed });
    }
    deps.log.info('target selected', {
      target: target.name, listed: summary.listed, selected: summary.selected, protected: selection.protected, kept: selection.kept,
      skipped: selection.skipped.length, refused: selection.refused,
    });
  } catch (error) {
    summary.error = `listing failed: ${error instanceof Error ? error.message : String(error)}`;
    summary.truncated = true;
    // The answer's status and code at the top level, like a task failure's, so one Logs Insights query finds every
    // 400/403 (a listing refused with 403 is the usual permission problem).
    // A transport failure says which kind (timeout, connection, invalid-response) and why, in errorMsg.
    const answer =
      error instanceof HttpError
        ? { httpStatus: error.status, errorCode: error.errorCode ?? '', errorMsg: error.errorMsg ?? '', requestId: error.requestId ?? null }
        : error instanceof TransportError
          ? { httpStatus: 0, reason: error.kind, errorMsg: error.message }
          : {};
    deps.log.error('listing failed', { target: target.name, outcome: 'listing-failed', ...answer, error });
  }
}

function record(run: TargetRun, candidate: Candidate, outcome: Outcome, deps: EngineDeps): void {
  const { log } = deps;
  const s = run.summary;
  switch (outcome.kind) {
    case 'deleted':
      s.deleted += 1;
      break;
    case 'would-delete':
      break;
    case 'deferred':
      s.deferred += 1;
      s.truncated = true; // the run stopped short of this target's selection: a later run has more to do
      break;
    case 'failed': {
      s.failed += 1;
      if (s.failures.length < MAX_FAILURES_LISTED) s.failures.push(outcome.failure);
      else s.failuresOmitted = (s.failuresOmitted ?? 0) + 1;
      break;
    }
  }
  logOutcome(log, run.target.name, candidate, outcome, statusName(candidate.task.status));
  deps.onOutcome?.(run.target, candidate, outcome);
}

/** Requests in a row, in one target, that end the same bad way before the target stops (403s, or throttled). */
export const STOP_AFTER_IN_A_ROW = 5;

/**
 * Stops a target whose answers say that going on cannot help: five 403s in a row (permissions), five requests in a
 * row that stayed throttled through every retry (a throttling storm: the next run tries again), or a 401 that
 * re-authentication could not cure (a wrong AK/SK would otherwise be locked by Huawei after 5 failures).
 */
function watchAnswers(run: TargetRun, error: unknown, log: EventLog): void {
  if (error instanceof Error && error.name === 'AuthError' && run.summary.error === undefined) {
    // The credentials cannot be used at all (IAM refused the password, or the AK/SK was refused elsewhere).
    run.summary.error = `stopped: ${error.message}`;
    log.error('target stopped', { target: run.target.name, reason: run.summary.error });
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
  if (run.summary.error !== undefined) return;
  if (run.consecutive403 >= STOP_AFTER_IN_A_ROW) {
    run.summary.error = `stopped after ${STOP_AFTER_IN_A_ROW} consecutive 403 answers: the credentials lack permission for this project`;
  } else if (run.consecutiveThrottled >= STOP_AFTER_IN_A_ROW) {
    run.summary.error = `stopped after ${STOP_AFTER_IN_A_ROW} requests in a row stayed throttled (HTTP 429) through every retry: the rest is left for the next run`;
  } else if (error.status === 401) {
    run.summary.error = `stopped: authentication was refused (HTTP 401 ${error.errorCode ?? ''}); check the credentials`.replace(' )', ')');
  } else return;
  log.error('target stopped', { target: run.target.name, reason: run.summary.error });
}

/**
 * An explicit purge says what became of every named task it will not delete, rather than finishing quietly as if
 * it had worked: not in any listing, or listed but protected or kept by a keepLatest window (skipped ones already
 * have their own line). A log line each, and the ids for the summary.
 */
function warnUnlisted(taskIds: readonly string[], runs: readonly TargetRun[], log: EventLog): { notFound: string[]; notSelected: string[] } {
  const listed = new Set(runs.flatMap((run) => run.listedIds ?? []));
  const chosen = new Set(runs.flatMap((run) => [...(run.selection?.selected ?? []).map((c) => c.task.id), ...(run.selection?.skipped ?? []).map((s) => s.idText)]));
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

/**
 * Applying a manifest, the planned tasks that the fresh listing does not hold: already gone when the listing is
 * complete (deleted by hand, or by a run killed half-way), and only "not found" when it stopped short (they may be
 * in the part not seen; nothing is done with them either way). A log line each, and the ids for the summary.
 */
function warnGone(planned: ReadonlyMap<string, ReadonlyMap<string, PlannedTask>>, runs: readonly TargetRun[], log: EventLog): { alreadyGone: string[]; notFound: string[] } {
  const alreadyGone: string[] = [];
  const notFound: string[] = [];
  for (const run of runs) {
    // A target whose listing failed has nothing to say about its tasks: its error says why.
    if (run.listedIds === undefined) continue;
    const listed = new Set(run.listedIds);
    for (const taskId of planned.get(run.target.name)?.keys() ?? []) {
      if (listed.has(taskId)) continue;
      if (run.summary.truncated) {
        notFound.push(taskId);
        log.warn('planned task not seen: the listing is incomplete', { target: run.target.name, taskId, outcome: 'not-found' });
      } else {
        alreadyGone.push(taskId);
        log.info('planned task already gone', { target: run.target.name, taskId, outcome: 'already-gone' });
      }
    }
  }
  return { alreadyGone, notFound };
}

function emptyTarget(target: Target): TargetSummary {
  return { name: target.name, projectId: target.projectId, listed: 0, selected: 0, deleted: 0, failed: 0, deferred: 0, refused: false, truncated: false, failures: [] };
}
