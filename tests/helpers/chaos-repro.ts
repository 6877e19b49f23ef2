/**
 * The reduced reproduction of the one invariant the chaos soak broke (fixed since), (d): more requests in flight at
 * the emulator than `concurrency`. Found by `npm run soak` in "stalls mixed with 503 and resets" (first seen as seeds 15001 and
 * 15024 of the stall scenario, 200 tasks per target, when it still mixed in 503s), about one run in forty.
 *
 * Cause: ky clones the Request for every attempt, and Node's fetch (undici) makes a clone's signal follow its
 * source through weak references only (nodejs/undici#4068, open). Fixed in lib/http/client.ts: every attempt goes
 * out as a fresh Request with a signal the wrapper holds. After an attempt that was answered and retried
 * (503, 429, a reset, an odd 2xx body), a garbage collection can cut that chain; when the next attempt then stalls,
 * ky's attempt timeout rejects and ky retries, but the abort never reaches the stalled fetch: its connection stays
 * open (here until the emulator's stallMs), while the janitor, believing its limiter slot free, sends more. The same
 * cut keeps the run's deadline (Lambda) from ending that attempt: it runs on until attemptTimeoutMs.
 *
 * Reduced to one task, concurrency 1, and fault draws that give the DELETE a 503, then a stall, then an answer
 * (seed 91 with these rates), with a garbage collection forced every few milliseconds so that it happens in time.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { tokenAuthenticator } from '../../lib/auth/types.js';
import { CHAOS_RETRY } from './chaos-scenarios.js';
import { DAY, PROJECT, TOKEN, emulator, policy, runEngine, task } from './harness.js';

export const STALL_AFTER_RETRY = {
  seed: 91,
  /** With seed 91 the delete's draws are 0.67 (503), 0.03 (stall), 0.97 (no fault). */
  faults: { rateStall: 0.3, rate503: 0.5, stallMs: 1500, retryAfter: 'none', routes: ['delete'] },
} as const;

export interface ReproResult {
  concurrency: number;
  maxInFlight: number;
  deleteCalls: number;
  faults: Record<string, number>;
  deleted: string[];
}

export async function stallAfterRetriedAnswer(): Promise<ReproResult> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const emu = await emulator({ projects: { [PROJECT]: [task('5000', 4, 40 * DAY)] }, seed: STALL_AFTER_RETRY.seed, faults: { ...STALL_AFTER_RETRY.faults, routes: [...STALL_AFTER_RETRY.faults.routes] } });
  const timer = setInterval(gc, 5);
  try {
    const p = { ...policy(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n'), concurrency: 1 };
    // A longer attempt timeout than the scenarios' (still under the 1.5 s stall): with garbage collected every 5 ms on
    // a loaded machine, a 300 ms attempt that should succeed can time out, and every extra attempt draws another fault.
    await runEngine(p, {}, {}, tokenAuthenticator(TOKEN), { ...CHAOS_RETRY, attemptTimeoutMs: 1000 });
    const s = emu.stats;
    return { concurrency: 1, maxInFlight: s.maxInFlight, deleteCalls: s.calls.delete ?? 0, faults: { ...s.faultsInjected }, deleted: [...(s.deleted[PROJECT] ?? [])] };
  } finally {
    clearInterval(timer);
    await emu.close();
  }
}
