import type { Authenticator } from '../auth/types.js';
import type { HostAllowList } from '../http/allowed-hosts.js';
import { createHttp } from '../http/client.js';
import { createRateBudget } from '../http/rate-budget.js';
import type { RetryPolicy } from '../http/retry-policy.js';
import type { EventLog } from '../log/types.js';
import { OmsClient } from '../oms/client.js';
import type { Policy } from '../policy/types.js';

/** Counters the HTTP layer sees that the summary does not hold (for metrics and the closing log line). */
export interface HttpCounters {
  retries: number;
  throttled: number;
  serverErrors: number;
  timeouts: number;
  connectionErrors: number;
}

/**
 * The per-run wiring shared by the CLI and the Lambda handler: one HTTP wrapper (one rate budget for the whole run,
 * as the policy says) and one OMS client on it.
 */
export function createRunClient(
  policy: Policy,
  auth: Authenticator,
  options: { retry?: RetryPolicy; deadline?: AbortSignal; log?: EventLog; allowedHosts?: HostAllowList } = {},
): { oms: OmsClient; counters: HttpCounters } {
  const log = options.log;
  const counters: HttpCounters = { retries: 0, throttled: 0, serverErrors: 0, timeouts: 0, connectionErrors: 0 };
  const http = createHttp({
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
    ...(policy.requestsPerSecond ? { rateBudget: createRateBudget(policy.requestsPerSecond) } : {}),
    onRetry: (event) => {
      const { status, reason } = event;
      counters.retries += 1;
      if (status === 429) counters.throttled += 1;
      else if (status !== undefined && status >= 500) counters.serverErrors += 1;
      else if (reason === 'timeout') counters.timeouts += 1;
      else if (reason === 'connection') counters.connectionErrors += 1;
      log?.debug('request retried', event);
    },
    // DEBUG (the dev stage's level, or --log-level DEBUG): one line per request, for following a run in detail.
    ...(log ? { onDone: (event) => log.debug('request done', { ...event, ms: Math.round(event.ms) }) } : {}),
  });
  return { oms: new OmsClient({ http, auth, ...(options.deadline ? { signal: options.deadline } : {}) }), counters };
}
