/**
 * The fan-out steps of the Lambda handler (issue 18.2), as the state machine sends them: list the run's targets,
 * run one target per invocation (again while it stopped at its deadline with work left), merge and report once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { lambdaContext, startHandler } from '../helpers/handler.js';
import { DAY, PROJECT, PROJECT_B, TOKEN, deletedIds, emulator, policyText, task } from '../helpers/harness.js';

type StepResult = { targets?: string[]; target?: string; round?: number; more?: boolean };

describe('Lambda handler: fan-out steps', () => {
  let emu: Emulator;
  let handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<StepResult>;
  let restore: () => void;

  beforeAll(async () => {
    emu = await emulator({
      buckets: ['oms-task-janitor-prod-archive-123456789012-ap-southeast-1'],
      secrets: { 'oms-janitor/prod': JSON.stringify({ type: 'token', token: TOKEN }) },
      projects: {
        [PROJECT]: Array.from({ length: 6 }, (_, i) => task(String(10 + i), 4, (50 - i) * DAY)),
        [PROJECT_B]: [task('20', 4, 40 * DAY), task('21', 5, DAY)],
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'janitor-fanout-'));
    writeFileSync(join(dir, 'policy.yaml'), policyText(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n', { a: PROJECT, b: PROJECT_B }));
    const started = await startHandler(emu, {
      POLICY_FILE: join(dir, 'policy.yaml'),
      STAGE: 'prod',
      OMS_CREDENTIALS_SECRET_ID: 'oms-janitor/prod',
      REPORT_MODE: 'changes',
      REPORT_TOPIC: 'arn:aws:sns:ap-southeast-1:123456789012:oms-task-janitor-prod-reports',
      AWS_ENDPOINT_URL_SNS: emu.url,
      ARCHIVE_ROOT: 's3://oms-task-janitor-prod-archive-{account}-{region}',
      AWS_ENDPOINT_URL_S3: emu.url,
      // Stage params, strings in the environment as --param gives them.
      FAN_OUT_CONCURRENCY: '4',
      MAX_ROUNDS: '3',
    });
    handler = started.handler as never;
    restore = started.restore;
  });
  afterAll(async () => {
    await emu.close();
    restore();
  });

  it('targets, one invocation per target (a second round for the one that ran out of time), then one merged summary and one report', async () => {
    const exec = (n: number) => `arn:aws:states:ap-southeast-1:123456789012:execution:oms-task-janitor-prod:run-${n}`;
    expect(await handler({ fanOut: 'targets', event: { scheduled: true }, executionId: exec(1) }, lambdaContext('t'))).toEqual({ targets: ['a', 'b'], busy: null, concurrency: 4 });
    // The same execution asking again (a retried step) keeps the lock; another execution is turned away, touching nothing.
    expect(await handler({ fanOut: 'targets', event: { dryRun: false, targets: ['b'] }, executionId: exec(1) }, lambdaContext('t2'))).toEqual({ targets: ['b'], busy: null, concurrency: 4 });
    const { 's3-get': _read, ...before } = emu.stats.calls;
    expect(await handler({ fanOut: 'targets', event: { scheduled: true }, executionId: exec(2) }, lambdaContext('t5'))).toEqual({ targets: [], busy: exec(1), concurrency: 4 });
    const { 's3-get': _readAgain, ...after } = emu.stats.calls;
    expect(after).toEqual(before); // it read the lock, and wrote, listed and deleted nothing
    // A real run invoked directly (not through the state machine) while the execution runs is refused before any
    // request to OMS; a dry run changes nothing and goes ahead.
    await expect(handler({ dryRun: false }, lambdaContext('direct-1'))).rejects.toThrow(expect.objectContaining({ name: 'StageBusy', message: expect.stringContaining(`another run of this stage is in progress (${exec(1)}`) }));
    expect(emu.stats.calls.list ?? 0).toBe(0);
    const dry = (await handler({}, lambdaContext('direct-2'))) as unknown as RunSummary;
    expect(dry).toMatchObject({ dryRun: true, totals: { selected: 7, deleted: 0 } });
    expect(emu.stats.calls.list).toBeGreaterThan(0); // the key counted above
    await expect(handler({ fanOut: 'targets', event: { dryRun: false, targets: ['zz'] } }, lambdaContext('t3'))).rejects.toThrow(/event\.targets\[0\]: unknown target "zz"/);
    await expect(handler({ fanOut: 'targets', event: { manifest: { kind: 'x' } } }, lambdaContext('t4'))).rejects.toThrow(/a manifest is applied by the function itself, not fanned out/);

    // Each target plans first: what it would act on, kept in the archive bucket for its share of the run cap; as a
    // dry run, nothing is deleted.
    const executionId = exec(1);
    expect(await handler({ fanOut: 'plan', event: { scheduled: true }, target: 'a', executionId }, lambdaContext('p-a'))).toEqual({ target: 'a', planned: 6 });
    expect(await handler({ fanOut: 'plan', event: { scheduled: true }, target: 'b', executionId }, lambdaContext('p-b'))).toEqual({ target: 'b', planned: 1 });
    expect(deletedIds(emu)).toEqual([]);
    await expect(handler({ fanOut: 'target', event: { scheduled: true }, target: 'a', round: 1 }, lambdaContext('no-exec'))).rejects.toThrow(/event\.executionId: required for a target step/);

    // Target a's first invocation has little time: it stops with work left.
    let left = 44_000;
    const a1 = await handler({ fanOut: 'target', event: { scheduled: true }, target: 'a', round: 1, executionId }, lambdaContext('a-1', () => (left -= 6_000)));
    expect(a1).toMatchObject({ target: 'a', round: 2, more: true, event: { scheduled: true }, executionId });
    expect(a1).not.toHaveProperty('summary'); // kept in the target's ledger, not carried by the state machine
    expect(deletedIds(emu, PROJECT_B)).toEqual([]); // one target per invocation
    const afterRound1 = deletedIds(emu, PROJECT).length;
    expect(afterRound1).toBeLessThan(6);
    // The second round adds to the first in the ledger.
    const a2 = await handler({ fanOut: 'target', event: { scheduled: true }, target: 'a', round: 2, executionId }, lambdaContext('a-2'));
    expect(a2).toMatchObject({ target: 'a', round: 3, more: false });
    expect(deletedIds(emu, PROJECT)).toHaveLength(6);
    const b1 = await handler({ fanOut: 'target', event: { scheduled: true }, target: 'b', round: 1, executionId }, lambdaContext('b-1'));
    expect(b1).toMatchObject({ more: false });
    // The targets' invocations send no report: the merge sends the one report of the run.
    expect(emu.stats.published).toHaveLength(0);

    const merged = (await handler(
      {
        fanOut: 'merge',
        event: { scheduled: true },
        executionId: 'arn:aws:states:ap-southeast-1:123456789012:execution:oms-task-janitor-prod:run-1',
        results: [{ target: 'a' }, { target: 'b' }, { target: 'c', error: '{"errorType":"CredentialsError","errorMessage":"secret not found"}' }],
      },
      lambdaContext('merge'),
    )) as unknown as RunSummary;
    expect(merged.totals).toMatchObject({ listed: 8, selected: 7, deleted: 7, failed: 0, deferred: 0 });
    expect(merged.targets.map((t) => [t.name, t.listed, t.deleted, t.deferred, t.error ?? null])).toEqual([
      ['a', 6, 6, 0, null], // listed in its first round; deleted over both
      ['b', 2, 1, 0, null],
      ['c', 0, 0, 0, expect.stringMatching(/^stopped: .*secret not found/)],
    ]);
    expect(deletedIds(emu)).toHaveLength(6);
    expect(emu.stats.published).toHaveLength(1);
    expect(emu.stats.published[0]!.subject).toMatch(/7 deleted/);
    // The merge gave the lock back: the next execution runs.
    expect(await handler({ fanOut: 'targets', event: { scheduled: true }, executionId: exec(3) }, lambdaContext('t6'))).toEqual({ targets: ['a', 'b'], busy: null, concurrency: 4 });
  });
});
