/**
 * Instructions a request, counted by valgrind (on purpose, never in the test suite): a 3,000-delete purge and the bare
 * ky loop of bench/run.ts, with the network replaced by recorded answers, each run under `valgrind --tool=cachegrind`
 * with W and with W + K rounds; the difference over K rounds is what one round costs (W warm-up rounds, so that the
 * JIT's own work is mostly done). Node runs with V8's `--predictable` (`--v8` replaces it): garbage collection and
 * compilation on the main thread, fixed seeds. Without it the same code counted 794k and 1,000k a request in two
 * runs, as the JIT and the young generation's size settled differently; with it, three runs counted 629k, 633k and
 * 643k. Counts still move by a few percent when the machine is busy (two counts at once, or a benchmark beside them):
 * compare the two sides under the same conditions, each at least twice. Every thread's work is counted, as process
 * CPU time is; the answers come from memory, so the figure is the client's own work without the sockets'.
 * Instructions are not time: a JSON parse's instructions are cheap ones, and what costs time without many
 * instructions (memory the garbage collector copies, system calls) hardly shows. Compare commits with it (the same
 * script on each); judge by bench/run.ts.
 *   npx tsx bench/instructions.ts [--rounds K] [--warmup W] [--auth token|aksk] [--only ours|bare] [--v8=FLAGS]
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import ky from 'ky';
import pLimit from 'p-limit';
import { akskAuthenticator } from '../lib/auth/aksk.js';
import { tokenAuthenticator } from '../lib/auth/types.js';
import { jsonLinesLog } from '../lib/log/json-lines.js';
import { Redactor } from '../lib/log/redact.js';
import { runPurge } from '../lib/purge/engine.js';
import { createRunClient } from '../lib/purge/runtime.js';
import { BENCH_AKSK, BENCH_PROJECT, BENCH_TOKEN, benchTasks } from './bench-tasks.js';
import { benchPolicy, emulatorChild } from './harness.js';

const TASKS = 3000;
const CONCURRENCY = 16;
type Recorded = Array<[string, { status: number; headers: [string, string][]; body: string }]>;
const child = process.env.OMS_JANITOR_IR_CHILD;

if (child) {
  // In valgrind: the recorded answers, then `rounds` runs; prints the requests one round sent.
  const { file, mode, auth, rounds } = JSON.parse(child) as { file: string; mode: 'ours' | 'bare'; auth: string; rounds: number };
  const answers = new Map(JSON.parse(readFileSync(file, 'utf8')) as Recorded);
  const url = 'http://127.0.0.1:9'; // never connected to: every answer comes from `answers`
  let requests = 0;
  const deleted: [string, string][] = [['content-type', 'application/json'], ['content-length', '0']];
  globalThis.fetch = (async (input: Request) => {
    requests += 1;
    await new Promise((resolve) => setImmediate(resolve)); // an answer comes on a later turn, as from a socket
    if (input.method !== 'GET') return new Response('', { status: 200, headers: deleted });
    const page = answers.get(input.url.slice(input.url.indexOf('/', input.url.indexOf('//') + 2)))!;
    return new Response(page.body, { status: page.status, headers: page.headers });
  }) as typeof fetch;
  const once = mode === 'bare' ? () => bareLoop(url) : () => purgeOnce(url, auth);
  for (let r = 0; r < rounds; r += 1) {
    requests = 0;
    await once();
  }
  process.stdout.write(`REQUESTS ${requests}\n`);
  process.exit(0);
}

async function purgeOnce(url: string, auth: string): Promise<void> {
  const policy = benchPolicy(url);
  const lines: string[] = [];
  const log = jsonLinesLog((line) => void lines.push(line), { redactor: new Redactor(), level: 'INFO' });
  const { oms } = createRunClient(policy, auth === 'aksk' ? akskAuthenticator(BENCH_AKSK) : tokenAuthenticator(BENCH_TOKEN), { log });
  const summary = await runPurge({ policy, dryRun: false }, { oms, log });
  if (summary.totals.deleted !== TASKS) throw new Error(`deleted ${summary.totals.deleted} of ${TASKS}`);
}

async function bareLoop(url: string): Promise<void> {
  const limit = pLimit(CONCURRENCY);
  const ids = benchTasks(TASKS, Date.now()).map((t) => t.id);
  await Promise.all(ids.map((id) => limit(() => ky.delete(`${url}/v2/${BENCH_PROJECT}/tasks/${id}`, { headers: { 'X-Auth-Token': BENCH_TOKEN } }).then((r) => r.arrayBuffer()))));
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, warmup: { type: 'string', default: '2' }, auth: { type: 'string', default: 'token' }, only: { type: 'string' }, v8: { type: 'string', default: '--predictable' } } });
if (spawnSync('valgrind', ['--version']).status !== 0) {
  process.stderr.write('valgrind is not installed: this benchmark counts instructions with valgrind --tool=cachegrind\n');
  process.exit(1);
}
const K = Number(values.rounds);
const W = Number(values.warmup);
const dir = await mkdtemp(join(tmpdir(), 'oms-janitor-ir-'));
const file = join(dir, 'answers.json');
await record(file);
const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);

/** Instructions of one process running `rounds` rounds, and the requests a round sent. */
async function count(mode: 'ours' | 'bare', rounds: number): Promise<{ instructions: number; requests: number }> {
  const env = { ...process.env, OMS_JANITOR_IR_CHILD: JSON.stringify({ file, mode, auth: values.auth, rounds }) };
  const { stdout, stderr } = await run('valgrind', ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, ...values.v8.split(' ').filter(Boolean), '--import', 'tsx', self], { env, maxBuffer: 64 * 1024 * 1024 });
  const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr)?.[1];
  const requests = /REQUESTS (\d+)/.exec(stdout)?.[1];
  if (refs === undefined || requests === undefined) throw new Error(`valgrind run failed:\n${stderr.slice(-2000)}`);
  return { instructions: Number(refs.replace(/,/g, '')), requests: Number(requests) };
}

const perRequest: Record<string, number> = {};
for (const mode of ['bare', 'ours'] as const) {
  if (values.only && values.only !== mode) continue;
  const base = await count(mode, W);
  const more = await count(mode, W + K);
  perRequest[mode] = (more.instructions - base.instructions) / (K * more.requests);
  process.stdout.write(`${mode === 'ours' ? `purge (${values.auth})` : 'bare ky loop'}: ${Math.round(perRequest[mode]! / 1000)}k instructions a request (${more.requests} requests a round, ${K} rounds)\n`);
}
if (perRequest.ours && perRequest.bare) process.stdout.write(`ratio: ${(perRequest.ours / perRequest.bare).toFixed(3)}x (answers from memory: the sockets' share, the same for both, is left out)\n`);
await rm(dir, { recursive: true, force: true });

/** The emulator's answers to one purge's GETs (its pages), kept in `file` by path and query. */
async function record(to: string): Promise<void> {
  const emu = await emulatorChild(TASKS, 0);
  const realFetch = globalThis.fetch;
  const answers: Recorded = [];
  globalThis.fetch = (async (input: Request, init?: RequestInit) => {
    const res = await realFetch(input, init);
    if (input.method === 'GET') {
      const url = new URL(input.url);
      answers.push([url.pathname + url.search, { status: res.status, headers: [...res.headers], body: await res.clone().text() }]);
    }
    return res;
  }) as typeof fetch;
  try {
    await purgeOnce(emu.url, 'token');
  } finally {
    globalThis.fetch = realFetch;
    emu.stop();
  }
  writeFileSync(to, JSON.stringify(answers));
}
