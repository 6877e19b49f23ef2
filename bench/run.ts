/**
 * `npm run bench` (on purpose, never in the test suite): the janitor against the physical bound, one table and a
 * JSON file (bench/results.json). Every figure is also given as a ratio (to the latency bound, to a bare ky loop in
 * the same run, to a bare `node -e 0`), which means the same on another machine. The emulator runs in its own
 * process, so the janitor's CPU and memory are its own.
 *   npx tsx bench/run.ts [--rounds 3] [--cpu-rounds 15] [--big 100000] [--only throughput,cpu,memory,rate,start]
 */
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseArgs, promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import ky from 'ky';
import { akskAuthenticator } from '../lib/auth/aksk.js';
import { tokenAuthenticator } from '../lib/auth/types.js';
import { jsonLinesLog } from '../lib/log/json-lines.js';
import { Redactor } from '../lib/log/redact.js';
import { runPurge } from '../lib/purge/engine.js';
import { createRunClient } from '../lib/purge/runtime.js';
import { buildHandlerBundle } from '../tests/deploy/handler-bundle.js';
import { ROOT } from '../tests/deploy/sandbox.js';
import { BENCH_AKSK, BENCH_PROJECT, BENCH_TOKEN } from './bench-tasks.js';
import { bareKy, benchPolicy, emulatorChild, purge } from './harness.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, 'cpu-rounds': { type: 'string' }, big: { type: 'string', default: '100000' }, only: { type: 'string' } },
});
const ROUNDS = Number(values.rounds);
const BIG = Number(values.big);
const only = values.only?.split(',');
const wanted = (section: string) => !only || only.includes(section);
const run = promisify(execFile);
const median = (xs: number[]) => quantile(xs, 0.5);
/** The q-quantile (nearest rank) of xs. */
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** What the official SDK samples do: list page by page, then delete one task at a time. */
async function naiveLoop(tasks: number, latencyMs: number) {
  const emu = await emulatorChild(tasks, latencyMs);
  const headers = { 'X-Auth-Token': BENCH_TOKEN };
  const started = performance.now();
  let requests = 0;
  const ids: string[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await ky.get(`${emu.url}/v2/${BENCH_PROJECT}/tasks`, { headers, searchParams: { limit: 100, offset } }).json<{ tasks: Array<{ id: number }> }>();
    requests += 1;
    if (page.tasks.length === 0) break;
    ids.push(...page.tasks.map((t) => String(t.id)));
  }
  for (const id of ids) {
    await ky.delete(`${emu.url}/v2/${BENCH_PROJECT}/tasks/${id}`, { headers });
    requests += 1;
  }
  const wallMs = performance.now() - started;
  emu.stop();
  return { wallMs, requests, msPerRequest: wallMs / requests };
}

const table: Array<[string, string, string]> = [];
const results: Record<string, unknown> = { node: process.version, date: new Date().toISOString() };

if (wanted('throughput')) {
  const [tasks, latencyMs, concurrency] = [3000, 20, 16];
  await purge(tasks, latencyMs, tokenAuthenticator(BENCH_TOKEN)); // warm-up
  const ours = await purge(tasks, latencyMs, tokenAuthenticator(BENCH_TOKEN));
  const efficiency = (ours.requests * latencyMs) / concurrency / ours.wallMs;
  // The same deletes by a bare ky loop against the same emulator: the ceiling of this setup (fetch and the
  // emulator's own work add to every request's 20 ms), so that the janitor's own share is visible.
  const bare = await bareKy(tasks, latencyMs, concurrency);
  const bareEfficiency = (bare.requests * latencyMs) / concurrency / bare.wallMs;
  const naive = await naiveLoop(300, latencyMs);
  const naiveWallMs = naive.msPerRequest * ours.requests;
  const listBoundMs = (1 + (Math.ceil(tasks / 100) - 1) / concurrency) * latencyMs;
  results.throughput = { tasks, latencyMs, concurrency, ...ours, efficiency, bareKyEfficiency: bareEfficiency, naiveMsPerRequest: naive.msPerRequest, speedupOverNaive: naiveWallMs / ours.wallMs, listBoundMs };
  table.push(['efficiency, 3,000 deletes, 20 ms, C = 16', `${round(efficiency)}`, `(requests x latency / C) / span; ${ours.requests} requests in ${round(ours.wallMs / 1000)} s`]);
  table.push(['the same deletes by a bare ky loop (ceiling here)', `${round(bareEfficiency)}`, `the janitor reaches ${round(efficiency / bareEfficiency)}x of it, listing included`]);
  table.push(['listing 3,000 tasks (30 pages)', `${Math.round(ours.listMs)} ms`, `${round(ours.listMs / listBoundMs)}x the bound 1 + 29/C round trips (${Math.round(listBoundMs)} ms)`]);
  table.push(['against one request at a time (SDK samples)', `${round(naiveWallMs / ours.wallMs, 1)}x faster`, `naive: ${round(naive.msPerRequest, 1)} ms a request`]);
}

if (wanted('cpu')) {
  const [tasks, latencyMs, concurrency] = [3000, 20, 16];
  const token = () => tokenAuthenticator(BENCH_TOKEN);
  const aksk = () => akskAuthenticator(BENCH_AKSK);
  // A warm-up of each, then alternating rounds: the same JIT state for all three.
  await bareKy(tasks, latencyMs, concurrency);
  await purge(tasks, latencyMs, token());
  await purge(tasks, latencyMs, aksk());
  const per = { bare: [] as number[], token: [] as number[], aksk: [] as number[] };
  // One run's CPU a request varies here by 10-15% from the next identical run (the machine, not the code): a ratio
  // needs more rounds than the other figures to be read to a few percent, hence its own count (default 15).
  const cpuRounds = Number(values['cpu-rounds'] ?? Math.max(ROUNDS, 15));
  for (let r = 0; r < cpuRounds; r += 1) {
    const b = await bareKy(tasks, latencyMs, concurrency);
    per.bare.push((b.cpuMs * 1000) / b.requests);
    const t = await purge(tasks, latencyMs, token());
    per.token.push((t.cpuMs * 1000) / t.requests);
    const a = await purge(tasks, latencyMs, aksk());
    per.aksk.push((a.cpuMs * 1000) / a.requests);
  }
  const [bare, tok, ak] = [median(per.bare), median(per.token), median(per.aksk)];
  // Each round's own ratio (the three runs of a round are seconds apart), then their median: this machine's speed
  // drifts between rounds by more than the difference measured.
  const roundRatios = { token: per.token.map((t, i) => t / per.bare[i]!), aksk: per.aksk.map((a, i) => a / per.bare[i]!) };
  const ratios = { token: median(roundRatios.token), aksk: median(roundRatios.aksk) };
  const quartiles = (xs: number[]) => `${round(quantile(xs, 0.25))}-${round(quantile(xs, 0.75))}`;
  results.cpu = { rounds: cpuRounds, usPerRequest: { bareKy: per.bare, token: per.token, aksk: per.aksk }, medians: { bare, token: tok, aksk: ak }, ratio: ratios, roundRatios };
  table.push([
    'client CPU a request, token / AK/SK',
    `${round(ratios.token)}x / ${round(ratios.aksk)}x`,
    `median of ${cpuRounds} rounds' ratios (middle half ${quartiles(roundRatios.token)} / ${quartiles(roundRatios.aksk)}); ${Math.round(tok)} / ${Math.round(ak)} us against a bare ky loop's ${Math.round(bare)} us (medians)`,
  ]);
  // Lambda gives a function CPU in proportion to its memory (1,769 MB = one vCPU): the request rate a function of a
  // stage's size could sustain on this CPU per request, and whether the stage's rate budget fits within half of it.
  const sustainable: Record<string, unknown> = {};
  for (const stage of ['dev', 'staging', 'prod']) {
    const { memoryMb, requestsPerSecond } = stageSize(stage);
    const share = memoryMb / 1769;
    const perSecond = { token: (share * 1e6) / tok, aksk: (share * 1e6) / ak };
    const fits = requestsPerSecond <= Math.min(perSecond.token, perSecond.aksk) / 2;
    sustainable[stage] = { memoryMb, cpuShare: share, requestsPerSecond, sustainable: perSecond, budgetWithinHalf: fits };
    table.push([
      `${stage}: ${memoryMb} MB Lambda (${round(share, 3)} vCPU) sustains, token / AK/SK`,
      `${Math.round(perSecond.token)} / ${Math.round(perSecond.aksk)} req/s`,
      `budget ${requestsPerSecond}/s is ${Math.round((100 * requestsPerSecond) / Math.min(perSecond.token, perSecond.aksk))}% of it: ${fits ? 'within half' : 'MORE THAN HALF'}`,
    ]);
  }
  (results.cpu as Record<string, unknown>).sustainable = sustainable;
}

/** A stage's Lambda memory (serverless.yml params) and its policy's requestsPerSecond. */
function stageSize(stage: string): { memoryMb: number; requestsPerSecond: number } {
  const service = parseYaml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as { params: Record<string, Record<string, unknown>> };
  const param = (name: string) => service.params[stage]?.[name] ?? service.params.default![name];
  const policy = parseYaml(readFileSync(join(ROOT, String(param('policyFile'))), 'utf8'), { logLevel: 'silent' }) as { requestsPerSecond?: number };
  return { memoryMb: Number(param('memorySize')), requestsPerSecond: policy.requestsPerSecond ?? Number.POSITIVE_INFINITY };
}

if (wanted('memory')) {
  const taskRoot = await buildHandlerBundle();
  const memory: Record<string, unknown> = {};
  // The function's V8 flags as serverless.yml deploys them (NODE_OPTIONS), with the default stages' old space (128).
  const deployed = deployedNodeOptions(128);
  // A process's peak RSS varies here by several MiB from one identical run to the next (the 1k baseline: 84-104 MiB
  // in three runs): each size is the median of three runs, alternated.
  const peaks = async (flags: string[]) => {
    const small: number[] = [];
    const big: number[] = [];
    for (let r = 0; r < 3; r += 1) {
      small.push((await handlerDryRun(taskRoot, 1000, flags)).maxRssMiB);
      big.push((await handlerDryRun(taskRoot, BIG, flags)).maxRssMiB);
    }
    return { small: median(small), big: median(big), runs: { small, big } };
  };
  const asDeployed = await peaks(deployed);
  const v8Defaults = await peaks([]);
  const retained = JSON.parse((await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'tests/helpers/retained-heap.ts', String(BIG)], { cwd: ROOT })).stdout) as { bytesPerTask: number };
  // The CLI as a user runs it (`oms-janitor purge`, a dry run; bin/oms-janitor.js sets its own heap flags).
  const cli = { small: await cliDryRun(1000), big: await cliDryRun(BIG) };
  const fits = await handlerDryRun(taskRoot, BIG, ['--max-old-space-size=64', '--max-semi-space-size=4']);
  Object.assign(memory, { deployedFlags: deployed, handlerAsDeployed: asDeployed, handlerV8Defaults: v8Defaults, cli, retainedBytesPerTask: retained.bytesPerTask, completesAtOldSpace64: fits.ok });
  results.memory = memory;
  await rm(taskRoot, { recursive: true, force: true });
  const growth = (p: { small: number; big: number; runs?: { small: number[]; big: number[] } }) => `${p.big - p.small} MiB${p.runs ? ` (medians of ${p.runs.small.length})` : ''}`;
  const span = (p: { small: number; big: number }) => `${p.small} -> ${p.big} MiB`;
  table.push([`peak RSS growth 1k -> ${BIG / 1000}k tasks, built handler, dry run, as deployed`, growth(asDeployed), `${span(asDeployed)} (${deployed.join(' ')})`]);
  table.push([`  the same at V8's defaults`, growth(v8Defaults), span(v8Defaults)]);
  table.push([`peak RSS growth 1k -> ${BIG / 1000}k tasks, CLI dry run (oms-janitor purge)`, growth(cli), span(cli)]);
  table.push([`retained heap a listed task (${BIG / 1000}k)`, `${retained.bytesPerTask} B`, 'measured with --expose-gc: the record and its map entry']);
  table.push([`${BIG / 1000}k-task dry run under --max-old-space-size=64`, fits.ok ? 'completes' : 'FAILS', '']);
}

/** serverless.yml's NODE_OPTIONS for the function, its old space given (the stage param maxOldSpaceMb). */
function deployedNodeOptions(oldSpaceMb: number): string[] {
  const service = parseYaml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as { provider: { environment: Record<string, string> } };
  return service.provider.environment.NODE_OPTIONS!.replace('${param:maxOldSpaceMb}', String(oldSpaceMb)).split(/\s+/);
}

/** `oms-janitor purge` (a dry run) over `tasks` tasks from an emulator in its own process: the CLI's peak RSS, MiB. */
async function cliDryRun(tasks: number): Promise<number> {
  const emu = await emulatorChild(tasks, 0);
  const policyFile = join(ROOT, 'bench', `.cli-${tasks}.yaml`);
  await writeFile(policyFile, `version: 1\ntargets: [{ name: bench, projectId: ${BENCH_PROJECT}, region: cn-north-4, endpoint: "${emu.url}" }]\nrules: [{ name: done, statuses: [succeeded], olderThan: 7d }]\nconcurrency: 8\n`);
  try {
    const env = { PATH: process.env.PATH, OMS_AUTH_TOKEN: BENCH_TOKEN };
    const { stderr } = await run(process.execPath, ['--import', './bench/max-rss.mjs', 'bin/oms-janitor.js', 'purge', '--policy', policyFile, '--log-level', 'WARN'], { cwd: ROOT, env, maxBuffer: 256 * 1024 * 1024 });
    return Number(/MAXRSS_MIB (\d+)/.exec(stderr)?.[1] ?? NaN);
  } finally {
    emu.stop();
    await rm(policyFile, { force: true });
  }
}

/** The built handler's manual dry run over `tasks` tasks from an emulator in its own process, with these V8 flags: peak RSS. */
async function handlerDryRun(taskRoot: string, tasks: number, flags: string[]) {
  const emu = await emulatorChild(tasks, 0);
  const policyFile = join(taskRoot, `bench-${tasks}.yaml`);
  await writeFile(policyFile, `version: 1\ntargets: [{ name: bench, projectId: ${BENCH_PROJECT}, region: cn-north-4, endpoint: "${emu.url}" }]\nrules: [{ name: done, statuses: [succeeded], olderThan: 7d }]\nconcurrency: 8\n`);
  const probe = `require('./functions/purge.cjs').handler({}, { awsRequestId: 'bench', getRemainingTimeInMillis: () => 900000 })
    .then((s) => process.stderr.write('RESULT ' + JSON.stringify({ listed: s.totals.listed, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\\n'));`;
  const env = { PATH: process.env.PATH, NODE_PATH: join(ROOT, 'node_modules'), POLICY_FILE: policyFile, OMS_AUTH_TOKEN: '', OMS_CREDENTIALS_SECRET_ID: 'bench', AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'WARN' };
  try {
    const args = [...flags, '-e', probe];
    const { stderr } = await run(process.execPath, args, { cwd: taskRoot, env, maxBuffer: 256 * 1024 * 1024 });
    const line = stderr.split('\n').find((l) => l.startsWith('RESULT '));
    const result = JSON.parse(line!.slice(7)) as { listed: number; maxRssMiB: number };
    return { ok: result.listed === tasks, maxRssMiB: result.maxRssMiB };
  } catch {
    return { ok: false, maxRssMiB: NaN };
  } finally {
    emu.stop();
  }
}

if (wanted('rate')) {
  // What the emulator saw arrive, by wall-clock second: the budget as the server feels it (the first and the last
  // second are partial and left out of the average).
  const rps = 50;
  const emu = await emulatorChild(600, 5);
  const policy = benchPolicy(emu.url, `requestsPerSecond: ${rps}\n`);
  const { oms } = createRunClient(policy, tokenAuthenticator(BENCH_TOKEN));
  const log = jsonLinesLog(() => undefined, { redactor: new Redactor(), level: 'ERROR' });
  await runPurge({ policy, dryRun: false }, { oms, log });
  const stats = (await emu.stats()) as unknown as { perSecond: Record<string, number>; total: number };
  emu.stop();
  const seconds = Object.entries(stats.perSecond).sort(([a], [b]) => Number(a) - Number(b)).map(([, n]) => n);
  const full = seconds.slice(1, -1);
  const average = full.reduce((a, b) => a + b, 0) / Math.max(1, full.length);
  const busiest = Math.max(...seconds);
  results.rate = { requestsPerSecond: rps, requests: stats.total, perSecond: seconds, averagePerSecond: average, busiestSecond: busiest };
  table.push([`rate budget ${rps}/s, ${stats.total} requests`, `${round(average, 1)}/s average`, `busiest second: ${busiest} (${round(busiest / rps)}x the budget)`]);
}

if (wanted('start')) {
  const taskRoot = await buildHandlerBundle();
  // The policy is validated at cold start: probe with one that loads (prod's rules, a real-looking project id).
  const shipped = await readFile(join(ROOT, 'policies', 'prod.yaml'), 'utf8');
  await writeFile(join(taskRoot, 'bench.yaml'), shipped.replace(/\b0{16,}([0-9a-f]*)/g, (_m, tail: string) => `2c0689c860ad4728a497c91ec08${tail.padStart(5, '0')}`));
  const importProbe = "const t = process.hrtime.bigint(); require('./functions/purge.cjs'); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));";
  const imports: number[] = [];
  for (let i = 0; i < 7; i += 1) {
    const env = { PATH: process.env.PATH, NODE_PATH: join(ROOT, 'node_modules'), STAGE: 'prod', POLICY_FILE: 'bench.yaml', AWS_REGION: 'ap-southeast-1' };
    const { stdout } = await run(process.execPath, ['-e', importProbe], { cwd: taskRoot, env });
    imports.push(Number(stdout));
  }
  await rm(taskRoot, { recursive: true, force: true });
  const wall = async (args: string[]) => {
    const started = performance.now();
    await run(process.execPath, args, { cwd: ROOT }).catch(() => undefined);
    return performance.now() - started;
  };
  const bare: number[] = [];
  const help: number[] = [];
  const engine: number[] = [];
  for (let i = 0; i < 7; i += 1) {
    bare.push(await wall(['-e', '0']));
    help.push(await wall(['bin/oms-janitor.js', '--help']));
    engine.push(await wall(['bin/oms-janitor.js', 'plan'])); // loads the whole engine, then refuses: no --policy
  }
  results.start = { coldImportMs: imports, bareNodeMs: bare, helpMs: help, planMs: engine };
  table.push(['Lambda cold import of the built handler', `${Math.round(median(imports))} ms`, 'median of 7 fresh processes, prod policy validated']);
  table.push(['`oms-janitor --help` against `node -e 0`', `${round(median(help) / median(bare))}x`, `${Math.round(median(help))} ms against ${Math.round(median(bare))} ms, median of 7 paired runs`]);
  table.push(['`oms-janitor plan` (whole engine loaded) against `node -e 0`', `${round(median(engine) / median(bare))}x`, `${Math.round(median(engine))} ms`]);
}

const width = [Math.max(...table.map((r) => r[0].length)), Math.max(...table.map((r) => r[1].length))];
console.log(table.map(([a, b, c]) => `${a.padEnd(width[0]!)}  ${b.padEnd(width[1]!)}  ${c}`).join('\n'));
await writeFile(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log('\nwritten: bench/results.json');
