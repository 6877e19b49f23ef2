import { createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback-server.js';

/** One request as the proxy received it, before anything was forwarded. */
export interface ProxiedRequest {
  /** 0-based arrival number. */
  n: number;
  method: string;
  /** Exactly as it arrived on the wire (nothing decoded or normalised): what a malformed-URL check must look at. */
  rawUrl: string;
  /** rawUrl's path part, still raw. */
  rawPath: string;
  query: URLSearchParams;
}

/**
 * What the proxy does instead of forwarding:
 * - `{ status, body, contentType? }`: answers itself (the upstream never sees the request);
 * - `{ cutBody }`: 200 application/json with a Content-Length larger than what follows, these first bytes, then the
 *   socket is destroyed (a page cut off mid-stream).
 */
export type ProxyAnswer = { status: number; body: string; contentType?: string } | { cutBody: string };

export interface ProxyHooks {
  /** Called on arrival, before forwarding; may change the upstream's state (tasks shifting between pages), or answer. */
  intercept?: (request: ProxiedRequest) => ProxyAnswer | undefined;
  /** Rewrites the body of a forwarded answer (a list page's `count`, say). */
  rewrite?: (request: ProxiedRequest, status: number, body: string) => string;
}

export interface RecordingProxy {
  /** http://127.0.0.1:PORT, to put in a policy's `endpoint` instead of the upstream's. */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: ProxiedRequest[];
  /** Bodies of the forwarded answers, by arrival number (after `rewrite`). */
  readonly answers: Map<number, string>;
  setHooks(hooks: ProxyHooks): void;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of the emulator. The emulator keeps no record of request URLs, and its routes
 * decode path segments; this records every request line exactly as the client sent it, and lets a test shape what
 * the emulator cannot produce by itself (a wrong `count`, a page cut off mid-stream, tasks shifting between pages)
 * while deletes still reach the emulator's real task store.
 */
export async function startRecordingProxy(upstream: string, hooks: ProxyHooks = {}): Promise<RecordingProxy> {
  let current = hooks;
  const requests: ProxiedRequest[] = [];
  const answers = new Map<number, string>();
  const target = new URL(upstream);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const rawUrl = req.url ?? '';
    const q = rawUrl.indexOf('?');
    const proxied: ProxiedRequest = {
      n: requests.length,
      method: req.method ?? '',
      rawUrl,
      rawPath: q === -1 ? rawUrl : rawUrl.slice(0, q),
      query: new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1)),
    };
    requests.push(proxied);
    const own = current.intercept?.(proxied);
    if (own !== undefined) {
      req.resume();
      if ('cutBody' in own) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(own.cutBody) + 1000) });
        res.write(own.cutBody);
        setTimeout(() => req.socket.destroy(), 10);
      } else {
        res.writeHead(own.status, { 'Content-Type': own.contentType ?? 'application/json' });
        res.end(own.body);
      }
      return;
    }
    const headers = { ...req.headers, host: target.host };
    const out = forward({ host: target.hostname, port: target.port, method: req.method, path: rawUrl, headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const status = up.statusCode ?? 502;
        let body = Buffer.concat(chunks).toString('utf8');
        if (current.rewrite) body = current.rewrite(proxied, status, body);
        answers.set(proxied.n, body);
        const copied: Record<string, string> = {};
        for (const [name, value] of Object.entries(up.headers)) {
          if (typeof value === 'string' && !['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(name)) copied[name] = value;
        }
        res.writeHead(status, { ...copied, 'Content-Length': String(Buffer.byteLength(body)) });
        res.end(body);
      });
      up.on('error', () => req.socket.destroy());
    });
    out.on('error', () => req.socket.destroy());
    req.pipe(out);
  });
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    requests,
    answers,
    setHooks: (next) => {
      current = next;
    },
    close: listening.close,
  };
}

/**
 * The only request lines the janitor may send for one project: the list with numeric `limit` and `offset`, and a task
 * path whose id is a valid id of the spec, 1..19 ASCII digits (no leading zero: "0042" would name task 42), with
 * nothing encoded, no `..`, and nothing after it but `/stop`. Returns the offending request lines, as
 * "METHOD raw-url" (empty when all are well-formed).
 */
export function malformedRequests(requests: readonly ProxiedRequest[], projectId: string): string[] {
  const id = '(0|[1-9][0-9]{0,18})';
  const list = new RegExp(`^/v2/${projectId}/tasks$`);
  const one = new RegExp(`^/v2/${projectId}/tasks/${id}$`);
  const stop = new RegExp(`^/v2/${projectId}/tasks/${id}/stop$`);
  return requests.filter((r) => {
    if (/[^\x21-\x7e]|%|\.\./.test(r.rawUrl)) return true;
    if (r.method === 'GET' && list.test(r.rawPath)) {
      const keys = [...r.query.keys()].sort().join(',');
      return keys !== 'limit,offset' || !/^[0-9]+$/.test(r.query.get('limit') ?? '') || !/^[0-9]+$/.test(r.query.get('offset') ?? '');
    }
    if (r.query.size > 0) return true;
    if ((r.method === 'GET' || r.method === 'DELETE') && one.test(r.rawPath)) return false;
    return !(r.method === 'POST' && stop.test(r.rawPath));
  }).map((r) => `${r.method} ${r.rawUrl}`);
}

/** The task ids of the requests with this method (DELETE: deletes; POST: pauses), in arrival order. */
export function taskIdsOf(requests: readonly ProxiedRequest[], method: 'DELETE' | 'POST' | 'GET'): string[] {
  return requests.filter((r) => r.method === method).flatMap((r) => {
    const m = /\/tasks\/([^/?]+)/.exec(r.rawPath);
    return m?.[1] === undefined ? [] : [m[1]];
  });
}
