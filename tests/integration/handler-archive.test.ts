/**
 * Every real Lambda run archives what it deletes (issue 17.1, 17.2): to ARCHIVE_ROOT (the stage's bucket), through
 * the real S3 client against the emulator's S3. A bucket that refuses the plan fails the run with nothing deleted and
 * ArchiveFailed 1; outcomes that cannot be written are counted and the run's summary stands.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startHandler, type Handler } from '../helpers/handler.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { openArchiveStore } from '../../lib/archive/store.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Context } from 'aws-lambda';
import type { Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, TOKEN, deletedIds, emulator, policyText, runCli, task } from '../helpers/harness.js';

const context = (id: string) => ({ awsRequestId: id, functionName: 'oms-task-janitor-prod-purge', getRemainingTimeInMillis: () => 600_000 }) as unknown as Context;

describe('Lambda handler with an archive', () => {
  let emu: Emulator;
  let handler: Handler;
  let stdout: string[];
  let restore: () => void;
  const lines = () => stdout.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const emf = () => lines().filter((l) => typeof l._aws === 'object');
  const world = () => [task('1', 4, 40 * DAY), task('2', 4, 41 * DAY), task('3', 5, DAY)];

  beforeAll(async () => {
    emu = await emulator({ buckets: ['oms-janitor-archive-prod'], secrets: { 'oms-janitor/prod': JSON.stringify({ type: 'token', token: TOKEN }) } });
    const dir = mkdtempSync(join(tmpdir(), 'janitor-handler-archive-'));
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, policyText(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n'));
    ({ handler, stdout, restore } = await startHandler(emu, {
      POLICY_FILE: policyFile,
      STAGE: 'prod',
      OMS_CREDENTIALS_SECRET_ID: 'oms-janitor/prod',
      ARCHIVE_ROOT: 's3://oms-janitor-archive-prod/prod',
      AWS_ENDPOINT_URL_S3: emu.url,
    }));
  });
  beforeEach(() => {
    stdout.length = 0;
    emu.setTasks(PROJECT, world());
    emu.setS3Fault(undefined);
    emu.resetStats();
  });
  afterAll(async () => {
    await emu.close();
    restore();
  });

  it('a scheduled run archives its plan, outcomes and summary under runs/YYYY/MM/DD/<request id>/; ArchiveFailed 0', async () => {
    const summary = await handler({ scheduled: true }, context('run-archive-0001'));
    expect(summary.totals.deleted).toBe(2);
    const objects = emu.s3Objects('oms-janitor-archive-prod');
    const day = summary.startedAt.slice(0, 10).replace(/-/g, '/');
    const prefix = `prod/runs/${day}/run-archive-0001/`;
    expect([...objects.keys()].filter((k) => k.startsWith(prefix)).sort()).toEqual([`${prefix}outcomes.jsonl.gz`, `${prefix}plan.json.gz`, `${prefix}summary.json`]);
    const plan = JSON.parse(gunzipSync(objects.get(`${prefix}plan.json.gz`)!.body).toString('utf8')) as { trigger: string; items: { id: string; record: { id: number } }[] };
    expect(plan.trigger).toBe('scheduled');
    expect(plan.items.map((i) => [i.id, i.record.id])).toEqual([['2', 2], ['1', 1]]);
    expect(emf()).toEqual([expect.objectContaining({ ArchiveFailed: 0, TasksDeleted: 2 })]);
    // A dry run archives nothing.
    await handler({}, context('run-archive-dry'));
    expect([...emu.s3Objects('oms-janitor-archive-prod').keys()].some((k) => k.includes('run-archive-dry'))).toBe(false);
  });

  it('a big manifest from the archive bucket ({"manifest": "s3://…"}): a run stopped at its deadline is resumed by the same event, gone items counted as gone', async () => {
    const many = Array.from({ length: 12 }, (_, i) => task(String(100 + i), 4, (60 - i) * DAY));
    emu.setTasks(PROJECT, many);
    const dir = mkdtempSync(join(tmpdir(), 'janitor-handler-manifest-'));
    const manifestFile = join(dir, 'plan.json');
    expect((await runCli(['plan', '--policy', process.env.POLICY_FILE!, '--out', manifestFile], { OMS_AUTH_TOKEN: TOKEN })).code).toBe(0);
    // Uploaded beside the archive, as docs/operations.md says (here with the same S3 client the function uses).
    await openArchiveStore('s3://oms-janitor-archive-prod').put('manifests/plan.json', readFileSync(manifestFile), 'application/json');
    const event = { manifest: 's3://oms-janitor-archive-prod/manifests/plan.json', dryRun: false };

    // The first run has little time: the budget ends it after a few deletions; the rest is deferred (time-budget).
    let left = 75_000;
    const short = { ...context('resume-1'), getRemainingTimeInMillis: () => (left -= 5_000) } as unknown as Context;
    const first = await handler(event, short);
    expect(first.totals.deleted).toBeGreaterThan(0);
    expect(first.totals.deferred).toBeGreaterThan(0);
    const firstDeleted = deletedIds(emu);
    // The same event again: the rest goes, and what the first run deleted is counted as already gone.
    const second = await handler(event, context('resume-2'));
    expect(deletedIds(emu)).toEqual(many.map((t) => t.id).sort());
    expect(second.totals.deleted).toBe(12 - firstDeleted.length);
    expect([...second.alreadyGone!].sort()).toEqual(firstDeleted);

    await expect(handler({ manifest: 's3://another-bucket/plan.json', dryRun: false }, context('other'))).rejects.toThrow(/event\.manifest: "s3:\/\/another-bucket\/plan\.json" is not in the stage's archive bucket/);
    await expect(handler({ manifest: 's3://oms-janitor-archive-prod/manifests/none.json' }, context('none'))).rejects.toThrow(/does not exist/);
  });

  it('a bucket that refuses the plan: the invocation fails naming the archive, nothing is paused or deleted, ArchiveFailed 1', async () => {
    emu.setS3Fault({ kind: 'error', status: 403, code: 'AccessDenied', message: 'Access Denied', keyPrefix: 'prod/runs/' });
    await expect(handler({ dryRun: false }, context('run-archive-0002'))).rejects.toThrow(/the run's plan could not be archived to s3:\/\/oms-janitor-archive-prod\/prod .*nothing was paused or deleted/);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(deletedIds(emu)).toEqual([]);
    expect(emf()).toEqual([expect.objectContaining({ ArchiveFailed: 1 })]);
  });

  it('a bucket that refuses everything: the stage lock cannot be taken, so the run does nothing at all, ArchiveFailed 1', async () => {
    emu.setS3Fault({ kind: 'error', status: 403, code: 'AccessDenied', message: 'Access Denied' });
    const listedBefore = emu.stats.calls.list ?? 0;
    await expect(handler({ dryRun: false }, context('run-archive-0003'))).rejects.toThrow(/the stage's run lock could not be taken in s3:\/\/oms-janitor-archive-prod\/prod .*Access Denied.*nothing was paused or deleted/);
    expect(emu.stats.calls.list ?? 0).toBe(listedBefore);
    expect(deletedIds(emu)).toEqual([]);
    expect(emf()).toEqual([expect.objectContaining({ ArchiveFailed: 1 })]);
  });
});
