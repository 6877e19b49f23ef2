import type { HttpCounters } from '../http/types.js';
import { CredentialsError } from '../auth/errors.js';
import type { Authenticator } from '../auth/types.js';
import type { HostAllowList } from '../http/allowed-hosts.js';
import { createHttp } from '../http/client.js';
import { createRateBudget } from '../http/rate-budget.js';
import type { RetryPolicy } from '../http/retry-policy.js';
import type { EventLog } from '../log/types.js';
import { OmsClient } from '../oms/client.js';
import type { TargetCredentials } from '../auth/resolve.js';
import type { Policy, Target } from '../policy/types.js';

/** Stands in when the run has no credentials of its own: nothing is ever sent with it. */
const NO_RUN_CREDENTIALS: Authenticator = {
  kind: 'token',
  async authorize() {
    throw new CredentialsError('this target has no credentials: the run has none, and the target names none of its own');
  },
  async refresh() {
    return false;
  },
};


/**
 * The per-run wiring shared by the CLI and the Lambda handler: one HTTP wrapper (one rate budget for the whole run,
 * as the policy says) and one OMS client on it.
 */
export function createRunClient(
  policy: Policy,
  /** The run's credentials; undefined when every target of the run has its own (then no target falls back to any). */
  auth: Authenticator | undefined,
  options: {
    retry?: RetryPolicy;
    deadline?: AbortSignal;
    log?: EventLog;
    allowedHosts?: HostAllowList;
    /** Targets with their own credentials (resolveTargetCredentials): each gets a client of its own. */
    targetCredentials?: ReadonlyMap<string, TargetCredentials>;
  } = {},
): { oms: OmsClient; counters: HttpCounters; clientFor: (target: Target) => OmsClient | Error } {
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
    // The event is the client's own, made for this call: rounded in place, not copied (one per request).
    ...(log
      ? {
          onDone: (event) => {
            event.ms = Math.round(event.ms);
            log.debug('request done', event);
          },
        }
      : {}),
  });
  const clientOf = (authenticator: Authenticator) => new OmsClient({ http, auth: authenticator, ...(options.deadline ? { signal: options.deadline } : {}) });
  const oms = clientOf(auth ?? NO_RUN_CREDENTIALS);
  // One client per distinct authenticator (one per secret), all on the one HTTP wrapper: one rate budget and one set
  // of counters for the run, whichever account a request is for.
  const own = new Map<Authenticator, OmsClient>();
  const clientFor = (target: Target): OmsClient | Error => {
    if (target.credentials === undefined) return auth === undefined ? new Error('the run has no credentials for it') : oms;
    // A target that names its own credentials never falls back to the run's: that would send one account's
    // credentials to another account's project.
    const credentials = options.targetCredentials?.get(target.name);
    if (credentials === undefined) return new Error(`its credentials (secret ${target.credentials.secretId}) were not resolved`);
    if (!credentials.ok) return credentials.error;
    const authenticator = credentials.resolved.authenticator;
    let client = own.get(authenticator);
    if (client === undefined) own.set(authenticator, (client = clientOf(authenticator)));
    return client;
  };
  return { oms, counters, clientFor };
}

export type { HttpCounters } from '../http/types.js';
