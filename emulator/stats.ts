import { STATUS } from './task-store.js';
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
 * A `calls` key: DELETEs that arrived while their task was in progress (waiting, migrating, retrying or pausing, as a
 * show would read it at that moment), counted on arrival, before latency or an injected fault. OMS refuses them
 * (OMS.0063), but a janitor that pauses first and waits for paused never sends one: the chaos suite asserts 0. A task
 * only just paused (pauseSettleMs) reads paused and is not counted.
 */
export const DELETE_IN_PROGRESS = 'delete-in-progress';
const IN_PROGRESS_STATUSES: readonly number[] = [STATUS.waiting, STATUS.migrating, STATUS.retrying, STATUS.pausing];

/** Counts a DELETE under DELETE_IN_PROGRESS when `taskJson` (the task as a show would answer now) is in progress. */
export function countDeleteInProgress(stats: EmulatorStats, taskJson: string | undefined): void {
  if (taskJson === undefined) return;
  let status: unknown;
  try {
    status = (JSON.parse(taskJson) as { status?: unknown } | null)?.status;
  } catch {
    return; // a raw entry that is not JSON has no status to judge by
  }
  if (typeof status === 'number' && IN_PROGRESS_STATUSES.includes(status)) bump(stats.calls, DELETE_IN_PROGRESS);
}
