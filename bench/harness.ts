/**
 * What the benchmarks share (bench/run.ts, bench/profile.ts): the emulator in its own process, a real purge as the
 * CLI runs it, and the same deletes by a bare ky loop.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import ky from 'ky';
import pLimit from 'p-limit';
import type { Authenticator } from '../lib/auth/types.js';
import { jsonLinesLog } from '../lib/log/json-lines.js';
import { Redactor } from '../lib/log/redact.js';
import { parsePolicy } from '../lib/policy/load.js';
import { runPurge } from '../lib/purge/engine.js';
import { createRunClient } from '../lib/purge/runtime.js';
import { ROOT } from '../tests/deploy/sandbox.js';
import { BENCH_PROJECT, BENCH_TOKEN, benchTasks } from './bench-tasks.js';

export const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The emulator in its own process with `tasks` realistic tasks and `latencyMs` per answer. */
export async function emulatorChild(tasks: number, latencyMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/emulator-child.ts', String(tasks), String(latencyMs)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const next = async () => (await once(lines, 'line'))[0] as string;
  const url = (await next()).replace(/^READY /, '');
  return {
    url,
    async stats() {
      child.stdin!.write('stats\n');
      return JSON.parse(await next()) as { total: number; maxInFlight: number; calls: Record<string, number> };
    },
    stop: () => child.stdin!.end(),
  };
}

export function benchPolicy(url: string, extra = '', concurrency = 16) {
  return parsePolicy(`version: 1
targets: [{ name: bench, projectId: ${BENCH_PROJECT}, region: cn-north-4, endpoint: "${url}" }]
rules: [{ name: done, statuses: [succeeded], olderThan: 7d }]
limits: { maxDeletesPerRun: 100000 }
concurrency: ${concurrency}
${extra}`);
}

/** A real purge of every task, as the CLI runs it (JSON log lines, redaction), returning wall time, CPU and requests. */
export async function purge(tasks: number, latencyMs: number, auth: Authenticator, extra = '', onRequest?: (startMs: number) => void) {
  const emu = await emulatorChild(tasks, latencyMs);
  const policy = benchPolicy(emu.url, extra);
  const lines: string[] = [];
  const log = jsonLinesLog((line) => void lines.push(line), { redactor: new Redactor(), level: onRequest ? 'DEBUG' : 'INFO' });
  const observed = onRequest
    ? { ...log, debug: (message: string, fields?: Record<string, unknown>) => void (message === 'request done' && onRequest(performance.now() - Number(fields?.ms))) }
    : log;
  const { oms } = createRunClient(policy, auth, { log: observed });
  let listedAt = 0;
  const cpu0 = cpuMs();
  const started = performance.now();
  let listCpu = 0;
  const summary = await runPurge({ policy, dryRun: false }, { oms, log, onProgress: (p) => void (p.phase === "list" && ((listedAt = performance.now()), (listCpu = cpuMs() - cpu0))) });
  const wallMs = performance.now() - started;
  const cpu = cpuMs() - cpu0;
  const stats = await emu.stats();
  emu.stop();
  if (summary.totals.deleted !== tasks) throw new Error(`bench purge deleted ${summary.totals.deleted} of ${tasks}`);
  return { wallMs, listMs: listedAt - started, listCpuMs: listCpu, cpuMs: cpu, requests: stats.total, maxInFlight: stats.maxInFlight };
}

/** The same deletes through ky alone, `concurrency` at a time: fetch + ky, nothing of ours. */
export async function bareKy(tasks: number, latencyMs: number, concurrency: number) {
  const emu = await emulatorChild(tasks, latencyMs);
  const ids = benchTasks(tasks, Date.now()).map((t) => t.id);
  const limit = pLimit(concurrency);
  const cpu0 = cpuMs();
  const started = performance.now();
  await Promise.all(
    ids.map((id) => limit(() => ky.delete(`${emu.url}/v2/${BENCH_PROJECT}/tasks/${id}`, { headers: { 'X-Auth-Token': BENCH_TOKEN } }).then((r) => r.arrayBuffer()))),
  );
  const cpu = cpuMs() - cpu0;
  const wallMs = performance.now() - started;
  emu.stop();
  return { cpuMs: cpu, requests: tasks, wallMs };
}

