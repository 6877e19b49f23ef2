/** Reading answers' bodies within bounds: a 2xx body up to a size, an error body's start within a time. */
import type { TransportFailure } from './errors.js';

/** Error bodies carry a code and a message: their first 16 KiB are read, the rest is cancelled unread. */
export const MAX_ERROR_BODY_BYTES = 16 * 1024;

/** A 2xx answer that is not one (HTML, cut off, too long): retried like a 502; after the last attempt, a TransportError. */
export class BadAnswer extends Error {
  override name = 'BadAnswer';
  constructor(
    readonly kind: TransportFailure,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export class BodyTooLarge extends BadAnswer {
  constructor(maxBytes: number) {
    super('invalid-response', `the body was longer than the ${maxBytes}-byte limit`);
  }
}

/**
 * A 2xx body as text, at most `maxBytes`: one that sends without end must not fill the memory. Past `maxBytes` the
 * stream is cancelled (which releases the connection) and the read fails (BodyTooLarge). Time is bounded by ky's
 * per-attempt timeout and the run's deadline, which abort the stream. The chunks are decoded once, at the end.
 */
export async function readBody(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return '';
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    response.body.cancel().catch(() => undefined);
    throw new BodyTooLarge(maxBytes);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, bytes).toString('utf8');
    if (bytes + value.byteLength > maxBytes) {
      reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(maxBytes);
    }
    chunks.push(value);
    bytes += value.byteLength;
  }
}

/**
 * The start of an error body (or of a body nobody needs): at most MAX_ERROR_BODY_BYTES, within `timeoutMs`; then
 * the stream is cancelled and what arrived is what there is (a broken or stalled body gives what came before it,
 * often nothing).
 */
export function readErrorBody(response: Response, timeoutMs: number): Promise<string> {
  if (response.body === null) return Promise.resolve('');
  // An empty body (a delete's or a pause's usual answer) has ended with its headers: one read, no timer (and no
  // async frame: this is every delete's path).
  if (response.headers.get('content-length') === '0') return response.body.getReader().read().then(empty, empty);
  return readBodyStart(response.body, timeoutMs);
}

const empty = () => '';

async function readBodyStart(body: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), Math.max(0, timeoutMs))));
  let ended = false;
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), expired]);
      if (next === 'expired') break;
      if (next.done) {
        ended = true;
        break;
      }
      const room = MAX_ERROR_BODY_BYTES - bytes;
      chunks.push(next.value.byteLength > room ? next.value.subarray(0, room) : next.value);
      bytes += Math.min(room, next.value.byteLength);
      if (bytes >= MAX_ERROR_BODY_BYTES) break;
    }
  } catch {
    // The stream broke off: what arrived before is all there is.
  } finally {
    clearTimeout(timer);
    // Cancel only a body not read to its end (a cancel makes undici abort the request: costly, and needless).
    if (!ended) reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks, bytes).toString('utf8');
}
