/** After this many consecutive signature failures an AK is locked... */
export const MAX_CONSECUTIVE_FAILURES = 5;
/** ...for this long, as API Gateway does. */
export const LOCK_MS = 5 * 60 * 1000;

interface AkState {
  failures: number;
  lockedUntilMs: number;
}

/**
 * Per-AK failure counter and lock. `lockedAks` is the live list shown in stats: it is the same array object for the
 * registry's life, updated in place.
 */
export class AkLockout {
  private readonly states = new Map<string, AkState>();

  constructor(
    private readonly now: () => number,
    readonly lockedAks: string[],
  ) {}

  isLocked(ak: string): boolean {
    const state = this.states.get(ak);
    if (!state || state.lockedUntilMs === 0) return false;
    if (this.now() < state.lockedUntilMs) return true;
    // The lock ran out: the AK starts over with a clean slate.
    this.states.delete(ak);
    this.unlist(ak);
    return false;
  }

  recordFailure(ak: string): void {
    const state = this.states.get(ak) ?? { failures: 0, lockedUntilMs: 0 };
    state.failures += 1;
    if (state.failures >= MAX_CONSECUTIVE_FAILURES && state.lockedUntilMs === 0) {
      state.lockedUntilMs = this.now() + LOCK_MS;
      if (!this.lockedAks.includes(ak)) this.lockedAks.push(ak);
    }
    this.states.set(ak, state);
  }

  recordSuccess(ak: string): void {
    this.states.delete(ak);
  }

  private unlist(ak: string): void {
    const i = this.lockedAks.indexOf(ak);
    if (i >= 0) this.lockedAks.splice(i, 1);
  }
}
