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
    lockedAks: [],
    faultsInjected: {},
    perSecond: {},
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
