import type { Exchange } from './http-util.js';
import { send, sendError } from './http-util.js';
import { mulberry32 } from './prng.js';
import { bump } from './stats.js';
import type { FaultOptions, FaultRoute } from './types.js';
import { FAULT_ROUTES } from './types.js';

export type FaultKind = 'reset' | 'stall' | '429' | '503' | '500' | 'html' | 'bad-json';

export const DEFAULT_STALL_MS = 30_000;
const PROXY_ERROR_PAGE = '<html><body>502 Bad Gateway</body></html>';

/** 200 application/json bodies that are not the JSON a list or show call expects. */
export const BAD_JSON_BODIES: readonly string[] = [
  '{"tasks": [{"id": 1, "name": "cut', // cut off
  '[]', // not an object
  '"tasks"', // not an object
  '{"tasks": {"id": 1}, "count": 1}', // tasks not an array
  '{"tasks": [], "count": "12"}', // count not a number
  '{"error": "upstream reset"}', // an object without tasks (a list) or id (a show)
];

/**
 * Picks a fault per OMS request with a seeded PRNG. One draw per eligible request (whatever the rates), so the same
 * seed and request order replay the same pattern; the rates partition [0, 1) in a fixed order.
 */
export class FaultInjector {
  private options: FaultOptions = {};
  private readonly random: () => number;
  /** Open stall timers, cleared by close() so nothing outlives the server. */
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(seed: number, private readonly now: () => number) {
    this.random = mulberry32(seed);
  }

  set(options: FaultOptions): void {
    this.options = { ...options };
  }

  get latencyMs(): number {
    return Math.max(0, this.options.latencyMs ?? 0);
  }

  pick(route: FaultRoute): FaultKind | undefined {
    const o = this.options;
    const routes: readonly FaultRoute[] = o.routes ?? FAULT_ROUTES;
    if (!routes.includes(route)) return undefined;
    const r = this.random();
    let edge = 0;
    const table: Array<[FaultKind, number | undefined]> = [
      ['reset', o.rateReset],
      ['stall', o.rateStall],
      ['429', o.rate429],
      ['503', o.rate503],
      ['500', o.rate500],
      ['html', o.rateHtml],
      // Only list and show: a delete or a stop that answers 200 has done its work in this emulator's model.
      ['bad-json', route === 'list' || route === 'show' ? o.rateBadJson : 0],
    ];
    for (const [kind, rate] of table) {
      edge += Math.min(1, Math.max(0, rate ?? 0));
      if (r < edge) return kind;
    }
    return undefined;
  }

  /** Carries out a picked fault: answers, resets or stalls the request. */
  apply(ex: Exchange, kind: FaultKind): void {
    bump(ex.stats.faultsInjected, kind);
    switch (kind) {
      case 'reset':
        ex.req.socket.destroy();
        return;
      case 'stall': {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          ex.req.socket.destroy();
        }, this.options.stallMs ?? DEFAULT_STALL_MS);
        this.timers.add(timer);
        return;
      }
      case '429':
        return sendError(ex, 429, 'APIGW.0308', 'The throttling threshold has been reached: policy user over ratelimit.', this.retryAfter());
      case '503':
        return sendError(ex, 503, 'APIGW.0202', 'Backend unavailable.', this.retryAfter());
      case '500':
        return sendError(ex, 500, 'OMS.0500', 'Internal server error (injected by the emulator).');
      case 'html':
        return send(ex, 200, PROXY_ERROR_PAGE, 'text/html');
      case 'bad-json':
        return send(ex, 200, this.options.badJsonBody ?? BAD_JSON_BODIES[Math.floor(this.random() * BAD_JSON_BODIES.length)] ?? '[]', 'application/json');
    }
  }

  private retryAfter(): Record<string, string> {
    let mode = this.options.retryAfter ?? 'mixed';
    if (mode === 'mixed') mode = (['seconds', 'http-date', 'none'] as const)[Math.floor(this.random() * 3)] ?? 'none';
    const seconds = this.options.retryAfterSeconds ?? 1;
    if (mode === 'seconds') return { 'Retry-After': String(seconds) };
    if (mode === 'http-date') return { 'Retry-After': new Date(this.now() + seconds * 1000).toUTCString() };
    return {};
  }

  /** Added latency, cancelled (not run) when the server closes. */
  delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
