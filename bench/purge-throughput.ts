/**
 * Benchmark (run on purpose: `npm run bench`): a real purge of N deletable tasks through the real client against
 * the emulator (in its own process) with a fixed latency per request. Prints wall time, requests per second, peak
 * in-flight requests and the janitor's memory. Defaults match issue 2's yardstick: 3000 tasks, 20 ms, concurrency 16.
 *   npx tsx bench/purge-throughput.ts [--tasks 3000] [--latency 20] [--concurrency 16]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { tokenAuthenticator } from '../lib/auth/types.js';
import { silentLog } from '../lib/log/types.js';
import { parsePolicy } from '../lib/policy/load.js';
import { runPurge } from '../lib/purge/engine.js';
import { createRunClient } from '../lib/purge/runtime.js';
import { BENCH_PROJECT, BENCH_TOKEN } from './bench-tasks.js';

const { values } = parseArgs({
  options: { tasks: { type: 'string', default: '3000' }, latency: { type: 'string', default: '20' }, concurrency: { type: 'string', default: '16' } },
});
const count = Number(values.tasks);
const latencyMs = Number(values.latency);
const concurrency = Number(values.concurrency);

const child = spawn(process.execPath, ['--import', 'tsx', 'bench/emulator-child.ts', String(count), String(latencyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout! });
const nextLine = async () => (await once(lines, 'line'))[0] as string;
const url = (await nextLine()).replace(/^READY /, '');

const policy = parsePolicy(`version: 1
targets: [{ name: bench, projectId: ${BENCH_PROJECT}, region: cn-north-4, endpoint: "${url}" }]
rules: [{ name: done, statuses: [succeeded], olderThan: 7d }]
limits: { maxDeletesPerRun: 100000 }
concurrency: ${concurrency}
`);
const { oms } = createRunClient(policy, tokenAuthenticator(BENCH_TOKEN));
let listedAt = 0;
const started = performance.now();
const summary = await runPurge(
  { policy, dryRun: false },
  { oms, log: silentLog, onProgress: (p) => void (p.phase === 'list' && p.done === p.total && (listedAt = performance.now())) },
);
const wallMs = performance.now() - started;
child.stdin!.write('stats\n');
const stats = JSON.parse(await nextLine()) as { total: number; maxInFlight: number };
child.stdin!.end();

const latencyBoundMs = (Math.ceil(count / 100) + count / concurrency) * latencyMs;
console.log(JSON.stringify({
  tasks: count,
  latencyMs,
  concurrency,
  deleted: summary.totals.deleted,
  failed: summary.totals.failed,
  wallSeconds: +(wallMs / 1000).toFixed(2),
  listSeconds: +((listedAt - started) / 1000).toFixed(2),
  requests: stats.total,
  requestsPerSecond: Math.round(stats.total / (wallMs / 1000)),
  deletesPerSecond: Math.round(summary.totals.deleted / (wallMs / 1000)),
  maxInFlight: stats.maxInFlight,
  latencyBoundSeconds: +(latencyBoundMs / 1000).toFixed(2),
  janitorRssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  janitorHeapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
}, null, 2));
if (summary.totals.deleted !== count) process.exitCode = 1;
