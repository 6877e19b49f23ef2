/**
 * The figures of issue 7's defects 1-6, measured against the emulator and scripted loopback servers (run on purpose,
 * never in the test suite; the tests assert the behaviour, this prints the numbers):
 *   npx tsx bench/safety-figures.ts [--only redirects,stop-first,bodies,storm,terminal,deadline] [--lambda-left-ms 45000]
 * Each scenario is the one the issue reports ("seen here: ..."), with the same sizes.
 */
import type { RunSummary } from '../lib/purge/summary.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Context } from 'aws-lambda';
import { startEmulator, type EmuTask } from '../emulator/index.js';
import { main } from '../bin/cli.js';
import { tokenAuthenticator } from '../lib/auth/types.js';
import { silentLog } from '../lib/log/types.js';
import { parsePolicy } from '../lib/policy/load.js';
import { runPurge } from '../lib/purge/engine.js';
import { createRunClient } from '../lib/purge/runtime.js';
import { startScriptServer } from '../tests/helpers/script-server.js';

// As bin/oms-janitor.js does: stderr stays JSON lines only (the SDK's Node 20 notice is multi-line text).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const TOKEN = 'bench-token-0123456789';
const PROJECT = '2c0689c860ad4728a497c91ec0844383';
const DAY = 86_400_000;
const { values } = parseArgs({
  options: { only: { type: 'string' }, 'lambda-left-ms': { type: 'string', default: '45000' }, 'child-bodies': { type: 'string' } },
});

const task = (id: string, status: number, ageMs: number, extra: Partial<EmuTask> = {}): EmuTask => ({
  id, name: `task-${id}`, status, start_time: Date.now() - ageMs, total_time: 0, ...extra,
});
const policyFor = (url: string, rules: string, extra = '') =>
  `version: 1\ntargets: [{ name: main, projectId: ${PROJECT}, region: cn-north-4, endpoint: "${url}" }]\n${rules}${extra}`;
const FAILED = 'rules: [{ name: failed, statuses: [failed], olderThan: 30d }]\n';

async function cli(argv: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const code = await main(argv, { env, stdout, stderr });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function tempPolicy(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'janitor-bench-')), 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

const scenarios: Record<string, () => Promise<Record<string, unknown>>> = {
  /** 1: 60 deletable tasks, 3 deletes answered 307 to another host. */
  async redirects() {
    const other = await startScriptServer([{ status: 200, body: '' }]);
    const emu = await startEmulator({ tokens: [TOKEN], projects: { [PROJECT]: Array.from({ length: 60 }, (_, i) => task(String(100 + i), 4, 40 * DAY)) } });
    for (const id of ['100', '120', '140']) {
      emu.setTaskFault(PROJECT, id, { method: 'DELETE', status: 307, errorCode: '', errorMsg: '', headers: { Location: `${other.url}/v2/${PROJECT}/tasks/${id}` } });
    }
    const policy = parsePolicy(policyFor(emu.url, FAILED));
    const { oms } = createRunClient(policy, tokenAuthenticator(TOKEN));
    const summary = await runPurge({ policy, dryRun: false }, { oms, log: silentLog });
    const figures = {
      otherHostRequests: other.arrivals.length,
      otherHostRequestsWithToken: other.arrivals.filter((a) => a.headers['x-auth-token'] === TOKEN).length,
      summaryDeleted: summary.totals.deleted,
      reallyDeleted: emu.stats.deleted[PROJECT]?.length ?? 0,
      failedAsRedirect: summary.targets[0]!.failures.filter((f) => f.reason === 'redirect').length,
    };
    await Promise.all([emu.close(), other.close()]);
    return figures;
  },

  /** 2: 2 stuck migrations that finished just before their pause. */
  async 'stop-first'() {
    const emu = await startEmulator({ tokens: [TOKEN], stopDelayMs: 30, projects: { [PROJECT]: [task('71', 2, 3 * DAY), task('72', 2, 3 * DAY)] } });
    const policy = parsePolicy(policyFor(emu.url, 'rules: [{ name: stuck, statuses: [migrating], olderThan: 2d, stopFirst: true }]\n'));
    const { oms } = createRunClient(policy, tokenAuthenticator(TOKEN));
    const summary = await runPurge(
      { policy, dryRun: false },
      { oms, log: silentLog, pollIntervalMs: 50, onProgress: (p) => void (p.phase === 'list' && emu.setTasks(PROJECT, [task('71', 5, 3 * DAY), task('72', 4, 3 * DAY)])) },
    );
    const figures = { finishedBeforePause: 2, deleted: emu.stats.deleted[PROJECT]?.length ?? 0, deferred: summary.totals.deferred };
    await emu.close();
    return figures;
  },

  /** 3: one 300 MB listing page; the CLI's peak RSS, in a fresh process, against the same CLI on an empty listing. */
  async bodies() {
    const peakOf = async (url: string) => {
      const file = tempPolicy(policyFor(url, FAILED));
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/safety-figures.ts', '--child-bodies', file], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      await new Promise((resolve) => child.on('close', resolve));
      return JSON.parse(out) as { cliExit: number; cliPeakRssMiB: number; targetError?: string };
    };
    const flood = await startScriptServer([{ flood: { status: 200, bytes: 300 * 1024 * 1024 } }]);
    const empty = await startScriptServer([{ status: 200, body: { tasks: [], count: 0 } }]);
    const hostile = await peakOf(flood.url);
    const baseline = await peakOf(empty.url);
    const figures = {
      pageBytesOffered: 300 * 1024 * 1024,
      listAttempts: flood.arrivals.length,
      bytesSentByServer: flood.floodSent(),
      ...hostile,
      cliPeakRssMiBEmptyListing: baseline.cliPeakRssMiB,
    };
    await Promise.all([flood.close(), empty.close()]);
    return figures;
  },

  /** 4: 600 tasks, every delete answered 429 with Retry-After: 0 (production retry policy, concurrency 8). */
  async storm() {
    const emu = await startEmulator({
      tokens: [TOKEN],
      projects: { [PROJECT]: Array.from({ length: 600 }, (_, i) => task(String(1000 + i), 4, 40 * DAY + i * 1000)) },
      faults: { rate429: 1, routes: ['delete'], retryAfter: 'seconds', retryAfterSeconds: 0 },
    });
    const policy = parsePolicy(policyFor(emu.url, FAILED, 'limits: { maxDeletesPerRun: 1000 }\n'));
    const { oms } = createRunClient(policy, tokenAuthenticator(TOKEN));
    const started = performance.now();
    const summary = await runPurge({ policy, dryRun: false }, { oms, log: silentLog });
    const figures = {
      tasks: 600,
      deleteRequests: emu.stats.calls.delete ?? 0,
      seconds: +((performance.now() - started) / 1000).toFixed(1),
      failed: summary.totals.failed,
      deferred: summary.totals.deferred,
      targetError: summary.targets[0]!.error,
    };
    await emu.close();
    return figures;
  },

  /** 5: 5 hostile task names; stdout lines of `plan` and the text summary with raw control or bidi characters. */
  async terminal() {
    const names = ['a\u001b[2J\u001b[Hcleared', 'b\u001b]0;pwned\u0007', 'c\u009b1Aup', 'd\u202eexe.txt', 'e\u2066x\u2069'];
    const emu = await startEmulator({ tokens: [TOKEN], projects: { [PROJECT]: names.map((name, i) => task(String(10 + i), 4, 40 * DAY, { name })) } });
    const file = tempPolicy(policyFor(emu.url, FAILED));
    const unsafe = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
    const plan = await cli(['plan', '--policy', file], { OMS_AUTH_TOKEN: TOKEN });
    const purge = await cli(['purge', '--policy', file, '--no-dry-run'], { OMS_AUTH_TOKEN: TOKEN });
    const lines = (plan.stdout + purge.stdout).split('\n');
    const figures = { hostileNames: names.length, stdoutLines: lines.length, linesWithControlOrBidi: lines.filter((l) => unsafe.test(l)).length };
    await emu.close();
    return figures;
  },

  /** 6: the Lambda handler with `--lambda-left-ms` left and an IAM endpoint that never answers. */
  async deadline() {
    const silent = await startScriptServer([{ hang: true }]);
    const emu = await startEmulator({ tokens: [TOKEN], projects: { [PROJECT]: [task('1', 4, 40 * DAY)] } });
    const secret = { type: 'password', domain: 'acme', username: 'janitor', password: 'pw-0123456789', iamEndpoint: silent.url };
    emu.setSecret('janitor/bench', JSON.stringify(secret));
    Object.assign(process.env, {
      POLICY_FILE: tempPolicy(policyFor(emu.url, FAILED)),
      OMS_CREDENTIALS_SECRET_ID: 'janitor/bench',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    const { handler } = await import('../functions/purge.js');
    const leftMs = Number(values['lambda-left-ms']);
    const started = Date.now();
    const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => leftMs - (Date.now() - started) } as unknown as Context;
    const summary = (await handler({ dryRun: false }, context)) as RunSummary;
    const figures = {
      lambdaLeftSeconds: leftMs / 1000,
      returnedAfterSeconds: +((Date.now() - started) / 1000).toFixed(1),
      iamRequests: silent.arrivals.length,
      targetError: summary.targets[0]!.error,
    };
    await Promise.all([emu.close(), silent.close()]);
    return figures;
  },
};

if (values['child-bodies']) {
  const r = await cli(['plan', '--policy', values['child-bodies'], '--json'], { OMS_AUTH_TOKEN: TOKEN });
  const error = (JSON.parse(r.stdout) as { targets: Array<{ error?: string }> }).targets[0]?.error;
  console.log(JSON.stringify({ cliExit: r.code, cliPeakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), targetError: error }));
} else {
  const only = values.only?.split(',');
  for (const [name, run] of Object.entries(scenarios)) {
    if (only && !only.includes(name)) continue;
    console.log(JSON.stringify({ scenario: name, ...(await run()) }));
  }
}
