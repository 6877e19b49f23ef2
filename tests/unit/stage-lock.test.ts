/**
 * One run at a time per stage (lib/run/fan-out-lock.ts), on a local archive root: an execution's lock, a direct
 * run's hold on it, leases, and giving it back.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openArchiveStore } from '../../lib/archive/store.js';
import { StageBusy, releaseFanOutLock, takeFanOutLock, withStageLock } from '../../lib/run/fan-out-lock.js';

const MINUTE = 60_000;
const store = () => openArchiveStore(mkdtempSync(join(tmpdir(), 'janitor-lock-')));

describe('the stage lock', () => {
  it('an execution holds it against others until it gives it back or its lease ends; the holder may take it again', async () => {
    const s = store();
    const now = Date.now();
    expect(await takeFanOutLock(s, 'exec-1', now, 60 * MINUTE)).toEqual({ held: true });
    expect(await takeFanOutLock(s, 'exec-1', now + MINUTE, 60 * MINUTE)).toEqual({ held: true });
    expect(await takeFanOutLock(s, 'exec-2', now + 2 * MINUTE, 60 * MINUTE)).toMatchObject({ heldBy: 'exec-1' });
    // Only the holder gives it back.
    await releaseFanOutLock(s, 'exec-2', now + 3 * MINUTE);
    expect(await takeFanOutLock(s, 'exec-2', now + 3 * MINUTE, 60 * MINUTE)).toMatchObject({ heldBy: 'exec-1' });
    // Past its lease (an execution stopped by hand) it is taken over.
    expect(await takeFanOutLock(s, 'exec-2', now + 62 * MINUTE, 60 * MINUTE)).toEqual({ held: true });
    await releaseFanOutLock(s, 'exec-2', now + 63 * MINUTE);
    expect(await takeFanOutLock(s, 'exec-3', now + 63 * MINUTE, 60 * MINUTE)).toEqual({ held: true });
  });

  it('a direct run holds it while it runs (an execution started meanwhile is turned away) and gives it back, also when it fails', async () => {
    const s = store();
    let during: unknown;
    const result = await withStageLock(s, 'run:req-1', 16 * MINUTE, async () => {
      during = await takeFanOutLock(s, 'exec-1', Date.now(), 60 * MINUTE);
      return 'done';
    });
    expect(result).toBe('done');
    expect(during).toMatchObject({ heldBy: 'run:req-1' });
    await expect(withStageLock(s, 'run:req-2', 16 * MINUTE, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await takeFanOutLock(s, 'exec-1', Date.now(), 60 * MINUTE)).toEqual({ held: true });
    // While the execution holds it, a direct run does not start.
    let ran = false;
    const refused = withStageLock(s, 'run:req-3', 16 * MINUTE, async () => {
      ran = true;
    });
    await expect(refused).rejects.toBeInstanceOf(StageBusy);
    await expect(refused).rejects.toThrow(/another run of this stage is in progress \(exec-1, until .*\); nothing was done/);
    expect(ran).toBe(false);
  });
});
