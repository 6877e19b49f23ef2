import { setTimeout as sleep } from 'node:timers/promises';
import ky, { HTTPError, isHTTPError, isTimeoutError, type KyInstance, type Options as KyOptions } from 'ky';
import { setMaxListeners } from 'node:events';
import { types } from 'node:util';
import { HttpError, RefusedHostError, TransportError } from './errors.js';
import { HostAllowList } from './allowed-hosts.js';
import type { RateBudget } from './rate-budget.js';
import { DEFAULT_RETRY_POLICY, isRetryStatus, kyRetryOptions, parseRetryAfterMs, retryDelayMs, type RetryPolicy } from './retry-policy.js';
import type { Http, HttpRequest, HttpResponse } from './types.js';
import { BadAnswer, readBody, readErrorBody } from './body.js';
import { failureReason, toFinalError } from './error-translation.js';

export { MAX_ERROR_BODY_BYTES } from './body.js';

export interface HttpOptions {
  /** Default DEFAULT_RETRY_POLICY. */
  retry?: RetryPolicy;
  /** Shared by every attempt of every request made through this instance; default none. */
  rateBudget?: RateBudget;
  /** Told about every attempt that will be retried (status or failure kind), for metrics and debug logs. */
  onRetry?: (event: { method: string; path: string; retry: number; status?: number; reason: string }) => void;
  /** Told how every request ended, after its retries (for DEBUG logs): its status, or why there was none. */
  onDone?: (event: { method: string; path: string; status?: number; failure?: string; attempts: number; ms: number }) => void;
  /**
   * The largest 2xx body read, in bytes; a longer one is cancelled there and retried as a bad answer. Default
   * DEFAULT_MAX_BODY_BYTES: a full page of 100 tasks is about 100 KB.
   */
  maxBodyBytes?: number;
  /** For tests: another fetch. */
  fetch?: typeof fetch;
  /**
   * The hosts a request may go to: every request carries credentials (a token, a signature, a password). Default:
   * loopback and Huawei Cloud's official API domains (lib/http/allowed-hosts.ts). The policy and the credentials
   * are checked against the same list before a run starts; this is the last check, before anything is sent.
   */
  allowedHosts?: HostAllowList;
}

/**
 * 4 MiB: forty times a full page of real (~1 KB) tasks. A body in memory costs about twice its size while it is
 * read, per request in flight (docs/behaviour.md, "Bodies are bounded").
 */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** How long an error body may take: its code and message come in its first bytes, or not at all. */
const ERROR_BODY_MS = 2000;
/** An error body's read ends at least this long before ky's attempt timer would fire. */
const ERROR_BODY_MARGIN_MS = 250;
/** An attempt's own abort comes this long after ky's attempt timeout, which therefore decides (and is retried). */
const ATTEMPT_ABORT_LAG_MS = 50;
/** How many event-loop turns a given-up attempt gets to close before the next request goes out anyway. */
const MAX_ABORT_TURNS = 20;
/** Statuses whose Response may not carry a body. */
const NULL_BODY_STATUS: ReadonlySet<number> = new Set([204, 205, 304]);

/**
 * The retrying HTTP wrapper: ky does the attempts (see retry-policy.ts); this layer adds the rate budget and
 * authentication on every attempt, one re-authentication after a 401, the wait before each retry, and turns failures
 * into HttpError / TransportError with what the logs need. It knows nothing about OMS.
 *
 * An answer is read inside ky's `fetch` (fetchOnce below), not in an afterResponse hook: ky clones every response for
 * such a hook (a tee of its body stream, about 90 us a request here, bench/run.ts), and inside `fetch` the read is
 * also inside ky's per-attempt timeout and retry loop, so a body that stalls, is cut off or runs too long is retried
 * like any other failed attempt. What belongs to one request reaches the instance's hooks in ky's `context`.
 */
export function createHttp(options: HttpOptions = {}): Http {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const defaultMaxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const send = options.fetch ?? globalThis.fetch;
  // The attempt's Request as ky hands it to `fetch` is the one beforeRequest saw: its exchange is looked up by it.
  const exchanges = new WeakMap<Request, Exchange>();
  const unlimited = new WeakSet<AbortSignal>(); // deadline signals whose listener limit is lifted
  const exchangeOf = (opts: { context: Record<string, unknown> }) => opts.context.exchange as Exchange;
  const retry = kyRetryOptions(policy);

  // Not async (one frame less a request), so nothing in it may throw: ky's attempt timer is cleared only when the
  // promise it gets settles.
  function fetchOnce(req: Request, init?: RequestInit): Promise<Response> {
    const ex = exchanges.get(req);
    if (ex === undefined) return Promise.reject(new Error('an attempt whose Request beforeRequest never saw'));
    const sentMs = performance.now(); // ky's attempt timer started just before this call
    // The first attempt goes out as the Request ky built, which ky holds with its abort controller for the whole
    // attempt: ky's attempt timeout reaches its fetch directly (the run's deadline too: see firstAttempt).
    return ex.attempts === 1 ? firstAttempt(ex, req, init, sentMs) : laterAttempt(ex, req, init, sentMs);
  }

  async function laterAttempt(ex: Exchange, req: Request, init: RequestInit | undefined, sentMs: number): Promise<Response> {
    const { request } = ex;
    // ky hands every attempt after the first a clone of the Request, and Node's fetch keeps a clone's abort link to
    // its source only through weak references (nodejs/undici#4068): after a garbage collection, ky's attempt timeout
    // and the run's deadline would no longer reach a stalled attempt, whose connection then stays open while the
    // run sends more (over `concurrency`), and the deadline waits out attemptTimeoutMs. So each later attempt goes
    // out as a fresh Request whose signal this closure holds, aborted by its own timer (just after ky's) and the
    // deadline.
    const attempt = new AbortController();
    const abortWith = (reason: unknown) => attempt.abort(reason);
    let open = true;
    // By beforeRetry and a final failure: a timed-out attempt is still open, and is ended before anything else goes out.
    ex.abortAttempt = async (reason: unknown) => {
      if (attempt.signal.aborted || !open) return;
      abortWith(reason);
      // Let the abort take effect (the fetch rejects, its socket is destroyed) before the next request is sent; a
      // few event-loop turns, never more than MAX_ABORT_TURNS.
      for (let turn = 0; open && turn < MAX_ABORT_TURNS; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    };
    const timer = setTimeout(() => abortWith(new DOMException('the attempt timed out', 'TimeoutError')), policy.attemptTimeoutMs + ATTEMPT_ABORT_LAG_MS);
    const stopListening = request.signal ? onDeadline(request.signal, abortWith) : undefined;
    // Held here until the attempt is over: the abort reaches the fetch only while this Request object is alive.
    let own: Request | undefined;
    try {
      const body = req.body === null ? null : await req.arrayBuffer();
      own = new Request(req.url, { method: req.method, headers: req.headers, body, redirect: req.redirect, signal: attempt.signal });
      return await answer(ex, own, init, sentMs);
    } finally {
      open = false;
      clearTimeout(timer);
      stopListening?.();
      own = undefined;
    }
  }

  /**
   * The first attempt: ky's own Request, aborted by ky (its attempt timeout). Given up by ky, it is already being
   * aborted; `abortAttempt` waits until its fetch has let go, as for a later attempt.
   *
   * The run's deadline is not given to ky: ky would join it to its own signal with AbortSignal.any for every request
   * (about 15 us, and some 3 KB that only a full collection frees: the deadline holds the joined signal by a weak
   * reference, which the young generation's collections keep alive). With a deadline, the attempt goes out with a
   * signal held here instead, aborted by ky's (its timeout) and by the deadline.
   */
  async function firstAttempt(ex: Exchange, req: Request, init: RequestInit | undefined, sentMs: number): Promise<Response> {
    let open = true;
    const deadline = ex.request.signal;
    let stopListening: (() => void) | undefined;
    let abortWith: ((reason: unknown) => void) | undefined;
    if (deadline !== undefined) {
      const attempt = new AbortController();
      const abort = (reason: unknown) => attempt.abort(reason);
      const onKy = () => abort(req.signal.reason);
      const stopDeadline = onDeadline(deadline, abort);
      if (req.signal.aborted) onKy();
      else req.signal.addEventListener('abort', onKy, { once: true });
      stopListening = () => {
        stopDeadline();
        req.signal.removeEventListener('abort', onKy);
      };
      abortWith = abort;
      // ky's own options for this fetch (a fresh object each attempt), with the signal that ends it.
      if (init === undefined) init = { signal: attempt.signal };
      else init.signal = attempt.signal;
    }
    ex.abortAttempt = async (reason: unknown) => {
      abortWith?.(reason);
      for (let turn = 0; open && turn < MAX_ABORT_TURNS; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    };
    try {
      return await answer(ex, req, init, sentMs);
    } finally {
      open = false;
      stopListening?.();
    }
  }

  /**
   * `abort` is called with the run's deadline's reason when it fires (at once if it has). One deadline serves every
   * request of the run: `concurrency` attempts (up to 64) listen to it at once, and Node would warn of a leak past 10
   * listeners (a non-JSON line in the logs), so its limit is lifted. Returns what removes the listener: each attempt
   * removes its own when it ends.
   */
  function onDeadline(deadline: AbortSignal, abort: (reason: unknown) => void): () => void {
    const listener = () => abort(deadline.reason);
    if (deadline.aborted) {
      listener();
      return () => undefined;
    }
    if (!unlimited.has(deadline)) {
      unlimited.add(deadline);
      try {
        setMaxListeners(0, deadline);
      } catch {
        // A signal of another realm (a test runner's sandbox): the warning is all that is at stake.
      }
    }
    deadline.addEventListener('abort', listener, { once: true });
    return () => deadline.removeEventListener('abort', listener);
  }

  /** One attempt's answer, read as fetchOnce says: error bodies bounded, 2xx bodies read (and parsed) or drained. */
  async function answer(ex: Exchange, req: Request, init: RequestInit | undefined, sentMs: number): Promise<Response> {
    const { request } = ex;
    const res = await send(req, init);
    ex.status = res.status;
    request.auth?.answered?.(res.status);
    if (!res.ok) {
      // The error body's start (all that is wanted of it) is read now and the rest cancelled: no stream is left
      // open behind a retry wait, where a deadline that fires would error it with nobody to catch it.
      const text = await drain(res, sentMs);
      // ky's HTTPError carries this answer: its body, already read and bounded, is what httpErrorFrom parses.
      return new Response(NULL_BODY_STATUS.has(res.status) ? null : text, { status: res.status, statusText: res.statusText, headers: res.headers });
    }
    const html = /html/i.test(res.headers.get('content-type') ?? '');
    if (request.discardBody) {
      // A delete or a pause is never repeated because of its body. OMS answers them with an empty 200; an HTML page
      // in its place (a proxy's) says the request may not have reached OMS: a failure, not a success. The body is
      // drained (a few bytes at most), not cancelled: undici answers a cancel by aborting the request, which costs
      // a DOMException and about 25 us a request.
      await drain(res, sentMs);
      if (html) throw new TransportError('invalid-response', request.method, ex.path);
      return res; // drained; ky reads nothing more of it
    }
    if (html) {
      // A 2xx HTML page (a proxy's error page) is not an answer: try again like a 502.
      res.body?.cancel().catch(() => undefined);
      throw new BadAnswer('invalid-response', 'the answer was an HTML page');
    }
    let text: string;
    try {
      text = await readBody(res, request.maxBodyBytes ?? defaultMaxBodyBytes);
    } catch (error) {
      if (error instanceof BadAnswer) throw error;
      // The stream broke off: a cut connection, or ky's timeout (or the run's deadline) aborting the attempt.
      throw new BadAnswer('connection', 'the body was cut off');
    }
    if (request.parse === undefined) {
      ex.body = text;
      return res; // read into ex.body; ky reads nothing more of it
    }
    try {
      // Parsed here, inside the attempt: a 2xx whose body is not what the call expects is retried like a 502.
      ex.value = request.parse(text);
    } catch (error) {
      throw new BadAnswer('invalid-response', error instanceof Error ? error.message : 'the answer could not be read');
    }
    return res; // parsed into ex.value; the text goes with this attempt
  }

  /**
   * A body nobody parses (an error's, a delete's) gets its own short bound, well inside ky's attempt timer: a stalled
   * error body must not turn a final 401 or 403 into a timeout, which would be retried (re-sending a refused signature
   * or password: a lock-out).
   */
  function drain(res: Response, sentMs: number): Promise<string> {
    return readErrorBody(res, Math.min(ERROR_BODY_MS, policy.attemptTimeoutMs - (performance.now() - sentMs) - ERROR_BODY_MARGIN_MS));
  }

  const base = ky.create({
    retry: {
      ...retry,
      // A timeout after a final status (ky's timer firing while a 401's body was read): final too, never retried.
      shouldRetry: (state) => {
        const status = isTimeoutError(state.error) ? exchanges.get((state.error as Error & { request: Request }).request)?.status : undefined;
        if (status !== undefined && !(status >= 200 && status < 300) && !isRetryStatus(status)) return false;
        return retry.shouldRetry!(state);
      },
    },
    timeout: policy.attemptTimeoutMs,
    // Never follow a redirect: fetch would re-send X-Auth-Token, X-Security-Token and an IAM password body to
    // whatever host the Location names, and count a redirected DELETE's 200 as our delete. A 3xx is a final answer.
    redirect: 'manual',
    // No default headers: ky would merge them into two new Headers objects for every request (about 10 us). Accept
    // is set on the attempt's Request in beforeRequest instead.
    fetch: (input, init) => fetchOnce(input as Request, init),
    hooks: {
      beforeRequest: [
        async (req, opts) => {
          const ex = exchangeOf(opts);
          req.headers.set('Accept', 'application/json');
          ex.attempts += 1;
          ex.authorized = false;
          ex.status = undefined;
          exchanges.set(req, ex);
          if (options.rateBudget) await options.rateBudget();
          const { auth, projectId, signal } = ex.request;
          if (auth) await auth.authorize(req, projectId ?? '', signal);
          ex.authorized = true;
        },
      ],
      beforeRetry: [
        // ky's own wait is 0 (retry-policy.ts): the wait is here, the larger of our backoff with full jitter and a
        // positive Retry-After of a 429/5xx answer, and it ends with the request's signal (the run's deadline).
        async ({ error, retryCount, options: opts }) => {
          const ex = exchangeOf(opts);
          const { request, path } = ex;
          // After the run's deadline, no retry: ky does not know the deadline (see firstAttempt), so it ends here,
          // before anything is told of the attempt. The request's own end (attempt) closes the attempt and reports
          // it, once; an attempt that was still waiting behind the AK/SK probe sent nothing and tells nothing.
          if (request.signal?.aborted) throw request.signal.reason;
          // The attempt ky gave up on (a timeout) is ended now, before the wait: its connection must not stay open
          // beside the next attempt (more than `concurrency` requests in flight at the server).
          await ex.abortAttempt?.(new DOMException('the attempt was given up', 'AbortError'));
          const status = isHTTPError(error) ? error.response.status : undefined;
          // An attempt that got an answer has told the authenticator already (fetchOnce); only one that was sent and
          // got none (a timeout or a lost connection before the headers) is reported as such, once.
          if (ex.authorized && ex.status === undefined && !(error instanceof BadAnswer)) request.auth?.answered?.(undefined);
          const retryAfterMs = isHTTPError(error) ? parseRetryAfterMs(error.response.headers.get('retry-after'), Date.now()) : undefined;
          await wait(retryDelayMs(retryCount, policy, retryAfterMs), request.signal);
          // Told after the wait: a retry that the run's deadline cancelled is not reported as one.
          options.onRetry?.({ method: request.method, path, retry: retryCount, status, reason: failureReason(error) });
        },
      ],
    },
  });
  const allowed = options.allowedHosts ?? HostAllowList.official();
  const refusals = new Map<string, string | undefined>(); // by origin: one URL parse per host, not per request
  const refusalOf = (url: string) => {
    const slash = url.indexOf('/', url.indexOf('//') + 2);
    const origin = slash < 0 ? url : url.slice(0, slash);
    if (!refusals.has(origin)) refusals.set(origin, allowed.refusal(origin));
    return refusals.get(origin);
  };
  return {
    async request(request) {
      const refused = refusalOf(request.url);
      if (refused !== undefined) throw new RefusedHostError(request.method, pathOf(request.url), refused);
      try {
        return await attempt(base, request, options);
      } catch (error) {
        // A 401 gets exactly one more try, and only when the credentials could be renewed (IAM password tokens).
        if (error instanceof HttpError && error.status === 401 && request.auth) {
          if (await request.auth.refresh(request.projectId ?? '', error.errorCode, request.signal)) {
            return attempt(base, request, options);
          }
        }
        throw error;
      }
    },
  };
}

/** One request's state, shared with the instance's hooks (ky's `context`) and with fetchOnce. */
interface Exchange {
  request: HttpRequest;
  /** The URL's path, for errors and logs. */
  path: string;
  attempts: number;
  /**
   * Whether the last attempt got past authorize(): one that was still waiting there (behind the AK/SK probe) when
   * it ended sent nothing, so it must not report "no answer" to the authenticator as if it had been the probe.
   */
  authorized: boolean;
  /** The 2xx body as read by fetchOnce (without a `parse`). */
  body: string;
  /** The request's `parse` of the 2xx body. */
  value: unknown;
  /** The status of the current attempt's answer, once its headers arrived. */
  status: number | undefined;
  /** Ends the current attempt's fetch if it is still open, and resolves once it is over (set by fetchOnce). */
  abortAttempt?: (reason: unknown) => Promise<void>;
}

/** Waits `ms`, or until `signal` aborts (then rejects with its reason, as the request itself would). */
async function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  // ky does not know the deadline (see firstAttempt): a retry after it fired ends here, whatever the wait.
  if (signal?.aborted) throw signal.reason;
  if (ms <= 0) return;
  await sleep(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
    throw signal?.aborted ? signal.reason : error;
  });
}

async function attempt(client: KyInstance, request: HttpRequest, options: HttpOptions): Promise<HttpResponse> {
  const startedMs = performance.now();
  const ex: Exchange = { request, path: pathOf(request.url), attempts: 0, authorized: false, body: '', value: undefined, status: undefined };
  try {
    // Only the options the request has: ky merges every key it is given, for every request.
    const init: KyOptions = { method: request.method, context: { exchange: ex } };
    if (request.searchParams) init.searchParams = request.searchParams;
    if (request.json !== undefined) init.json = request.json;
    if (request.headers) init.headers = request.headers;
    // Not request.signal: the attempts listen to the deadline themselves (firstAttempt says why).
    const response = await client(request.url, init);
    options.onDone?.({ method: request.method, path: ex.path, status: response.status, attempts: ex.attempts, ms: performance.now() - startedMs });
    const answer: HttpResponse = { status: response.status, headers: response.headers, body: ex.body };
    if (request.parse) answer.value = ex.value;
    return answer;
  } catch (error) {
    await ex.abortAttempt?.(new DOMException('the request failed', 'AbortError')); // a final timeout: close its connection now
    const final = await toFinalError(error, request.method, ex.path, ex.attempts, request.url);
    if (final instanceof TransportError && final.kind !== 'invalid-response' && ex.authorized && ex.status === undefined) request.auth?.answered?.(undefined);
    options.onDone?.({
      method: request.method,
      path: ex.path,
      ...(final instanceof HttpError ? { status: final.status } : { failure: final instanceof TransportError ? final.kind : 'error' }),
      attempts: ex.attempts,
      ms: performance.now() - startedMs,
    });
    throw final;
  } finally {
    // The attempt's closure holds its Request and fetch options. ky's options (this exchange in their context) and
    // Node's fetch outlive the request until the next full collection (fetch's weak references hold them through the
    // young generation's), and so would the closure: about 1 KB a request promoted to the old generation for nothing.
    // Every attempt is over or given up by now: nothing calls it again.
    ex.abortAttempt = undefined;
  }
}

/** The path of one of our own URLs (scheme://host[:port]/path[?query]), without parsing the whole URL. */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const query = url.indexOf('?', start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}

