import { HttpError } from '../http/errors.js';
import type { OmsClient, OmsProject } from '../oms/client.js';
import { isAlreadyGone } from '../oms/client.js';
import { KIND_MODELS, isInProgress, isStatus, statusName, type Kind } from '../oms/kinds.js';
import type { Candidate } from '../policy/types.js';
import { failureOf, type DeferReason, type Outcome } from './outcome.js';

export interface ItemPurgeDeps {
  oms: OmsClient;
  project: OmsProject;
  /** The run's one limiter: every request goes through it, none is nested inside another. */
  schedule: <T>(work: () => Promise<T>) => Promise<T>;
  sleep: (ms: number) => Promise<void>;
  clock: () => number;
  /** The longest wait between two looks at a pausing task; the first looks come sooner (see pollDelayMs). */
  pollIntervalMs: number;
  /** limits.stopTimeout: how long a task may take to reach paused. */
  stopTimeoutMs: number;
  /**
   * Told the end of every request (undefined = success) while its limiter slot is still held, so that a decision
   * such as "five 403s in a row stop the target" is taken before the next queued task may start.
   */
  onAnswer?: (error: unknown) => void;
}

/**
 * Deletes one selected item of any kind; an in-progress one is paused (a sync task: stopped) first, waited for, then
 * deleted. `gate` is asked right before the item's first request leaves: a reason to defer means it is not started
 * at all.
 */
export async function purgeItem(candidate: Candidate, deps: ItemPurgeDeps, gate: () => DeferReason | undefined): Promise<Outcome> {
  const { id, kind } = candidate.item;
  const needsPause = isInProgress(kind, candidate.item.status);
  let stopRefused = false;
  try {
    const first = await deps.schedule(async () => {
      const reason = gate();
      if (reason) return { kind: 'deferred', reason } as const;
      if (!needsPause) {
        try {
          const result = await observed(deps, () => deps.oms.delete(kind, deps.project, id));
          return { kind: 'deleted', alreadyGone: result === 'already-gone', paused: false } as const;
        } catch (error) {
          // Listed paused, yet "in progress": it was paused only a moment ago (by someone, or by a run that was cut
          // off), and OMS still refuses its delete for a moment. Wait that out as after a pause of ours.
          if (isStatus(kind, candidate.item.status, KIND_MODELS[kind].paused) && isInProgressRefusal(error)) return 'settling' as const;
          throw error;
        }
      }
      stopRefused = await observed(deps, () => stop(candidate, deps));
      return undefined;
    });
    if (first === 'settling') return await waitPausedThenDelete(kind, id, deps, gate, { stopRefused: false, ours: false });
    if (first) return first;
    return await waitPausedThenDelete(kind, id, deps, gate, { stopRefused, ours: true });
  } catch (error) {
    return { kind: 'failed', failure: failureOf(id, error) };
  }
}

/**
 * Pause unless already pausing. Resolves true when OMS refused with OMS.0066 ("not migrating"): the task finished
 * or paused meanwhile, or cannot be paused at all (a waiting task); the first look tells which.
 */
async function stop(candidate: Candidate, deps: ItemPurgeDeps): Promise<boolean> {
  const { kind, id, status } = candidate.item;
  const pausing = KIND_MODELS[kind].pausing;
  if (pausing !== undefined && isStatus(kind, status, pausing)) return false;
  try {
    await deps.oms.pause(kind, deps.project, id);
    return false;
  } catch (error) {
    if (error instanceof HttpError && error.status === 400 && error.errorCode === 'OMS.0066') return true;
    throw error;
  }
}

/** OMS's "the task is in progress, pause it first" answer to a delete. */
function isInProgressRefusal(error: unknown): boolean {
  return error instanceof HttpError && error.status === 400 && error.errorCode === 'OMS.0063';
}

/**
 * Looks at the item until it is paused (a sync task: stopped), then deletes it (riding out OMS.0063 right after the
 * pause). `ours`: the pause was this run's; otherwise the item was listed paused and only its delete was refused for
 * a moment, so a look that finds it running again means someone resumed it: it is left alone
 * (`in-progress-since-listing`), never paused.
 */
async function waitPausedThenDelete(
  kind: Kind,
  id: string,
  deps: ItemPurgeDeps,
  gate: () => DeferReason | undefined,
  { stopRefused, ours }: { stopRefused: boolean; ours: boolean },
): Promise<Outcome> {
  const model = KIND_MODELS[kind];
  const is = (status: number | string | null, name: string | undefined) => name !== undefined && isStatus(kind, status, name);
  const deadline = deps.clock() + deps.stopTimeoutMs;
  for (let look = 0; ; look += 1) {
    await deps.sleep(pollDelayMs(look, deps.pollIntervalMs));
    // Inside Lambda the time budget also ends waiting: the task is left paused (or pausing) for a later run, and
    // the invocation ends with its summary instead of being cut off by the function timeout.
    if (gate() === 'time-budget') return { kind: 'deferred', reason: 'time-budget', leftPaused: true };
    let status: number | string | null;
    try {
      status = (await deps.schedule(() => observed(deps, () => deps.oms.show(kind, deps.project, id)))).status;
    } catch (error) {
      if (error instanceof HttpError && isAlreadyGone(error)) return { kind: 'deleted', alreadyGone: true, paused: ours };
      throw error;
    }
    // Only an item seen paused is deleted. One that finished (succeeded or failed) while being paused is now a
    // finished one, which other rules and their keepLatest windows must judge: it is left to the next run's
    // selection. A group whose delete is already under way (someone else's) is left to it: deferred, not counted as
    // deleted (this run deleted nothing), and the next listing shows how it ended. An unknown status is never
    // guessed at.
    if (is(status, model.paused)) {
      try {
        const result = await deps.schedule(() => observed(deps, () => deps.oms.delete(kind, deps.project, id)));
        return { kind: 'deleted', alreadyGone: result === 'already-gone', paused: ours };
      } catch (error) {
        // Right after a pause OMS may still call the task in progress for a moment: wait that out.
        if (!isInProgressRefusal(error)) throw error;
      }
    } else if (model.finished.some((name) => is(status, name))) {
      return { kind: 'deferred', reason: 'finished-during-pause' };
    } else if (model.deleting.some((name) => is(status, name))) {
      return { kind: 'deferred', reason: 'delete-under-way' };
    } else if (!isInProgress(kind, status)) {
      return { kind: 'deferred', reason: 'unknown-status-after-pause' };
    } else if (!ours && !is(status, model.pausing)) {
      return { kind: 'deferred', reason: 'in-progress-since-listing' };
    }
    if (look === 0 && stopRefused && !is(status, model.pausing) && isInProgress(kind, status)) {
      return {
        kind: 'failed',
        failure: { taskId: id, httpStatus: 400, errorCode: 'OMS.0066', errorMsg: `the ${model.noun} could not be paused; it is still ${statusName(kind, status)}`, reason: 'stop-refused' },
      };
    }
    if (deps.clock() >= deadline) {
      const seconds = Math.round(deps.stopTimeoutMs / 1000);
      return {
        kind: 'failed',
        failure: { taskId: id, httpStatus: 0, errorCode: '', errorMsg: `not ${model.paused} within stopTimeout (${seconds} s); last status ${statusName(kind, status) ?? status ?? 'unknown'}`, reason: 'stop-timeout' },
      };
    }
  }
}

/** Runs one request and reports how it ended to `onAnswer`, inside the caller's limiter slot. */
async function observed<T>(deps: ItemPurgeDeps, request: () => Promise<T>): Promise<T> {
  try {
    const result = await request();
    deps.onAnswer?.(undefined);
    return result;
  } catch (error) {
    deps.onAnswer?.(error);
    throw error;
  }
}

/** Most tasks pause within a second: look after 250 ms, then 500 ms, 1 s, … up to `maxMs` between looks. */
export function pollDelayMs(look: number, maxMs: number): number {
  return Math.min(maxMs, 250 * 2 ** Math.min(look, 20));
}
