/**
 * Where a purge's CPU goes, a request at a time (on purpose, never in the test suite): warm-up purges, then purges
 * of 3,000 tasks (20 ms, C = 16) profiled in this process with V8's sampling profiler (node:inspector), and the self
 * time printed in microseconds per request: by module (our files, ky, undici, Node's internals) and by function. The
 * emulator runs in its own process, so its work is not in the profile. `--out FILE` also writes the .cpuprofile,
 * which Chrome DevTools opens.
 *   npx tsx bench/profile.ts [--auth token|aksk] [--rounds 3] [--top 30] [--out purge.cpuprofile]
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { akskAuthenticator } from '../lib/auth/aksk.js';
import { tokenAuthenticator } from '../lib/auth/types.js';
import { BENCH_AKSK, BENCH_TOKEN } from './bench-tasks.js';
import { bareKy, purge } from './harness.js';

const { values } = parseArgs({
  options: { auth: { type: 'string', default: 'token' }, rounds: { type: 'string', default: '3' }, top: { type: 'string', default: '30' }, out: { type: 'string' }, bare: { type: 'boolean', default: false } },
});
const [tasks, latencyMs, concurrency] = [3000, 20, 16];
const auth = () => (values.auth === 'aksk' ? akskAuthenticator(BENCH_AKSK) : tokenAuthenticator(BENCH_TOKEN));
const once = () => (values.bare ? bareKy(tasks, latencyMs, concurrency) : purge(tasks, latencyMs, auth()));

await once();
await once();
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
let requests = 0;
for (let r = 0; r < Number(values.rounds); r += 1) requests += (await once()).requests;
const { profile } = await session.post('Profiler.stop');
session.disconnect();
if (values.out) await writeFile(values.out, JSON.stringify(profile));

// Self time per node: the samples that landed in it, times the average interval between samples.
const intervalUs = (profile.endTime - profile.startTime) / Math.max(1, profile.samples?.length ?? 1);
const hits = new Map<number, number>();
for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
const byModule = new Map<string, number>();
const byFunction = new Map<string, number>();
const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
for (const node of profile.nodes) {
  const us = (hits.get(node.id) ?? 0) * intervalUs;
  if (us === 0) continue;
  const { url, functionName, lineNumber } = node.callFrame;
  const module = moduleOf(url, functionName);
  if (module === '(idle)') continue;
  add(byModule, module, us);
  add(byFunction, `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`, us);
}
const total = [...byModule.values()].reduce((a, b) => a + b, 0);
const perRequest = (us: number) => (us / requests).toFixed(1).padStart(7);
console.log(`${values.bare ? 'bare ky loop' : `purge (${values.auth})`}: ${requests} requests, ${(total / requests).toFixed(0)} us of CPU a request on the main thread (sampled)\n`);
console.log('us/request  module');
for (const [name, us] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${perRequest(us)}     ${name}`);
console.log('\nus/request  function (self time)');
for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${perRequest(us)}     ${name}`);

/** Our files by path; dependencies by package; Node's own by area; V8's pseudo-frames as they are. */
function moduleOf(url: string, name: string): string {
  if (url === '') return name === '(idle)' || name === '(program)' || name === '(garbage collector)' ? name : '(native)';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  if (url.startsWith('node:')) return url.startsWith('node:internal/deps/undici') ? 'undici (Node)' : url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const ours = /\/(lib|bench|emulator|functions|bin)\/(.+)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

function shortUrl(url: string): string {
  return url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(lib|bench|emulator)\//, '$1/').replace(/^node:internal\//, 'node:');
}
