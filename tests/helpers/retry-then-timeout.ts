/**
 * Run in a child process (node --import tsx): one request through the real client that gets a 503, then an attempt
 * that times out, then a 200. Prints the outcome and exits 0, unless something (an unhandled rejection) kills it.
 * A child process, because jest intercepts unhandled rejections itself, while plain node dies of them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createHttp } from '../../lib/http/client.js';
import { startScriptServer } from './script-server.js';

const server = await startScriptServer([{ status: 503, body: { error_code: 'APIGW.0503' } }, { hang: true }, { status: 200, body: { ok: true } }]);
try {
  const http = createHttp({ retry: { attempts: 4, attemptTimeoutMs: 300, baseDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 1500 } });
  const res = await http.request({ method: 'GET', url: `${server.url}/v2/p/tasks` });
  await sleep(100); // let anything left over from the aborted attempt settle
  process.stdout.write(`status ${res.status} arrivals ${server.arrivals.length}\n`);
} finally {
  await server.close();
}
