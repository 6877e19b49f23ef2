/**
 * Issue 18.6: the prod stage's state machine, as `serverless package` writes it into the CloudFormation template, run
 * offline by aws-local-stepfunctions. Its Task states call lambda:invoke on the purge function; here each such call
 * runs the packaged handler bundle (purge.cjs from the zip) in a process of its own, as a cold Lambda would, against
 * the emulator (OMS in three accounts, Secrets Manager, S3 for the archive and the fan-out lock, SNS for the report).
 *
 * Each invocation's clock runs fast (every look at the remaining time takes a second off it), so an invocation acts on
 * a few tens of items before it stops at its deadline: a target with a larger backlog needs several rounds.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

type RunOptions = NonNullable<Parameters<StateMachine['run']>[1]>;
type LocalHandler = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string];
type JSONValue = Parameters<LocalHandler>[0];
import type { Emulator } from '../../emulator/index.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { DAY, emulator, task } from '../helpers/harness.js';
import { ROOT, sandbox, serverless } from './sandbox.js';
import { readZip } from './zip.js';

jest.setTimeout(240_000);

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22); this repository runs on Node 20 as well.
const promiseStatics = Promise as unknown as { withResolvers?: () => { promise: Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void } };
promiseStatics.withResolvers ??= () => {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<unknown>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
};

const ACCOUNT = '123456789012';
const REGION = 'ap-southeast-1';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:oms-task-janitor-prod-purge`;
const EXECUTION = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:oms-task-janitor-prod:${name}`;
const BUCKET = `oms-task-janitor-prod-archive-${ACCOUNT}-${REGION}`;

const P = { a: '2c0689c860ad4728a497c91ec080000a', b: '2c0689c860ad4728a497c91ec080000b', c: '2c0689c860ad4728a497c91ec080000c', d: '2c0689c860ad4728a497c91ec080000d' };
const TOKEN_A = 'TOKEN-OF-ACCOUNT-A-FANOUT-0001';
const B = { ak: 'AKOFACCOUNTBFANOUT01', sk: 'SK-OF-ACCOUNT-B-FANOUT-STAYS-HOME' };
/** Selected: failed more than 30 days ago. Kept: failed lately, succeeded long ago (no rule), migrating. */
const SELECTED = { a: 60, b: 3, c: 45, d: 4 };

function backlog(prefix: number, selected: number) {
  const old = Array.from({ length: selected }, (_, i) => task(String(prefix + i), 4, (40 + i) * DAY));
  const kept = [task(String(prefix + 900), 4, 2 * DAY), task(String(prefix + 901), 5, 90 * DAY), task(String(prefix + 902), 2, 90 * DAY)];
  return [...old, ...kept];
}
const selectedIds = (prefix: number, n: number) => Array.from({ length: n }, (_, i) => String(prefix + i));
const PREFIX = { a: 1000, b: 2000, c: 3000, d: 4000 };

/** Runs the handler as Lambda would (require the bundle, call the export) with a fast clock; the result on stderr. */
const INVOKE = `
const { handler } = require('./functions/purge.cjs');
let left = 60000;
const context = { awsRequestId: process.env.REQUEST_ID, functionName: 'oms-task-janitor-prod-purge', invokedFunctionArn: process.env.FUNCTION_ARN, getRemainingTimeInMillis: () => (left -= 1000) };
handler(JSON.parse(process.env.EVENT), context).then(
  (r) => process.stderr.write('RESULT ' + JSON.stringify(r) + '\\n'),
  (e) => process.stderr.write('ERROR ' + JSON.stringify({ errorType: e.name, errorMessage: e.message }) + '\\n'));`;

interface Invocation {
  execution: string;
  step: string;
  target?: string;
  round?: number;
  output: string;
}

describe('the packaged fan-out state machine, executed offline', () => {
  let emu: Emulator;
  let definition: StateMachineDefinition;
  let environment: Record<string, string>;
  let taskRoot: string;
  const cleanups: (() => Promise<unknown>)[] = [];
  const invocations: Invocation[] = [];
  let requestCount = 0;

  beforeAll(async () => {
    emu = await emulator({
      buckets: [BUCKET],
      tokens: [TOKEN_A],
      akskCredentials: [B],
      accounts: [
        { name: 'A', projects: [P.a, P.b], tokens: [TOKEN_A] },
        { name: 'B', projects: [P.c], aks: [B.ak] },
        { name: 'D', projects: [P.d], tokens: ['TOKEN-NOBODY-HAS'] },
      ],
      secrets: {
        'oms-janitor/prod': JSON.stringify({ type: 'token', token: TOKEN_A }),
        'oms-janitor/prod/account-b': JSON.stringify({ type: 'aksk', ...B }),
        // oms-janitor/prod/account-d is missing: target d fails alone.
      },
      projects: { [P.a]: backlog(PREFIX.a, SELECTED.a), [P.b]: backlog(PREFIX.b, SELECTED.b), [P.c]: backlog(PREFIX.c, SELECTED.c), [P.d]: backlog(PREFIX.d, SELECTED.d) },
    });
    cleanups.push(() => emu.close());
    const service = await sandbox({ realLookingIds: true });
    cleanups.push(service.remove);
    const out = join(service.dir, 'artifact');
    const run = await serverless(service.dir, ['package', '--stage', 'prod', '--package', out]);
    if (run.code !== 0) throw new Error(`serverless package exited ${run.code}\n${run.stdout}\n${run.stderr}`);
    const template = JSON.parse(await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
    const machine = template.Resources.PurgeStateMachine!.Properties;
    // CloudFormation's DefinitionSubstitutions, as it would apply them.
    definition = JSON.parse(JSON.stringify(machine.Definition).replaceAll('${PurgeFunctionArn}', FUNCTION_ARN)) as StateMachineDefinition;
    environment = template.Resources.PurgeLambdaFunction!.Properties.Environment.Variables as Record<string, string>;
    // The artifact laid out as /var/task, with a policy naming the emulator's projects in place of the shipped one.
    taskRoot = await mkdtemp(join(tmpdir(), 'oms-janitor-fanout-'));
    cleanups.push(() => rm(taskRoot, { recursive: true, force: true }));
    for (const [name, bytes] of readZip(await readFile(join(out, 'purge.zip')))) {
      await mkdir(dirname(join(taskRoot, name)), { recursive: true });
      await writeFile(join(taskRoot, name), bytes);
    }
    await writePolicy(1000);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** The function's policy: four targets in three accounts, one rule, the run cap given. */
  async function writePolicy(maxDeletesPerRun: number) {
    const target = (name: keyof typeof P, extra = '') => `  - { name: ${name}, projectId: ${P[name]}, region: cn-north-4, endpoint: "${emu.url}"${extra} }`;
    await writeFile(
      join(taskRoot, 'policy.yaml'),
      [
        'version: 1',
        'targets:',
        target('a'),
        target('b'),
        target('c', ', credentials: { secretId: oms-janitor/prod/account-b }'),
        target('d', ', credentials: { secretId: oms-janitor/prod/account-d }'),
        'rules:',
        '  - { name: failed, statuses: [failed], olderThan: 30d }',
        `limits: { maxDeletePercent: 100, maxDeletesPerRun: ${maxDeletesPerRun} }`,
        'concurrency: 2',
        '',
      ].join('\n'),
    );
  }

  /** lambda:invoke of the purge function: the packaged handler in a fresh process, answered as Step Functions sees it. */
  function lambdaInvoke(execution: string, extraEnv: Record<string, string>): LocalHandler {
    return async (raw) => {
      const input = raw as { FunctionName: string; Payload: Record<string, unknown> };
      expect(input.FunctionName).toBe(FUNCTION_ARN);
      const payload = input.Payload;
      const invocation: Invocation = { execution, step: String(payload.fanOut), output: '' };
      if (typeof payload.target === 'string') invocation.target = payload.target;
      if (typeof payload.round === 'number') invocation.round = payload.round;
      invocations.push(invocation);
      const env = {
        ...environment,
        POLICY_FILE: 'policy.yaml',
        PATH: process.env.PATH ?? '',
        NODE_PATH: join(ROOT, 'node_modules'), // the AWS SDK, as the Lambda runtime provides it
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
        AWS_ENDPOINT_URL_S3: emu.url,
        AWS_ENDPOINT_URL_SNS: emu.url,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        FUNCTION_ARN,
        REQUEST_ID: `req-${(requestCount += 1)}`,
        EVENT: JSON.stringify(payload),
        ...extraEnv,
      };
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
        execFile(process.execPath, ['-e', INVOKE], { cwd: taskRoot, env, maxBuffer: 64 * 1024 * 1024 }, (error, so, se) => (error ? reject(new Error(`${error.message}\n${se}`)) : resolve({ stdout: so, stderr: se })));
      });
      invocation.output = stdout + stderr;
      const result = stderr.split('\n').find((line) => line.startsWith('RESULT '));
      if (result) return { ExecutedVersion: '$LATEST', StatusCode: 200, Payload: JSON.parse(result.slice('RESULT '.length)) as JSONValue };
      const failed = stderr.split('\n').find((line) => line.startsWith('ERROR '));
      if (!failed) throw new Error(`the invocation printed neither a result nor an error:\n${stderr}`);
      // A function error as lambda:invoke reports it: the error's type, and its JSON as the cause.
      const { errorType, errorMessage } = JSON.parse(failed.slice('ERROR '.length)) as { errorType: string; errorMessage: string };
      throw Object.assign(new Error(JSON.stringify({ errorType, errorMessage })), { name: errorType });
    };
  }

  function start(name: string, input: Record<string, unknown>, beforeFirstTarget?: () => Promise<void>, env: Record<string, string> = {}) {
    const machine = new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: true } });
    const invoke = lambdaInvoke(EXECUTION(name), env);
    let first = beforeFirstTarget;
    const run: LocalHandler = async (input) => {
      const hook = first;
      first = undefined;
      if (hook) await hook();
      return invoke(input);
    };
    const execution = machine.run(input as JSONValue, {
      context: { Execution: { Id: EXECUTION(name), Name: name, Input: input as JSONValue, StartTime: new Date().toISOString(), RoleArn: `arn:aws:iam::${ACCOUNT}:role/sfn` } },
      overrides: { taskResourceLocalHandlers: { Targets: invoke, PlanTarget: invoke, Run: run, Merge: invoke } },
    });
    return execution.result as Promise<Record<string, any>>;
  }

  test('every target in its own invocations (a backlog over several rounds), the missing secret failing its target alone, one merged summary and one report; a second execution meanwhile touches nothing', async () => {
    let second: Record<string, any> | undefined;
    const output = await start('scheduled-1', { scheduled: true }, async () => {
      // The first execution holds the lock and is about to run its targets: a second one starts and ends.
      second = await start('scheduled-2', { scheduled: true });
    });

    // The second execution: its first step found the lock held, and it ended there.
    expect(second!.listed).toEqual({ targets: [], busy: EXECUTION('scheduled-1'), concurrency: 10 });
    expect(invocations.filter((i) => i.execution === EXECUTION('scheduled-2')).map((i) => i.step)).toEqual(['targets']);

    // Every selected item deleted once, nothing else; target d (its secret missing) deleted nothing.
    for (const name of ['a', 'b', 'c'] as const) expect(sorted(emu.stats.deleted[P[name]])).toEqual(sorted(selectedIds(PREFIX[name], SELECTED[name])));
    expect(emu.stats.deleted[P.d]).toBeUndefined();
    expect(emu.stats.calls.delete).toBe(SELECTED.a + SELECTED.b + SELECTED.c);
    expect(emu.stats.crossAccount).toBe(0);

    // One invocation per target and round: a's backlog took several, b's one; every round of a target but its last
    // stopped at its deadline.
    const mine = invocations.filter((i) => i.execution === EXECUTION('scheduled-1'));
    const rounds = (name: string) => mine.filter((i) => i.step === 'target' && i.target === name).map((i) => i.round);
    expect(rounds('a').length).toBeGreaterThan(1);
    expect(rounds('a')).toEqual(Array.from({ length: rounds('a').length }, (_, i) => i + 1));
    expect(rounds('c').length).toBeGreaterThan(1); // in the other account, with AK/SK
    expect(rounds('b')).toEqual([1]);
    expect(rounds('d')).toEqual([1]);
    // Every target planned first (its share of the run cap), then ran; one merge.
    expect(mine.map((i) => i.step).filter((s) => s !== 'target')).toEqual(['targets', 'plan', 'plan', 'plan', 'plan', 'merge']);
    expect(mine.findIndex((i) => i.step === 'target')).toBeGreaterThan(mine.map((i) => i.step).lastIndexOf('plan'));

    // One merged summary (the execution's output) and one report.
    const summary = output.summary as RunSummary;
    expect(summary.runId).toBe(EXECUTION('scheduled-1'));
    expect(summary.targets.map((t) => [t.name, t.deleted, t.failed, t.deferred, t.error === undefined ? null : 'error'])).toEqual([
      ['a', SELECTED.a, 0, 0, null],
      ['b', SELECTED.b, 0, 0, null],
      ['c', SELECTED.c, 0, 0, null],
      ['d', 0, 0, 0, 'error'],
    ]);
    expect(summary.targets[3]!.error).toMatch(/oms-janitor\/prod\/account-d/);
    expect(summary.totals).toMatchObject({ deleted: SELECTED.a + SELECTED.b + SELECTED.c, failed: 0 });
    expect(emu.stats.published).toHaveLength(1);
    expect(emu.stats.published[0]!.subject).toMatch(new RegExp(`${SELECTED.a + SELECTED.b + SELECTED.c} deleted`));

    // No secret reached any invocation's output.
    const everything = invocations.map((i) => i.output).join('\n') + JSON.stringify(output) + JSON.stringify(emu.stats.published);
    for (const secret of [TOKEN_A, B.sk]) expect(everything).not.toContain(secret);

    // The lock was given back: the next execution runs (a dry run: it lists, and deletes nothing more).
    const before = emu.stats.calls.delete;
    const next = await start('manual-3', { dryRun: true, targets: ['b'] });
    expect((next.summary as RunSummary).targets.map((t) => [t.name, t.selected, t.deleted])).toEqual([['b', 0, 0]]);
    expect((next.summary as RunSummary).dryRun).toBe(true);
    expect(emu.stats.calls.delete).toBe(before);
  });

  test('a target still with work left after maxRounds invocations stops there: the rest is deferred for the next run', async () => {
    emu.setTasks(P.a, backlog(5000, 60));
    emu.resetStats();
    invocations.length = 0;
    const output = await start('scheduled-4', { scheduled: true }, undefined, { MAX_ROUNDS: '2' });
    const rounds = invocations.filter((i) => i.step === 'target' && i.target === 'a').map((i) => i.round);
    expect(rounds).toEqual([1, 2]);
    const a = (output.summary as RunSummary).targets.find((t) => t.name === 'a')!;
    expect(a.deleted).toBe(emu.stats.deleted[P.a]?.length);
    expect(a.deleted).toBeGreaterThan(0);
    expect(a.deleted + a.deferred).toBe(60);
    expect(invocations.find((i) => i.target === 'a' && i.round === 2)!.output).toContain('fan-out rounds used up');
  });

  test('maxDeletesPerRun is over the whole execution: the oldest over all targets go, each target taking its share over its rounds', async () => {
    const CAP = 50;
    await writePolicy(CAP);
    // Fresh backlogs, the ages interleaved across targets: a 70 (one round cannot do them), b 10, c 30.
    const now = Date.now();
    const made = { a: 70, b: 10, c: 30 };
    const ages = new Map<string, number>();
    for (const name of ['a', 'b', 'c'] as const) {
      const tasks = Array.from({ length: made[name] }, (_, i) => {
        const id = String(6000 + PREFIX[name] + i);
        const age = 31 * DAY + ((i * 7919 + PREFIX[name]) % 500) * 3_600_000;
        ages.set(id, age);
        return { ...task(id, 4, age), start_time: now - age };
      });
      emu.setTasks(P[name], tasks);
    }
    emu.resetStats();
    invocations.length = 0;
    const output = await start('scheduled-5', { scheduled: true });
    // The CAP oldest over all targets, as one run would take them (ties: smaller id).
    const oldest = [...ages.entries()].sort((x, y) => y[1] - x[1] || Number(x[0]) - Number(y[0])).slice(0, CAP).map(([id]) => id);
    const deleted = (['a', 'b', 'c'] as const).flatMap((name) => emu.stats.deleted[P[name]] ?? []);
    expect(sorted(deleted)).toEqual(sorted(oldest));
    expect(emu.stats.calls.delete).toBe(CAP);
    // a needed more than one round for its share, and its later rounds took only what was left of it.
    expect(invocations.filter((i) => i.step === 'target' && i.target === 'a').length).toBeGreaterThan(1);
    const summary = output.summary as RunSummary;
    expect(summary.totals).toMatchObject({ deleted: CAP, selected: made.a + made.b + made.c });
    expect(summary.targets.slice(0, 3).map((t) => t.deleted + t.deferred)).toEqual([made.a, made.b, made.c]);
  });
});

function sorted(ids: readonly string[] | undefined): string[] {
  return [...(ids ?? [])].sort();
}
