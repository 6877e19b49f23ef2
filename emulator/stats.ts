import type { EmulatorStats } from './types.js';

export function createStats(): EmulatorStats {
  return {
    total: 0,
    calls: {},
    byStatus: {},
    inFlight: 0,
    maxInFlight: 0,
    deleted: {},
    stopped: {},
    groupsDeleted: {},
    groupsStopped: {},
    syncTasksDeleted: {},
    syncTasksStopped: {},
    membersRemoved: {},
    signatureFailures: 0,
    signedRequests: 0,
    signedVerified: 0,
    crossAccount: 0,
    accountsSeen: {},
    lockedAks: [],
    faultsInjected: {},
    perSecond: {},
    published: [],
  };
}

/**
 * Clears the stats in place, so a test that kept a reference to `emu.stats` keeps reading live numbers.
 * inFlight is left alone: requests still open must still be counted down when they end.
 */
export function resetStats(stats: EmulatorStats): void {
  const fresh = createStats();
  fresh.inFlight = stats.inFlight;
  fresh.maxInFlight = stats.inFlight;
  fresh.lockedAks = stats.lockedAks; // lock state lives in the verifier's registry; keep the view consistent
  Object.assign(stats, fresh);
}

export function bump(counter: Record<string, number>, key: string): void {
  counter[key] = (counter[key] ?? 0) + 1;
}

export function record(lists: Record<string, string[]>, project: string, id: string): void {
  (lists[project] ??= []).push(id);
}

/**
 * A `calls` key: DELETEs of any kind (task, task group, sync task) that arrived while its state refuses a delete (as
 * a show would read it at that moment: a task migrating or pausing; a group creating, monitoring or pausing; a sync
 * task synchronizing, also while a stop takes effect), counted on arrival, before latency or an injected fault. OMS
 * refuses them (OMS.0063), but a janitor that pauses first, waits for paused and waits a creating group out never
 * sends one: the chaos and property suites assert 0. One only just paused (pauseSettleMs) reads paused and is not
 * counted.
 */
export const DELETE_IN_PROGRESS = 'delete-in-progress';

/**
 * A `calls` key: stops (pauses) of an existing item of any kind that arrived while its state refuses one (a task not
 * migrating, a group not monitoring, a sync task not synchronizing, or one already stopped), counted on arrival like
 * DELETE_IN_PROGRESS. OMS answers them 400 OMS.0066; a janitor that reads the state first sends one only when the
 * item changed under it.
 */
export const PAUSE_NOT_PAUSABLE = 'pause-not-pausable';

/** Counts a request under `key` when `refused` (its item's state refuses it on arrival). */
export function countRefusedOnArrival(stats: EmulatorStats, key: typeof DELETE_IN_PROGRESS | typeof PAUSE_NOT_PAUSABLE, refused: boolean): void {
  if (refused) bump(stats.calls, key);
}
