import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback-server.js';

/** One request as the server saw it: when its headers arrived (performance.now()), and what it carried. */
export interface Arrival {
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * What the server does with one request:
 * - `{ status, headers?, body? }`: a whole answer (body: an object is sent as JSON, a string as is);
 * - `{ reset: true }`: destroy the socket before answering anything;
 * - `{ hang: true }`: accept and never answer (the socket stays open until the client gives up or close());
 * - `{ stallBody: '...', status? }`: application/json headers (status 200 unless given) with a Content-Length larger
 *   than what follows, the given first bytes, then nothing;
 * - `{ cutBody: '...' }`: the same first bytes, then the socket is destroyed;
 * - `{ flood: { status, bytes, contentLength? } }`: a JSON body of `bytes` bytes (no Content-Length unless given),
 *   written in 64 KiB chunks as fast as the client reads; `floodSent()` says how many bytes left the server.
 */
export type Reply =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { reset: true }
  | { hang: true }
  | { stallBody: string; status?: number }
  | { cutBody: string }
  | { flood: { status: number; bytes: number; contentLength?: number } };

/** Picks the reply of the n-th request (0-based). */
export type Script = (n: number, arrival: Arrival) => Reply;

export interface ScriptServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Every request in arrival order. */
  readonly arrivals: Arrival[];
  /** Gaps in ms between consecutive arrivals (arrivals.length - 1 of them). */
  gaps(): number[];
  /** Replaces the script and forgets the arrivals. */
  reset(script: Script | Reply[]): void;
  /** Sockets the client still holds open (not closed by either side). */
  openSockets(): number;
  /** Bytes of `flood` bodies written so far (accepted by the socket), over all requests. */
  floodSent(): number;
  /** Destroys every socket (stalled and hanging ones included) and stops listening. */
  close(): Promise<void>;
}

/** A list of replies as a script: the n-th request gets the n-th reply, the last one repeats. */
export function sequence(replies: Reply[]): Script {
  if (replies.length === 0) throw new Error('sequence needs at least one reply');
  return (n) => replies[Math.min(n, replies.length - 1)]!;
}

/** A loopback node:http server on a random port that answers from a per-request script and records each arrival. */
export async function startScriptServer(script: Script | Reply[] = [{ status: 200, body: {} }]): Promise<ScriptServer> {
  let current: Script = Array.isArray(script) ? sequence(script) : script;
  const arrivals: Arrival[] = [];
  const flood = { sent: 0 };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const arrival: Arrival = { at: performance.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    const n = arrivals.length;
    arrivals.push(arrival);
    req.resume(); // drain any request body
    answer(current(n, arrival), req, res, flood);
  });
  const listening = await listenOnLoopback(server);

  return {
    url: listening.url,
    arrivals,
    gaps: () => arrivals.slice(1).map((a, i) => a.at - arrivals[i]!.at),
    reset(next) {
      current = Array.isArray(next) ? sequence(next) : next;
      arrivals.length = 0;
    },
    openSockets: listening.openSockets,
    floodSent: () => flood.sent,
    close: listening.close,
  };
}

function answer(reply: Reply, req: IncomingMessage, res: ServerResponse, flood: { sent: number }): void {
  if ('flood' in reply) {
    const { status, bytes, contentLength } = reply.flood;
    res.writeHead(status, { 'Content-Type': 'application/json', ...(contentLength === undefined ? {} : { 'Content-Length': String(contentLength) }) });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    chunk.write('{"tasks":["');
    let left = bytes;
    const pump = (): void => {
      while (left > 0 && !res.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        flood.sent += piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    res.on('close', () => (left = 0));
    pump();
    return;
  }
  if ('reset' in reply) {
    req.socket.destroy();
    return;
  }
  if ('hang' in reply) return;
  if ('stallBody' in reply || 'cutBody' in reply) {
    const partial = 'stallBody' in reply ? reply.stallBody : reply.cutBody;
    const status = 'stallBody' in reply ? (reply.status ?? 200) : 200;
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(partial) + 1000) });
    res.flushHeaders();
    res.write(partial);
    // Let the first bytes leave before the cut, so the client really is mid-body.
    if ('cutBody' in reply) setTimeout(() => req.socket.destroy(), 20);
    return;
  }
  const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const headers: Record<string, string> = { ...(typeof reply.body === 'string' || reply.body === undefined ? {} : { 'Content-Type': 'application/json' }), ...reply.headers };
  res.writeHead(reply.status, headers);
  res.end(body);
}
