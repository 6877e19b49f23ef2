/**
 * A stage with a notice window (issue 17.3) through the Lambda handler: a scheduled run announces instead of
 * deleting, and its report lists what will go and when; a dry run neither writes nor consumes the notice; a
 * reviewed manifest bypasses the window; an explicit purge by task id is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHandler, type Handler } from '../helpers/handler.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, TOKEN, deletedIds, emulator, policyText, runCli, task } from '../helpers/harness.js';

const TOPIC = 'arn:aws:sns:ap-southeast-1:123456789012:oms-task-janitor-prod-reports';
const context = (id: string) => ({ awsRequestId: id, functionName: 'oms-task-janitor-prod-purge', invokedFunctionArn: 'arn:aws:lambda:ap-southeast-1:123456789012:function:oms-task-janitor-prod-purge', getRemainingTimeInMillis: () => 600_000 }) as unknown as Context;

describe('Lambda handler with a notice window', () => {
  let emu: Emulator;
  let handler: Handler;
  let restore: () => void;
  const dir = mkdtempSync(join(tmpdir(), 'janitor-handler-notice-'));
  const policyFile = join(dir, 'policy.yaml');

  beforeAll(async () => {
    emu = await emulator({
      buckets: ['oms-task-janitor-prod-archive-123456789012-ap-southeast-1'],
      secrets: { 'oms-janitor/prod': JSON.stringify({ type: 'token', token: TOKEN }) },
      projects: { [PROJECT]: [task('1', 4, 40 * DAY, { name: 'old-one' }), task('2', 4, 41 * DAY, { name: 'old-two' }), task('3', 5, DAY)] },
    });
    writeFileSync(policyFile, policyText(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n'));
    ({ handler, restore } = await startHandler(emu, {
      POLICY_FILE: policyFile,
      STAGE: 'prod',
      OMS_CREDENTIALS_SECRET_ID: 'oms-janitor/prod',
      ARCHIVE_ROOT: 's3://oms-task-janitor-prod-archive-{account}-{region}',
      NOTICE_WINDOW: '7d',
      REPORT_MODE: 'changes',
      REPORT_TOPIC: TOPIC,
      AWS_ENDPOINT_URL_S3: emu.url,
      AWS_ENDPOINT_URL_SNS: emu.url,
    }));
  });
  afterAll(async () => {
    await emu.close();
    restore();
  });

  const notice = () => emu.s3Objects('oms-task-janitor-prod-archive-123456789012-ap-southeast-1').get('pending/notice.json');

  it('a dry run writes no notice; a scheduled run announces, deletes nothing, and its report says what goes when', async () => {
    await handler({}, context('dry-1'));
    expect(notice()).toBeUndefined();

    const summary = await handler({ scheduled: true }, context('announce-1'));
    expect(deletedIds(emu)).toEqual([]);
    expect(summary.notice).toMatchObject({ pending: 2, added: 2, written: true });
    const pending = JSON.parse(notice()!.body.toString()) as { items: { id: string }[] };
    expect(pending.items.map((i) => i.id).sort()).toEqual(['1', '2']);
    const report = emu.stats.published.at(-1)!;
    expect(report.attributes.outcome).toMatchObject({ StringValue: 'changes' });
    expect(report.message).toMatch(/Notice: 2 items announced and pending \(2 new this run\)/);
    expect(report.message).toMatch(/task main 2 old-two 20\d\d-/);

    // The next run announces nothing new: no report under `changes`.
    const published = emu.stats.published.length;
    await handler({ scheduled: true }, context('announce-2'));
    expect(emu.stats.published.length).toBe(published);
  });

  it('a reviewed manifest bypasses the window; an explicit purge by task id is refused', async () => {
    await expect(handler({ dryRun: false, taskIds: ['1'] }, context('ids'))).rejects.toThrow(/event\.taskIds: does not go with a notice window: nothing is deleted without notice/);
    const manifestFile = join(dir, 'plan.json');
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], { OMS_AUTH_TOKEN: TOKEN })).code).toBe(0);
    const summary = await handler({ manifest: JSON.parse(readFileSync(manifestFile, 'utf8')), dryRun: false }, context('apply-1'));
    expect(summary.totals.deleted).toBe(2);
    expect(summary.notice).toBeUndefined();
    expect(deletedIds(emu)).toEqual(['1', '2']);
  });
});
