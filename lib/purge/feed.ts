import type { LimitFunction } from 'p-limit';

/**
 * Runs `work` for every item, in order, but starts an item only while fewer than `ahead` requests wait in the
 * limiter's queue. Follow-up requests of tasks already started (a pausing task's looks and its delete) then queue
 * behind a handful of new starts, not behind every remaining task of the run, so that they keep to stopTimeout.
 * Resolves when every item's work has settled; `work` must not reject.
 */
export function feed<T>(items: readonly T[], limiter: LimitFunction, ahead: number, work: (item: T) => Promise<void>): { done: Promise<void>; pump: () => void } {
  let next = 0;
  let settled = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const pump = (): void => {
    while (next < items.length && limiter.pendingCount < ahead) void work(items[next++] as T).then(onSettled);
  };
  // One function for every item's end, not a closure each (a run may start 100,000).
  const onSettled = (): void => {
    settled += 1;
    if (settled === items.length) resolveDone();
    else pump();
  };
  if (items.length === 0) resolveDone();
  else pump();
  // Called after each answer: p-limit moves its queue on after the answer's slot is released, so look a turn later.
  return { done, pump: () => void setImmediate(pump) };
}
