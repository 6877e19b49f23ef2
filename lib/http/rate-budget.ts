import pThrottle from 'p-throttle';

/** Resolves when the next request of the run may start. One budget is shared by every request of a run. */
export type RateBudget = () => Promise<void>;

/**
 * A budget of `requestsPerSecond`, spread evenly (one start every 1000/rps ms) rather than in bursts, so that a
 * burst of retries after a throttling answer does not arrive all at once.
 */
export function createRateBudget(requestsPerSecond: number): RateBudget {
  if (!(requestsPerSecond > 0)) throw new RangeError('requestsPerSecond must be a positive number');
  const throttled = pThrottle({ limit: 1, interval: 1000 / requestsPerSecond })(() => undefined);
  return async () => {
    await throttled();
  };
}
