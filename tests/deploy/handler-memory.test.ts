import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { BENCH_PROJECT, BENCH_TOKEN, realisticTasks } from '../../emulator/realistic-tasks.js';
import { buildHandlerBundle } from './handler-bundle.js';
import { ROOT } from './sandbox.js';

const TASKS = 100_000;
/** Far below the 256 MB a dev-stage Lambda has in all (the aim: 64). */
const OLD_SPACE_MB = 64;

// Runs the handler as Lambda would (require the bundle, call the export), a manual dry run, and reports on stderr.
const PROBE = `
const { handler } = require('./functions/purge.cjs');
const context = { awsRequestId: 'mem', functionName: 'oms-task-janitor-dev-purge', getRemainingTimeInMillis: () => 900000 };
handler({}, context).then(
  (s) => process.stderr.write('RESULT ' + JSON.stringify({ totals: s.totals, targets: s.targets, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\\n'),
  (e) => { process.stderr.write('FAILED ' + e.name + ': ' + e.message + '\\n'); process.exitCode = 1; });`;

describe(`the built handler lists and plans ${TASKS} realistic (~1 KB) tasks under --max-old-space-size=${OLD_SPACE_MB}`, () => {
  let emu: Emulator;
  let taskRoot: string;

  beforeAll(async () => {
    [emu, taskRoot] = await Promise.all([
      startEmulator({ tokens: [BENCH_TOKEN], projects: { [BENCH_PROJECT]: realisticTasks(TASKS, Date.now()) } }),
      buildHandlerBundle(),
    ]);
    emu.setSecret('janitor/mem', JSON.stringify({ type: 'token', token: BENCH_TOKEN }));
    await writeFile(
      join(taskRoot, 'policy.yaml'),
      `version: 1\ntargets: [{ name: big, projectId: ${BENCH_PROJECT}, region: cn-north-4, endpoint: "${emu.url}" }]\n` +
        `rules: [{ name: done, statuses: [succeeded], olderThan: 7d, keepLatest: 10 }]\nconcurrency: 8\n`,
    );
  }, 60_000);
  afterAll(async () => {
    await emu?.close();
    if (taskRoot) await rm(taskRoot, { recursive: true, force: true });
  });

  it('completes: every task listed and selected, nothing deleted', async () => {
    const env = {
      PATH: process.env.PATH,
      NODE_PATH: join(ROOT, 'node_modules'), // the AWS SDK, as the Lambda runtime provides it
      STAGE: 'dev',
      POLICY_FILE: 'policy.yaml',
      OMS_CREDENTIALS_SECRET_ID: 'janitor/mem',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    };
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [`--max-old-space-size=${OLD_SPACE_MB}`, '-e', PROBE], { cwd: taskRoot, env, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, err) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr: err }),
      );
      child.stdin?.end();
    });
    const result = stderr.split('\n').find((line) => line.startsWith('RESULT '));
    expect({ code, failed: stderr.split('\n').find((l) => l.startsWith('FAILED') || l.includes('heap out of memory')) }).toEqual({ code: 0, failed: undefined });
    const report = JSON.parse(result!.slice('RESULT '.length)) as { totals: Record<string, number>; targets: Array<{ truncated: boolean }> };
    expect(report.totals).toMatchObject({ listed: TASKS, selected: TASKS - 10, deleted: 0, failed: 0 });
    expect(report.targets[0]!.truncated).toBe(true); // the per-run cap defers most of them, in a dry run too
    expect(emu.stats.calls.delete ?? 0).toBe(0);
  }, 120_000);
});
