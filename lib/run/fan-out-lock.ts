/**
 * One fanned-out execution at a time per stage (as one Lambda run at a time holds without fan-out): the first step
 * of an execution takes a lock in the archive root, conditionally written, with a lease; the merge step gives it back.
 * A second execution started meanwhile finds it held and ends at once, touching nothing.
 */
import { PreconditionFailed, type ArchiveStore } from '../archive/store.js';

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

/** Gives the lock back if `executionId` holds it (a merge of an execution that did not take it changes nothing). */
export async function releaseFanOutLock(store: ArchiveStore, executionId: string, nowMs: number): Promise<void> {
  const current = await store.getTagged(FAN_OUT_LOCK_KEY);
  if (!current) return;
  const lock = JSON.parse(current.body.toString('utf8')) as Partial<Lock>;
  if (lock.executionId !== executionId) return;
  const released: Lock = { executionId: '', at: new Date(nowMs).toISOString(), until: new Date(nowMs).toISOString() };
  await store.putIf(FAN_OUT_LOCK_KEY, Buffer.from(`${JSON.stringify(released)}\n`), 'application/json', { ifMatch: current.etag }).catch(() => undefined);
}
