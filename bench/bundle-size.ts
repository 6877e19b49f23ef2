/**
 * Measures the deployment artifact, on purpose (not part of `npm test`): `npx tsx bench/bundle-size.ts [--runs 9]`.
 *
 * 1. `serverless package --stage prod` (offline, in a private copy of the service), as configured (the AWS SDK left to
 *    the Lambda runtime) and, for comparison, with the SDK bundled (`exclude: []`).
 * 2. The zip size, and the cold import time of functions/purge.cjs: a fresh `node` process per run requires the bundle
 *    and reports how long the require took (what Lambda's init phase spends on our module), median of N runs, on the
 *    Node running this script and on Node 22 from the npm registry (`npx -y node@22`), the Lambda runtime's major.
 *    Also "with first-run loads": the import plus what the handler loads lazily on its first run (the AWS SDK client,
 *    in lib/auth/secret-source.ts), so that deferring work shows as moved, not as gone.
 * 3. A smoke test on each Node: require the bundle from the unzipped artifact, as Lambda does from /var/task, and call
 *    the handler with a refused event (`{"dryrun": false}`): it must reject with the field named, touching nothing.
 *
 * The external SDK is resolved like the Lambda runtime's copy through NODE_PATH (here: this repo's node_modules).
 * Numbers depend on the machine and its load: compare runs on the same machine, not with Lambda's.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, sandbox, serverless } from '../tests/deploy/sandbox.js';
import { readZip } from '../tests/deploy/zip.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 9) || 9;
const run = promisify(execFile);
const cleanups: (() => Promise<void>)[] = [];

interface Artifact {
  label: string;
  zipBytes: number;
  bundleBytes: number;
  taskRoot: string;
}

/** Packages prod in a sandbox (optionally rewriting serverless.yml) and unzips it as Lambda would into /var/task. */
async function packageProd(label: string, rewrite?: (yml: string) => string): Promise<Artifact | undefined> {
  const service = await sandbox({ realLookingIds: true });
  cleanups.push(service.remove);
  if (rewrite) {
    const file = join(service.dir, 'serverless.yml');
    const before = await readFile(file, 'utf8');
    const after = rewrite(before);
    if (after === before) {
      console.log(`${label}: serverless.yml has no block to rewrite, skipped`);
      return undefined;
    }
    await writeFile(file, after);
  }
  const out = join(service.dir, 'artifact');
  const result = await serverless(service.dir, ['package', '--stage', 'prod', '--package', out]);
  if (result.code !== 0) throw new Error(`${label}: serverless package failed\n${result.stdout}\n${result.stderr}`);
  const zip = await readFile(join(out, 'purge.zip'));
  const taskRoot = join(service.dir, 'task');
  for (const [name, data] of readZip(zip)) {
    await mkdir(dirname(join(taskRoot, name)), { recursive: true });
    await writeFile(join(taskRoot, name), data);
  }
  const bundleBytes = (await readFile(join(taskRoot, 'functions', 'purge.cjs'))).length;
  // The shipped policy holds placeholder project ids, which the loader refuses (as it should, deployed); the probes
  // load the same policy with real-looking ids, so that they measure and exercise a policy that loads.
  const shipped = await readFile(join(taskRoot, 'policies', 'prod.yaml'), 'utf8');
  await writeFile(join(taskRoot, 'policies', 'bench.yaml'), shipped.replace(/\b0{16,}([0-9a-f]*)/g, (_m, tail: string) => `2c0689c860ad4728a497c91ec08${tail.padStart(5, '0')}`));
  return { label, zipBytes: zip.length, bundleBytes, taskRoot };
}

const IMPORT_PROBE = `
const t0 = process.hrtime.bigint();
require('./functions/purge.cjs');
process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));`;

// Keep in step with what the handler defers (see above).
const FIRST_RUN_PROBE = `
const t0 = process.hrtime.bigint();
require('./functions/purge.cjs');
require('@aws-sdk/client-secrets-manager');
process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));`;

const SMOKE_PROBE = `
const { handler } = require('./functions/purge.cjs');
const context = { awsRequestId: 'smoke', functionName: 'oms-task-janitor-prod-purge', memoryLimitInMB: '512',
  functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:ap-southeast-1:000000000000:function:smoke',
  getRemainingTimeInMillis: () => 900000 };
handler({ dryrun: false }, context).then(
  () => { console.error('SMOKE FAIL: the handler accepted {"dryrun": false}'); process.exit(1); },
  (error) => {
    if (!/event\\.dryrun: unknown field/.test(error.message)) { console.error('SMOKE FAIL:', error); process.exit(1); }
    process.stderr.write('SMOKE OK ' + process.version + ': ' + error.name + ': ' + error.message + '\\n');
  });`;

/** The environment Lambda gives the module (the parts the handler reads at import) plus a NODE_PATH for the SDK. */
function lambdaEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_PATH: join(ROOT, 'node_modules'),
    STAGE: 'prod',
    POLICY_FILE: 'policies/bench.yaml',
    OMS_CREDENTIALS_SECRET_ID: 'oms-janitor/prod',
    SECRET_CACHE_SECONDS: '300',
    POWERTOOLS_SERVICE_NAME: 'oms-task-janitor',
    POWERTOOLS_METRICS_NAMESPACE: 'OmsTaskJanitor',
    AWS_REGION: 'ap-southeast-1',
    AWS_LAMBDA_FUNCTION_NAME: 'oms-task-janitor-prod-purge',
  };
}

async function importTimesMs(node: string, artifact: Artifact, probe = IMPORT_PROBE): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const { stdout } = await run(node, ['-e', probe], { cwd: artifact.taskRoot, env: lambdaEnv() });
    times.push(Number(stdout));
  }
  return times.sort((a, b) => a - b);
}

async function smoke(node: string, artifact: Artifact): Promise<string> {
  const { stderr } = await run(node, ['-e', SMOKE_PROBE], { cwd: artifact.taskRoot, env: lambdaEnv() });
  return stderr.split('\n').find((line) => line.startsWith('SMOKE')) ?? stderr;
}

function node22(): string | undefined {
  try {
    return execFileSync('npx', ['-y', 'node@22', '-p', 'process.execPath'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    console.log('node@22 could not be fetched from the npm registry: Node 22 numbers skipped');
    return undefined;
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;

async function main(): Promise<void> {
  const artifacts = (
    await Promise.all([
      packageProd('as configured (SDK from the runtime)'),
      packageProd('SDK bundled (exclude: [])', (yml) => yml.replace(/exclude:\n\s+- '@aws-sdk\/\*'/, 'exclude: []')),
    ])
  ).filter((a): a is Artifact => a !== undefined);

  const nodes: [string, string][] = [[`node ${process.version}`, process.execPath]];
  const n22 = node22();
  if (n22) nodes.push([`node ${execFileSync(n22, ['--version'], { encoding: 'utf8' }).trim()}`, n22]);

  console.log(`cold import of functions/purge.cjs: ${runs} fresh processes per row, median (min..max)\n`);
  for (const artifact of artifacts) {
    console.log(`${artifact.label}: zip ${kb(artifact.zipBytes)}, bundle ${kb(artifact.bundleBytes)}`);
    for (const [name, bin] of nodes) {
      // artifacts[0] is the one as configured; the first-run probe requires the runtime's SDK, which the SDK-bundled
      // artifact does not use, so it is measured on the first only.
      const probes = artifact === artifacts[0] ? ([['import', IMPORT_PROBE], ['with first-run loads', FIRST_RUN_PROBE]] as const) : ([['import', IMPORT_PROBE]] as const);
      for (const [what, probe] of probes) {
        const times = await importTimesMs(bin, artifact, probe);
        const median = times[Math.floor(times.length / 2)]!;
        console.log(`  ${name.padEnd(12)} ${what.padEnd(20)} ${ms(median)} (${ms(times[0]!)}..${ms(times[times.length - 1]!)})`);
      }
    }
  }
  console.log('');
  for (const [, bin] of nodes) console.log(await smoke(bin, artifacts[0]!));
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => Promise.all(cleanups.map((remove) => remove())));
