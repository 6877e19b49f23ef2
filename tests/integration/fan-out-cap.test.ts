/**
 * maxDeletesPerRun over a fanned-out execution, through the handler's steps as the state machine sends them: every
 * kind counts, an item paused and then left at the deadline counts, a repeated round takes nothing twice, shares are
 * fixed once, and steps of an execution without the stage's lock do nothing (an independent review's findings).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { openArchiveStore } from '../../lib/archive/store.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { FAN_OUT_LOCK_KEY, releaseFanOutLock } from '../../lib/run/fan-out-lock.js';
import { reserveRound } from '../../lib/run/fan-out-plan.js';
import { lambdaContext, startHandler } from '../helpers/handler.js';
import { DAY, PROJECT, PROJECT_B, TOKEN, deletedIds, emulator, policyText, task } from '../helpers/harness.js';

type StepResult = { round?: number; more?: boolean; planned?: number; busy?: string | null };
jest.setTimeout(120_000);
const CAP = 3;
const EV = { scheduled: true };
const exec = (name: string) => `arn:aws:states:ap-southeast-1:123456789012:execution:oms-task-janitor-prod:${name}`;

describe('the run cap over a fanned-out execution', () => {
  let emu: Emulator;
  let handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<StepResult & RunSummary>;
  let restore: () => void;
  const old = Date.now() - 30 * DAY;

  beforeAll(async () => {
    emu = await emulator({
      buckets: ['oms-task-janitor-prod-archive-123456789012-ap-southeast-1'],
      secrets: { 'oms-janitor/prod': JSON.stringify({ type: 'token', token: TOKEN }) },
      stopDelayMs: 120_000, // a paused migration stays "pausing" for the whole test
    });
    const dir = mkdtempSync(join(tmpdir(), 'janitor-fanout-cap-'));
    const rules = [
      'rules:',
      '  - { name: sync, kind: syncTask, statuses: [stopped], olderThan: 7d }',
      '  - { name: stuck, statuses: [migrating], olderThan: 2d, stopFirst: true }',
      '  - { name: failed, statuses: [failed], olderThan: 30d }',
      'concurrency: 1',
      `limits: { maxDeletesPerRun: ${CAP}, maxDeletePercent: 100 }`,
    ].join('\n');
    writeFileSync(join(dir, 'policy.yaml'), policyText(emu, `${rules}\n`, { a: PROJECT, b: PROJECT_B }));
    const started = await startHandler(emu, {
      POLICY_FILE: join(dir, 'policy.yaml'),
      STAGE: 'prod',
      OMS_CREDENTIALS_SECRET_ID: 'oms-janitor/prod',
      ARCHIVE_ROOT: 's3://oms-task-janitor-prod-archive-{account}-{region}',
      AWS_ENDPOINT_URL_S3: emu.url,
      MAX_ROUNDS: '5',
    });
    handler = started.handler as never;
    restore = started.restore;
  });
  afterAll(async () => {
    await emu.close();
    restore();
  });
  beforeEach(() => {
    for (const project of [PROJECT, PROJECT_B]) {
      emu.setTasks(project, []);
      emu.setSyncTasks(project, []);
    }
    emu.resetStats();
  });

  /** The execution's first step, then every target's plan. */
  async function begin(name: string, targets = ['a', 'b']) {
    expect(await handler({ fanOut: 'targets', event: { ...EV }, executionId: exec(name) }, lambdaContext(`t-${name}`))).toMatchObject({ busy: null });
    for (const target of targets) await handler({ fanOut: 'plan', event: EV, target, executionId: exec(name) }, lambdaContext(`p-${name}-${target}`));
  }
  const merge = (name: string, targets = ['a', 'b']) =>
    handler({ fanOut: 'merge', event: EV, executionId: exec(name), results: targets.map((target) => ({ target })) }, lambdaContext(`m-${name}`));

  it('sync tasks (every kind) count: rounds after one that stopped at its deadline take only what is left', async () => {
    emu.setSyncTasks(PROJECT, Array.from({ length: 8 }, (_, i) => ({ sync_task_id: `s-${i}`, status: 'STOPPED', create_time: old + i * 1000, last_start_time: old + i * 1000 })));
    await begin('kinds', ['a']);
    const deleted = () => emu.stats.syncTasksDeleted[PROJECT]?.length ?? 0;
    // Round 1 runs out of time after its first delete.
    const r1 = await handler({ fanOut: 'target', event: EV, target: 'a', round: 1, executionId: exec('kinds') }, lambdaContext('k1', () => (deleted() >= 1 ? 1_000 : 600_000)));
    expect(r1.more).toBe(true);
    expect(deleted()).toBe(1);
    for (let round = 2; round <= 4; round += 1) await handler({ fanOut: 'target', event: EV, target: 'a', round, executionId: exec('kinds') }, lambdaContext(`k${round}`));
    expect(deleted()).toBe(CAP);
    const summary = await merge('kinds', ['a']);
    expect(summary.targets[0]!.syncTasks).toMatchObject({ deleted: CAP });
  });

  it('a migration paused and then left at the deadline counts: later rounds pause no more than the cap allows', async () => {
    emu.setTasks(PROJECT, Array.from({ length: 8 }, (_, i) => task(String(10 + i), 2, (50 - i) * DAY)));
    await begin('paused', ['a']);
    const stops = () => emu.stats.calls.stop ?? 0;
    // Each round's time runs out as soon as it has paused one task: it leaves that task paused (not deleted).
    for (let round = 1; round <= 5; round += 1) {
      const base = stops();
      const r = await handler({ fanOut: 'target', event: EV, target: 'a', round, executionId: exec('paused') }, lambdaContext(`s${round}`, () => (stops() > base ? 1_000 : 600_000)));
      if (!r.more) break;
    }
    expect(stops()).toBe(CAP); // one per round, until the share is used up
    await merge('paused', ['a']);
  });

  it('a round sent twice (a retried step) takes only what is left of the share, and the share is split over the targets, oldest first', async () => {
    // a's are the oldest three of the five: a's share is 3, b's none.
    emu.setTasks(PROJECT, [task('1', 4, 60 * DAY), task('2', 4, 59 * DAY), task('3', 4, 58 * DAY)]);
    emu.setTasks(PROJECT_B, [task('21', 4, 40 * DAY), task('22', 4, 39 * DAY)]);
    await begin('twice');
    for (const id of ['r1', 'r1-again']) await handler({ fanOut: 'target', event: EV, target: 'a', round: 1, executionId: exec('twice') }, lambdaContext(id));
    await handler({ fanOut: 'target', event: EV, target: 'b', round: 1, executionId: exec('twice') }, lambdaContext('rb'));
    expect(deletedIds(emu, PROJECT)).toEqual(['1', '2', '3']);
    expect(deletedIds(emu, PROJECT_B)).toEqual([]);
    expect(emu.stats.calls.delete).toBe(3);
    const summary = await merge('twice');
    expect(summary.targets.map((t) => [t.name, t.deleted, t.deferred])).toEqual([['a', 3, 0], ['b', 0, 2]]);
    // The execution's output has no item lists (a state is at most 256 KB); the report has them.
    expect(summary.targets[1]!.deferredItems ?? []).toEqual([]);
  });

  it('the shares are fixed by the first round: a plan that lands afterwards takes nothing; a target without a plan fails, saying so', async () => {
    emu.setTasks(PROJECT, [task('1', 4, 40 * DAY), task('2', 4, 39 * DAY)]);
    emu.setTasks(PROJECT_B, [task('21', 4, 60 * DAY), task('22', 4, 59 * DAY)]);
    await begin('late', ['a']); // b's plan has not landed yet
    await handler({ fanOut: 'target', event: EV, target: 'a', round: 1, executionId: exec('late') }, lambdaContext('la'));
    await handler({ fanOut: 'plan', event: EV, target: 'b', executionId: exec('late') }, lambdaContext('lp'));
    await expect(handler({ fanOut: 'target', event: EV, target: 'b', round: 1, executionId: exec('late') }, lambdaContext('lb'))).rejects.toThrow(/event\.target: "b" has no plan in this execution/);
    expect(deletedIds(emu, PROJECT)).toEqual(['1', '2']);
    expect(deletedIds(emu, PROJECT_B)).toEqual([]);
    await merge('late');
  });

  it('steps of an execution that does not hold the stage lock do nothing: a plan or a round sent by hand is refused', async () => {
    emu.setTasks(PROJECT, Array.from({ length: 8 }, (_, i) => task(String(10 + i), 4, (50 - i) * DAY)));
    await begin('holder');
    for (const step of [
      { fanOut: 'plan', event: EV, target: 'a', executionId: 'by-hand' },
      { fanOut: 'target', event: EV, target: 'a', round: 1, executionId: 'by-hand' },
    ]) {
      await expect(handler(step, lambdaContext('hand'))).rejects.toThrow(expect.objectContaining({ name: 'StageBusy', message: expect.stringContaining('by-hand does not hold the stage\'s lock') }));
    }
    // A forged summary of earlier rounds is no longer taken from the event at all.
    await expect(handler({ fanOut: 'target', event: EV, target: 'a', round: 2, executionId: exec('holder'), previous: { totals: { deleted: -100 } } }, lambdaContext('forged'))).rejects.toThrow(/Unrecognized key: "previous"/);
    expect(deletedIds(emu)).toEqual([]);
    await merge('holder');
  });

  it('a step keeps the lock for as long as it can run; a merge while a round may still run keeps it until that round has ended', async () => {
    emu.setTasks(PROJECT, [task('1', 4, 40 * DAY)]);
    await begin('lease', ['a']);
    const store = openArchiveStore('s3://oms-task-janitor-prod-archive-123456789012-ap-southeast-1');
    const until = async () => Date.parse((JSON.parse((await store.get(FAN_OUT_LOCK_KEY))!.toString('utf8')) as { until: string }).until);
    // The execution's lease nearly over (a long execution): a step that starts now renews it past its own 15 minutes.
    const lock = JSON.parse((await store.get(FAN_OUT_LOCK_KEY))!.toString('utf8')) as Record<string, string>;
    await store.put(FAN_OUT_LOCK_KEY, Buffer.from(JSON.stringify({ ...lock, until: new Date(Date.now() + 1000).toISOString() })), 'application/json');
    await handler({ fanOut: 'target', event: EV, target: 'a', round: 1, executionId: exec('lease') }, lambdaContext('lr'));
    expect(await until()).toBeGreaterThan(Date.now() + 30 * 60_000);
    // A round whose invocation may still be running (Step Functions gave up on its step): the merge keeps the lock
    // for the execution until that round has ended at the latest; a new execution is turned away meanwhile.
    const endsBy = Date.now() + 16 * 60_000;
    await reserveRound(store, exec('lease'), 'a', 1, endsBy);
    await merge('lease', ['a']);
    expect(await until()).toBe(endsBy);
    expect(await handler({ fanOut: 'targets', event: EV, executionId: exec('after-lease') }, lambdaContext('al'))).toMatchObject({ targets: [], busy: exec('lease') });
    await releaseFanOutLock(store, exec('lease'), Date.now()); // as if that round had ended
  });
});
