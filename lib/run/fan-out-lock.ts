/**
 * One run at a time per stage. Without fan-out the function's reserved concurrency of 1 sees to that; with it, the
 * function runs several invocations at once, so the stage keeps a lock in the archive root, conditionally written,
 * with a lease. The first step of an execution takes it and the merge step gives it back: a second execution started
 * meanwhile finds it held and ends at once, touching nothing. A real run invoked directly (`serverless invoke`, not
 * through the state machine) holds it for its invocation (withStageLock), so that it and an execution never overlap.
 */
import { ArchiveError, PreconditionFailed, type ArchiveStore } from '../archive/store.js';

export const FAN_OUT_LOCK_KEY = 'state/fan-out-lock.json';

interface Lock {
  executionId: string;
  at: string;
  until: string;
}

/**
 * Takes the lock for `executionId` for `leaseMs` (how long an execution may run: its rounds of 15 minutes), or
 * returns who holds it. A lock past its lease (an execution stopped by hand, one that failed before its merge) is
 * taken over. The same execution taking it again (a retried step) keeps it.
 */
export async function takeFanOutLock(store: ArchiveStore, executionId: string, nowMs: number, leaseMs: number): Promise<{ held: true } | { heldBy: string; until: string }> {
  const current = await store.getTagged(FAN_OUT_LOCK_KEY);
  const lock = current ? (JSON.parse(current.body.toString('utf8')) as Partial<Lock>) : undefined;
  if (lock?.executionId && lock.executionId !== executionId && Date.parse(lock.until ?? '') > nowMs) return { heldBy: lock.executionId, until: lock.until! };
  const next: Lock = { executionId, at: new Date(nowMs).toISOString(), until: new Date(nowMs + leaseMs).toISOString() };
  try {
    await store.putIf(FAN_OUT_LOCK_KEY, Buffer.from(`${JSON.stringify(next)}\n`), 'application/json', current ? { ifMatch: current.etag } : { ifNoneMatch: true });
    return { held: true };
  } catch (error) {
    // Another execution wrote it between our read and our write: it holds it.
    if (error instanceof PreconditionFailed) return { heldBy: 'another execution (it took the lock just now)', until: '' };
    throw error;
  }
}

/**
 * Gives the lock back if `executionId` holds it (a merge of an execution that did not take it changes nothing). With
 * `keepUntilMs` in the future (a round of the execution may still be running: one whose step Step Functions gave up
 * on), the execution keeps it until then instead.
 */
export async function releaseFanOutLock(store: ArchiveStore, executionId: string, nowMs: number, keepUntilMs = 0): Promise<void> {
  const current = await store.getTagged(FAN_OUT_LOCK_KEY);
  if (!current) return;
  const lock = JSON.parse(current.body.toString('utf8')) as Partial<Lock>;
  if (lock.executionId !== executionId) return;
  const next: Lock =
    keepUntilMs > nowMs
      ? { executionId, at: lock.at ?? new Date(nowMs).toISOString(), until: new Date(keepUntilMs).toISOString() }
      : { executionId: '', at: new Date(nowMs).toISOString(), until: new Date(nowMs).toISOString() };
  await store.putIf(FAN_OUT_LOCK_KEY, Buffer.from(`${JSON.stringify(next)}\n`), 'application/json', { ifMatch: current.etag }).catch(() => undefined);
}

/**
 * Keeps the lock for `executionId` until at least `untilMs` (a step about to run for up to 15 minutes), if the
 * execution holds it now; false when it does not (another run holds it, or its lease ended): the step must do nothing.
 */
export async function renewFanOutLock(store: ArchiveStore, executionId: string, nowMs: number, untilMs: number): Promise<boolean> {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const current = await store.getTagged(FAN_OUT_LOCK_KEY);
    if (!current) return false;
    const lock = JSON.parse(current.body.toString('utf8')) as Partial<Lock>;
    const until = Date.parse(lock.until ?? '');
    if (lock.executionId !== executionId || !(until > nowMs)) return false;
    if (until >= untilMs) return true;
    const renewed: Lock = { executionId, at: lock.at ?? new Date(nowMs).toISOString(), until: new Date(untilMs).toISOString() };
    try {
      await store.putIf(FAN_OUT_LOCK_KEY, Buffer.from(`${JSON.stringify(renewed)}\n`), 'application/json', { ifMatch: current.etag });
      return true;
    } catch (error) {
      if (!(error instanceof PreconditionFailed)) throw error; // another step renewed it meanwhile: read it again
    }
  }
  return false;
}

/** Another run or execution of the stage holds the lock: this one did nothing. */
export class StageBusy extends Error {
  override name = 'StageBusy';
}

/**
 * Runs `run` holding the stage's lock as `holder` for `leaseMs` (an invocation's 15 minutes), and gives it back after.
 * Throws StageBusy, before running anything, when an execution or another run holds it.
 */
export async function withStageLock<T>(store: ArchiveStore, holder: string, leaseMs: number, run: () => Promise<T>): Promise<T> {
  let lock: Awaited<ReturnType<typeof takeFanOutLock>>;
  try {
    lock = await takeFanOutLock(store, holder, Date.now(), leaseMs);
  } catch (error) {
    // The archive that would take the run's plan cannot be written either: nothing is done (and ArchiveFailed says so).
    throw new ArchiveError(`the stage's run lock could not be taken in ${store.root} (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}); nothing was paused or deleted`);
  }
  if ('heldBy' in lock) {
    throw new StageBusy(`another run of this stage is in progress (${lock.heldBy}${lock.until ? `, until ${lock.until} at the latest` : ''}); nothing was done: invoke again when it has finished`);
  }
  try {
    return await run();
  } finally {
    await releaseFanOutLock(store, holder, Date.now()).catch(() => undefined);
  }
}
