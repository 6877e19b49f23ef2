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
 * A `calls` key: DELETEs of any kind (task, task group, sync task) that arrived while it was in progress (as a show
 * would read it at that moment: a task waiting, migrating, retrying or pausing; a group executing, monitoring or
 * pausing; a sync task synchronizing, also while a stop takes effect), counted on arrival, before latency or an
 * injected fault. OMS refuses them (OMS.0063), but a janitor that pauses first and waits for paused never sends one:
 * the chaos suite asserts 0. One only just paused (pauseSettleMs) reads paused and is not counted.
 */
export const DELETE_IN_PROGRESS = 'delete-in-progress';

/** Counts a DELETE under DELETE_IN_PROGRESS when its target was in progress on arrival (see `KindStore.inProgress`). */
export function countDeleteInProgress(stats: EmulatorStats, inProgress: boolean): void {
  if (inProgress) bump(stats.calls, DELETE_IN_PROGRESS);
}
