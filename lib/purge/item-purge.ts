import { HttpError } from '../http/errors.js';
import type { OmsClient, OmsProject } from '../oms/client.js';
import { isAlreadyGone } from '../oms/client.js';
import { STATUS_CODES, isInProgress, statusName } from '../oms/status.js';
import type { Candidate } from '../policy/types.js';
import { failureOf, type DeferReason, type Outcome } from './outcome.js';

export interface TaskPurgeDeps {
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
 * Deletes one selected task; an in-progress one is paused first, waited for, then deleted. `gate` is asked right
 * before the task's first request leaves: a reason to defer means this task is not started at all.
 */
export async function purgeTask(candidate: Candidate, deps: TaskPurgeDeps, gate: () => DeferReason | undefined): Promise<Outcome> {
  const id = candidate.task.id;
  const needsPause = isInProgress(candidate.task.status);
  let stopRefused = false;
  try {
    const first = await deps.schedule(async () => {
      const reason = gate();
      if (reason) return { kind: 'deferred', reason } as const;
      if (!needsPause) {
        try {
          const result = await observed(deps, () => deps.oms.deleteTask(deps.project, id));
          return { kind: 'deleted', alreadyGone: result === 'already-gone', paused: false } as const;
        } catch (error) {
          // Listed paused, yet "in progress": it was paused only a moment ago (by someone, or by a run that was cut
          // off), and OMS still refuses its delete for a moment. Wait that out as after a pause of ours.
          if (candidate.task.status === STATUS_CODES.paused && isInProgressRefusal(error)) return 'settling' as const;
          throw error;
        }
      }
      stopRefused = await observed(deps, () => stop(candidate, deps));
      return undefined;
    });
    if (first === 'settling') return await waitPausedThenDelete(id, deps, gate, { stopRefused: false, ours: false });
    if (first) return first;
    return await waitPausedThenDelete(id, deps, gate, { stopRefused, ours: true });
  } catch (error) {
    return { kind: 'failed', failure: failureOf(id, error) };
  }
}

/**
 * Pause unless already pausing. Resolves true when OMS refused with OMS.0066 ("not migrating"): the task finished
 * or paused meanwhile, or cannot be paused at all (a waiting task); the first look tells which.
 */
async function stop(candidate: Candidate, deps: TaskPurgeDeps): Promise<boolean> {
  if (candidate.task.status === STATUS_CODES.pausing) return false;
  try {
    await deps.oms.stopTask(deps.project, candidate.task.id);
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
 * Looks at the task until it is paused, then deletes it (riding out OMS.0063 right after the pause). `ours`: the
 * pause was this run's; otherwise the task was listed paused and only its delete was refused for a moment, so a look
 * that finds it running again means someone resumed it: it is left alone (`in-progress-since-listing`), never paused.
 */
async function waitPausedThenDelete(
  id: string,
  deps: TaskPurgeDeps,
  gate: () => DeferReason | undefined,
  { stopRefused, ours }: { stopRefused: boolean; ours: boolean },
): Promise<Outcome> {
  const deadline = deps.clock() + deps.stopTimeoutMs;
  for (let look = 0; ; look += 1) {
    await deps.sleep(pollDelayMs(look, deps.pollIntervalMs));
    // Inside Lambda the time budget also ends waiting: the task is left paused (or pausing) for a later run, and
    // the invocation ends with its summary instead of being cut off by the function timeout.
    if (gate() === 'time-budget') return { kind: 'deferred', reason: 'time-budget', leftPaused: true };
    let status: number | null;
    try {
      status = (await deps.schedule(() => observed(deps, () => deps.oms.showTask(deps.project, id)))).status;
    } catch (error) {
      if (error instanceof HttpError && isAlreadyGone(error)) return { kind: 'deleted', alreadyGone: true, paused: ours };
      throw error;
    }
    // Only a task seen paused is deleted. One that finished (succeeded or failed) while being paused is now a
    // finished task, which other rules and their keepLatest windows must judge: it is left to the next run's
    // selection. An unknown status is never guessed at.
    if (status === STATUS_CODES.paused) {
      try {
        const result = await deps.schedule(() => observed(deps, () => deps.oms.deleteTask(deps.project, id)));
        return { kind: 'deleted', alreadyGone: result === 'already-gone', paused: ours };
      } catch (error) {
        // Right after a pause OMS may still call the task in progress for a moment: wait that out.
        if (!isInProgressRefusal(error)) throw error;
      }
    } else if (status === STATUS_CODES.succeeded || status === STATUS_CODES.failed) {
      return { kind: 'deferred', reason: 'finished-during-pause' };
    } else if (!isInProgress(status)) {
      return { kind: 'deferred', reason: 'unknown-status-after-pause' };
    } else if (!ours && status !== STATUS_CODES.pausing) {
      return { kind: 'deferred', reason: 'in-progress-since-listing' };
    }
    if (look === 0 && stopRefused && status !== STATUS_CODES.pausing && isInProgress(status)) {
      return {
        kind: 'failed',
        failure: { taskId: id, httpStatus: 400, errorCode: 'OMS.0066', errorMsg: `the task could not be paused; it is still ${statusName(status)}`, reason: 'stop-refused' },
      };
    }
    if (deps.clock() >= deadline) {
      const seconds = Math.round(deps.stopTimeoutMs / 1000);
      return {
        kind: 'failed',
        failure: { taskId: id, httpStatus: 0, errorCode: '', errorMsg: `not paused within stopTimeout (${seconds} s); last status ${status ?? 'unknown'}`, reason: 'stop-timeout' },
      };
    }
  }
}

/** Runs one request and reports how it ended to `onAnswer`, inside the caller's limiter slot. */
async function observed<T>(deps: TaskPurgeDeps, request: () => Promise<T>): Promise<T> {
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
