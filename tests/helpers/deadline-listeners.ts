/**
 * Run by tests/integration/http-safety.test.ts in a plain Node process: 64 requests that hang until their attempt
 * times out, all on one deadline signal. Prints {settled, arrivals, warnings} as JSON.
 */
import { createHttp } from '../../lib/http/client.js';
import { startScriptServer } from './script-server.js';

const warnings: string[] = [];
process.on('warning', (warning) => warnings.push(warning.name));
const server = await startScriptServer([{ hang: true }]);
const deadline = new AbortController();
const http = createHttp({ retry: { attempts: 1, attemptTimeoutMs: 300, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
const results = await Promise.allSettled(Array.from({ length: 64 }, () => http.request({ method: 'GET', url: `${server.url}/x`, signal: deadline.signal })));
await new Promise((resolve) => setTimeout(resolve, 50)); // warnings are emitted on a later tick
process.stdout.write(JSON.stringify({ settled: results.length, arrivals: server.arrivals.length, warnings }));
await server.close();
