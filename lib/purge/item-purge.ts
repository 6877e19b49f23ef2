import { HttpError } from '../http/errors.js';
import type { OmsClient, OmsProject } from '../oms/client.js';
import { isAlreadyGone, isInProgressRefusal, isNotPausable } from '../oms/codes.js';
import type { Item } from '../oms/item.js';
import { KIND_MODELS, handlingOf, isStatus, statusName, waitLabelOf } from '../oms/kinds.js';
import type { Candidate } from '../policy/types.js';
import { failureOf, type DeferReason, type Outcome } from './outcome.js';

export interface ItemPurgeDeps {
  oms: OmsClient;
  project: OmsProject;
  /** The run's one limiter: every request goes through it, none is nested inside another. */
  schedule: <T>(work: () => Promise<T>) => Promise<T>;
  sleep: (ms: number) => Promise<void>;
  clock: () => number;
  /** The longest wait between two looks at an item this run paused (see pollDelayMs). */
  pollIntervalMs: number;
  /**
   * The longest wait between two looks at anything else: an item OMS would not pause or delete just now (OMS.0066,
   * OMS.0063), or one in a state that can only be waited out (a creating group, someone else's pause). Those take
   * longer, and hundreds of them must not flood the API with looks.
   */
  waitIntervalMs: number;
  /**
   * limits.stopTimeout: how long an item is waited for, from its first request (a state it only waits out, or a
   * refusal), and again from the run's own pause (until it reads paused).
   */
  stopTimeoutMs: number;
  /** Inside Lambda: how long until the time budget ends (remaining time less the reserve); no wait sleeps past it. */
  budgetLeftMs?: () => number;
  /** Is the item, as a look shows it now, still one the run would select (lib/policy/reselect.ts)? */
  stillSelected: (candidate: Candidate, now: Item) => boolean;
  /**
   * Told the end of every request (undefined = success) while its limiter slot is still held, so that a decision
   * such as "five 403s in a row stop the target" is taken before the next queued task may start.
   */
  onAnswer?: (error: unknown) => void;
}

/** Where one item's purge stands between two requests. */
interface ItemState {
  /** The item as last seen: the listed record, then each look's. */
  now: Item;
  /** This run sent a pause that OMS accepted. */
  pausedByUs: boolean;
  /** The last refusal that kept it from going (OMS.0063 to a delete, OMS.0066 to a pause), for the deadline's outcome. */
  refusal?: HttpError;
  /** Looks so far (the wait before each grows). */
  looks: number;
  /** No request has left yet: `gate` decides whether the item is started at all. */
  first: boolean;
  /** stopTimeout after the item was started (its first request, or its first look at a state it only waits out). */
  deadlineMs: number;
}

/**
 * Deletes one selected item of any kind, sending only what OMS accepts in the state the item is in (its kind's
 * `handling`, lib/oms/kinds.ts): deletes it as it is; or pauses it (a sync task: stops it), waits for the paused
 * state, then deletes it; or waits a state out and defers it at the deadline. A refusal (a pause answered OMS.0066,
 * a delete answered OMS.0063) is never a failure by itself: the item is looked at again and decided from what it is
 * now. `gate` is asked right before the item's first request leaves: a reason to defer means it is not started.
 */
export async function purgeItem(candidate: Candidate, deps: ItemPurgeDeps, gate: () => DeferReason | undefined): Promise<Outcome> {
  const state: ItemState = { now: candidate.item, pausedByUs: false, looks: 0, first: true, deadlineMs: Number.POSITIVE_INFINITY };
  try {
    for (;;) {
      const outcome = await step(candidate, state, deps, gate);
      if (outcome !== undefined) return outcome;
      const looked = await look(candidate, state, deps, gate);
      if (looked !== undefined) return looked;
    }
  } catch (error) {
    return { kind: 'failed', failure: failureOf(candidate.item.id, error) };
  }
}

/** A request that was not sent: the gate deferred the item before its first request, for this reason. */
class NotSent {
  constructor(readonly reason: DeferReason) {}
}

/** One decision on the item as last seen: an outcome, or undefined to look again. */
async function step(candidate: Candidate, state: ItemState, deps: ItemPurgeDeps, gate: () => DeferReason | undefined): Promise<Outcome | undefined> {
  const { kind, id } = candidate.item;
  const handling = handlingOf(kind, state.now.status);
  const judged = judge(candidate, state, deps);
  if (judged !== undefined) return judged;
  if (handling === 'delete' || handling === 'finished') {
    try {
      const result = await send(state, deps, gate, () => deps.oms.delete(kind, deps.project, id));
      if (result instanceof NotSent) return { kind: 'deferred', reason: result.reason };
      return { kind: 'deleted', alreadyGone: result === 'already-gone', paused: state.pausedByUs };
    } catch (error) {
      // "In progress": paused only a moment ago, or OMS calls it busy for a moment (Terraform retries this code).
      // Looked at again, it is decided from what it is then; it is never deleted while it reads migrating.
      if (!isInProgressRefusal(error)) throw error;
      state.refusal = error;
      return undefined;
    }
  }
  if (handling === 'pause' && !state.pausedByUs) {
    try {
      const result = await send(state, deps, gate, () => deps.oms.pause(kind, deps.project, id));
      if (result instanceof NotSent) return { kind: 'deferred', reason: result.reason };
      // The pause's own wait: stopTimeout from now, whatever the item was waited for before (a group that left its
      // creation late still gets the whole stopTimeout to reach paused).
      state.pausedByUs = true;
      state.looks = 0;
      state.refusal = undefined;
      state.deadlineMs = deps.clock() + deps.stopTimeoutMs;
    } catch (error) {
      // "Not running now": it finished, paused, or is between attempts. Looked at again, it is decided from what
      // it is then; this answer alone is never a failure.
      if (!isNotPausable(error)) throw error;
      state.refusal = error;
    }
    return undefined;
  }
  // A `wait` state, or still pausable after our own pause: nothing is sent, only looked at (the first look is then
  // the item's first request, and the gate is asked for it).
  return undefined;
}

function started(state: ItemState, deps: ItemPurgeDeps): void {
  state.first = false;
  state.deadlineMs = deps.clock() + deps.stopTimeoutMs;
}

/**
 * The item as a look shows it, judged before anything more is sent. Undefined: act on its state. The listed state
 * is what the run selected; a paused (or pausing) state reached from a pausable or pausing one is the way a pause
 * goes, whoever paused it. Any other change is acted on only if the run would still select the item as it is now.
 */
function judge(candidate: Candidate, state: ItemState, deps: ItemPurgeDeps): Outcome | undefined {
  const listed = candidate.item;
  const { now } = state;
  if (now === listed) return undefined;
  const model = KIND_MODELS[listed.kind];
  const handling = handlingOf(now.kind, now.status);
  if (handling === undefined) return { kind: 'deferred', reason: 'unknown-status-now' };
  if (handling === 'deleting') return { kind: 'deferred', reason: 'delete-under-way' };
  const is = (name: string | undefined) => name !== undefined && isStatus(now.kind, now.status, name);
  const sameStatus = now.status === listed.status;
  // After the run's own pause, only reaching paused matters (OMS may still call it migrating, with a growing
  // total_time, for a moment). After anyone's pause of a pausable or pausing item, paused is the way it goes.
  if (state.pausedByUs && (sameStatus || is(model.paused) || is(model.pausing))) return undefined;
  const listedHandling = handlingOf(listed.kind, listed.status);
  const wasPausing = listedHandling === 'pause' || (model.pausing !== undefined && isStatus(listed.kind, listed.status, model.pausing));
  if (wasPausing && (is(model.paused) || is(model.pausing))) return undefined;
  // As listed: what the run selected. The same status with a moved last activity is judged again below: it may
  // have run since (a resumed and paused-again task), and a keepLatest window might now keep it.
  if (sameStatus && now.lastActivityMs === listed.lastActivityMs) return undefined;
  // Finished before the pause took: other rules and their keepLatest windows judge a finished item; the next run.
  if (handling === 'finished' && !sameStatus) return { kind: 'deferred', reason: 'finished-during-pause' };
  // Only looked at while in a wait state; judged again when it leaves it.
  if (handling === 'wait') return undefined;
  return deps.stillSelected(candidate, now) ? undefined : { kind: 'deferred', reason: 'changed-since-listing' };
}

/**
 * Waits, then looks at the item (show). Undefined: decide again from what it is now. An outcome: the gate (time
 * budget, stopped target) or the deadline ended the wait, or the item is gone. No sleep goes past the deadline or the
 * Lambda time budget, so a waiting item never keeps the invocation from returning its summary.
 */
async function look(candidate: Candidate, state: ItemState, deps: ItemPurgeDeps, gate: () => DeferReason | undefined): Promise<Outcome | undefined> {
  const { kind, id } = candidate.item;
  if (!state.first) {
    const ended = waitEnded(candidate, state, deps, gate);
    if (ended !== undefined) return ended;
  }
  // Looks at the run's own pause come quickly (most pauses take a second); anything else (a state OMS only lets a
  // client wait out, a refusal) is looked at less and less often.
  const cap = state.pausedByUs ? deps.pollIntervalMs : Math.max(deps.pollIntervalMs, deps.waitIntervalMs);
  const leftMs = Math.min(state.deadlineMs - deps.clock(), deps.budgetLeftMs?.() ?? Number.POSITIVE_INFINITY);
  await deps.sleep(Math.max(0, Math.min(pollDelayMs(state.looks, cap), leftMs)));
  state.looks += 1;
  if (!state.first) {
    const ended = waitEnded(candidate, state, deps, gate, false);
    if (ended !== undefined) return ended;
  }
  try {
    const shown = await send(state, deps, gate, () => deps.oms.show(kind, deps.project, id));
    if (shown instanceof NotSent) return { kind: 'deferred', reason: shown.reason };
    state.now = shown;
  } catch (error) {
    if (error instanceof HttpError && isAlreadyGone(error)) return { kind: 'deleted', alreadyGone: true, paused: state.pausedByUs };
    throw error;
  }
  return undefined;
}

/**
 * Whether waiting ends here: inside Lambda the time budget, and a stopped target, end it (the item is left as it is,
 * paused if this run paused it, for a later run); so does the deadline, before a sleep (`deadline`).
 */
function waitEnded(candidate: Candidate, state: ItemState, deps: ItemPurgeDeps, gate: () => DeferReason | undefined, deadline = true): Outcome | undefined {
  // The budget ends a wait when it is used up, even before the gate would refuse a new item (at exactly the reserve).
  const reason = gate() ?? ((deps.budgetLeftMs?.() ?? 1) <= 0 ? 'time-budget' : undefined);
  // Only a started item gets here (its first request was sent): it says so, so that its line is never summarised away.
  if (reason !== undefined) return { kind: 'deferred', reason, attempted: true, ...(state.pausedByUs ? { leftPaused: true } : {}) };
  return deadline && deps.clock() >= state.deadlineMs ? atDeadline(candidate, state, deps) : undefined;
}

/**
 * The deadline (stopTimeout) passed and the item is still not deletable. Never a failure for what OMS only makes us
 * wait for; a failure when this run's pause did not take, or OMS refused a delete it documents as allowed.
 */
function atDeadline(candidate: Candidate, state: ItemState, deps: ItemPurgeDeps): Outcome {
  const { kind, id } = candidate.item;
  const model = KIND_MODELS[kind];
  const handling = handlingOf(kind, state.now.status);
  const current = statusName(kind, state.now.status) ?? String(state.now.status ?? 'unknown');
  // Deletable as it is, and every delete answered OMS.0063 until the deadline: OMS refusing what it documents as
  // allowed (or a pause of ours that never let go), a failure with its answer.
  if ((handling === 'delete' || handling === 'finished') && state.refusal !== undefined) return { kind: 'failed', failure: failureOf(id, state.refusal) };
  if (state.pausedByUs) {
    const seconds = Math.round(deps.stopTimeoutMs / 1000);
    return {
      kind: 'failed',
      failure: { taskId: id, httpStatus: 0, errorCode: '', errorMsg: `not ${model.paused} within stopTimeout (${seconds} s); last status ${current}`, reason: 'stop-timeout' },
    };
  }
  if (handling === 'wait') return { kind: 'deferred', reason: waitLabelOf(kind, state.now.status) ?? 'pausing' };
  // Pausable, and every pause answered "not running": OMS and its own listing disagree; the next run tries again.
  if (handling === 'pause') return { kind: 'deferred', reason: 'pause-refused' };
  // Not reached: every other state is acted on before a look (kept so that no state goes unanswered).
  return { kind: 'failed', failure: failureOf(id, new Error(`still ${current} at stopTimeout`)) };
}

/**
 * Sends one request through the run's limiter and reports how it ended to `onAnswer`, inside the slot. The item's
 * first request asks `gate` first, in the slot, so that the decision is taken when the request would leave.
 */
function send<T>(state: ItemState, deps: ItemPurgeDeps, gate: () => DeferReason | undefined, request: () => Promise<T>): Promise<T | NotSent> {
  return deps.schedule(async () => {
    if (state.first) {
      const reason = gate();
      if (reason !== undefined) return new NotSent(reason);
      started(state, deps);
    }
    try {
      const result = await request();
      deps.onAnswer?.(undefined);
      return result;
    } catch (error) {
      deps.onAnswer?.(error);
      throw error;
    }
  });
}

/** Most tasks pause within a second: look after 250 ms, then 500 ms, 1 s, … up to `maxMs` between looks. */
export function pollDelayMs(look: number, maxMs: number): number {
  return Math.min(maxMs, 250 * 2 ** Math.min(look, 20));
}
