import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorStats } from './types.js';
import { bump } from './stats.js';

/** Bodies above this are refused: no client of the emulator has a reason to send more. */
const MAX_BODY_BYTES = 1024 * 1024;

/** A Huawei-style request id: 32 hex digits, unique per answer. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}

export function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new RangeError(`request body above ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Everything a route handler needs to answer one request. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: Buffer;
  requestId: string;
  stats: EmulatorStats;
}

export function send(
  ex: Exchange,
  status: number,
  body: string,
  contentType = 'application/json;charset=UTF-8',
  headers: Record<string, string> = {},
): void {
  const { res } = ex;
  if (res.headersSent || res.destroyed) return;
  bump(ex.stats.byStatus, String(status));
  res.statusCode = status;
  res.setHeader('X-Request-Id', ex.requestId);
  if (body.length > 0) res.setHeader('Content-Type', contentType);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(body);
}

/**
 * The OMS error body. API Gateway errors (APIGW.*) also carry request_id in the body, as the real gateway does.
 */
export function sendError(
  ex: Exchange,
  status: number,
  errorCode: string,
  errorMsg: string,
  headers: Record<string, string> = {},
): void {
  const body: Record<string, string> = { error_code: errorCode, error_msg: errorMsg };
  if (errorCode.startsWith('APIGW.')) body.request_id = ex.requestId;
  send(ex, status, JSON.stringify(body), 'application/json;charset=UTF-8', headers);
}

/** A header's value as one string (Node joins most repeated headers itself; arrays come from set-cookie-like ones). */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
