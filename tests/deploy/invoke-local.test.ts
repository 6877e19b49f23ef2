/**
 * `serverless invoke local -f purge --stage dev`: the real bundle (serverless-esbuild, .cjs), the real handler, the
 * real SecretsManagerClient, SNSClient and OMS client, against the emulator on a random loopback port. Few processes:
 * each invoke bundles and boots osls (~4 s).
 */
import { afterAll, beforeAll, beforeEach, expect, jest, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, TOKEN, emulator, policyText, task } from '../helpers/harness.js';
import { emfBlobs, parseInvokeOutput } from './invoke-output.js';
import { ROOT, sandbox, serverless } from './sandbox.js';

jest.setTimeout(120_000);

// The dev stage's secret name from serverless.yml (params: secretName), served by the emulator's Secrets Manager.
const SECRET_ID = 'oms-janitor/dev';
/**
 * The dev stage's report topic as an ARN: invoke local gives the handler no function ARN to complete serverless.yml's
 * topic name with (docs/operations.md section 4 passes it the same way). The emulator's SNS receives the report.
 */
const REPORT_TOPIC_ARN = 'arn:aws:sns:ap-southeast-1:123456789012:oms-task-janitor-dev-reports';
const OLD_SUCCEEDED = ['1001', '1002', '1003'];
const OLD_FAILED = '1004';
/** In the purge test, OMS refuses these deletions (one 403, one 400); the other two selected tasks go. */
const FORBIDDEN = '1002';
const INVALID = OLD_FAILED;

let emu: Emulator;
let service: { dir: string; remove: () => Promise<void> };
let policyFile: string;

beforeAll(async () => {
  emu = await emulator({ buckets: ['janitor-archive-dev'], secrets: { [SECRET_ID]: JSON.stringify({ type: 'token', token: TOKEN }) } });
  service = await sandbox();
  policyFile = join(service.dir, 'invoke-policy.yaml');
  const rules = [
    'rules:',
    '  - { name: succeeded-after-7d, statuses: [succeeded], olderThan: 7d }',
    '  - { name: failed-after-30d, statuses: [failed], olderThan: 30d }',
    'protect: { names: ["keep-*"] }',
  ].join('\n');
  await writeFile(policyFile, `${policyText(emu, rules)}\n`);
});

afterAll(async () => {
  await emu?.close();
  await service?.remove();
});

beforeEach(() => {
  emu.setTasks(PROJECT, [
    ...OLD_SUCCEEDED.map((id) => task(id, 5, 10 * DAY)),
    task(OLD_FAILED, 4, 40 * DAY),
    task('2001', 5, 1 * DAY), // too recent
    task('2002', 4, 10 * DAY), // failed, but not 30 days old
    task('2003', 5, 20 * DAY, { name: 'keep-baseline' }), // protected by name
    task('2004', 2, 20 * DAY), // migrating: no rule stops it
  ]);
  emu.resetStats();
});

/** Runs the dev stage's function with `event`, the policy above, and the emulator as Secrets Manager and SNS. */
function invoke(event: unknown) {
  // invoke local has no function ARN to complete the stage's ARCHIVE_ROOT ({account}, {region}): a full root is given.
  const args = ['invoke', 'local', '-f', 'purge', '--stage', 'dev', '--data', JSON.stringify(event), '--env', `POLICY_FILE=${policyFile}`, '--env', `REPORT_TOPIC=${REPORT_TOPIC_ARN}`, '--env', 'ARCHIVE_ROOT=s3://janitor-archive-dev/dev'];
  return serverless(service.dir, args, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
    AWS_ENDPOINT_URL_SNS: emu.url,
    AWS_ENDPOINT_URL_S3: emu.url,
    AWS_REGION: 'ap-southeast-1',
  });
}

test('a manual {} event is a dry run: tasks listed and selected, no DELETE reaches OMS', async () => {
  const run = await invoke({});
  const { result, lines } = parseInvokeOutput(run.stdout);
  expect(run).toMatchObject({ code: 0 }); // on failure, jest shows the whole run: stdout and stderr
  expect(result).toMatchObject({ dryRun: true, totals: { listed: 8, selected: 4, deleted: 0, failed: 0 } });
  expect(emu.stats.calls.delete ?? 0).toBe(0);
  expect(emu.stats.calls.list).toBeGreaterThan(0);
  expect(emu.stats.calls['secrets-get']).toBe(1);
  expect(lines).toContainEqual(expect.objectContaining({ message: 'invocation', trigger: 'manual', dryRun: true, credentials: 'token', stage: 'dev' }));
  // dev's `report: changes` (the default): a dry run changes nothing, so no report.
  expect(emu.stats.calls['sns-publish'] ?? 0).toBe(0);
});

test('{"dryRun": false} purges; a 403 and a 400 are failed, logged with their codes and counted in the metrics the alarms watch', async () => {
  // One invocation for the purge and its failure path (each invoke local costs seconds).
  emu.setTaskFault(PROJECT, FORBIDDEN, { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'denied' });
  emu.setTaskFault(PROJECT, INVALID, { method: 'DELETE', status: 400, errorCode: 'OMS.0054', errorMsg: 'invalid task id' });
  const run = await invoke({ dryRun: false });
  const { result, lines } = parseInvokeOutput(run.stdout, run.stderr);
  expect(run).toMatchObject({ code: 0 }); // failed deletions are in the summary, not an invocation error
  expect(result).toMatchObject({ dryRun: false, totals: { listed: 8, selected: 4, deleted: 2, failed: 2 } });
  const deleted = OLD_SUCCEEDED.filter((id) => id !== FORBIDDEN);
  expect([...(emu.stats.deleted[PROJECT] ?? [])].sort()).toEqual(deleted);
  expect(emu.tasks(PROJECT).map((t) => t.id).sort()).toEqual([FORBIDDEN, INVALID, '2001', '2002', '2003', '2004'].sort());
  const failures = (result!.targets as { failures: Record<string, unknown>[] }[])[0]!.failures;
  expect(failures).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ taskId: FORBIDDEN, httpStatus: 403, errorCode: 'APIGW.0306' }),
      expect.objectContaining({ taskId: INVALID, httpStatus: 400, errorCode: 'OMS.0054' }),
    ]),
  );

  // The 400/403 log lines carry what docs/operations.md's Logs Insights queries read, at the top level; a 403 (a
  // permission to grant) is an error, a 400 a warning.
  const failedLines = lines.filter((line) => line.outcome === 'failed');
  expect(failedLines).toHaveLength(2);
  const requestId = expect.stringMatching(/\S/);
  expect(failedLines).toContainEqual(
    expect.objectContaining({ level: 'ERROR', outcome: 'failed', httpStatus: 403, errorCode: 'APIGW.0306', errorMsg: 'denied', requestId, target: expect.any(String), taskId: FORBIDDEN, stage: 'dev' }),
  );
  expect(failedLines).toContainEqual(
    expect.objectContaining({ level: 'WARN', outcome: 'failed', httpStatus: 400, errorCode: 'OMS.0054', requestId, target: expect.any(String), taskId: INVALID, stage: 'dev' }),
  );
  expect(new Set(failedLines.map((line) => line.target)).size).toBe(1);

  // serverless.yml's TasksFailed, TargetsNotCleaned and NoRuns alarms watch namespace OmsTaskJanitor with exactly
  // these dimensions: a metric published with one more or one fewer dimension would never reach them.
  const [emf, ...more] = emfBlobs(lines);
  expect(more).toEqual([]);
  const meta = (emf!._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }).CloudWatchMetrics;
  expect(meta).toHaveLength(1);
  expect(meta[0]!.Namespace).toBe('OmsTaskJanitor');
  expect(meta[0]!.Dimensions.map((set) => [...set].sort())).toEqual([['service', 'stage']]);
  expect(emf).toMatchObject({ service: 'oms-task-janitor', stage: 'dev', TasksDeleted: 2, TasksFailed: 2, TaskGroupsFailed: 0, SyncTasksFailed: 0, Http400: 1, Http403: 1, TargetsStopped: 0, TargetsRefused: 0, ArchiveFailed: 0 });
  // The bundle's S3 client (required lazily from the runtime's SDK) archived the run: plan, outcomes, summary.
  const archived = [...emu.s3Objects('janitor-archive-dev').keys()];
  expect(archived.filter((k) => k.includes(`/${String(result!.runId)}/`)).map((k) => k.split('/').pop()).sort()).toEqual(['outcomes.jsonl.gz', 'plan.json.gz', 'summary.json']);
  expect(typeof emf!.RunDuration).toBe('number'); // the heartbeat: one sample per finished run
  expect(meta[0]!.Metrics.map((m) => m.Name)).toEqual(
    expect.arrayContaining(['TasksFailed', 'TaskGroupsFailed', 'SyncTasksFailed', 'Http400', 'Http403', 'TargetsStopped', 'TargetsRefused', 'RunDuration', 'ReportsFailed']),
  );

  // The run report, from the bundle's lazily required SNS client (the runtime's SDK in Lambda, node_modules here).
  expect(emf).toMatchObject({ ReportsFailed: 0 });
  expect(emu.stats.published).toHaveLength(1);
  const report = emu.stats.published[0]!;
  expect(report).toMatchObject({
    topicArn: REPORT_TOPIC_ARN,
    subject: 'OMS Task Janitor dev: 2 deleted, 2 failed',
    attributes: { stage: { DataType: 'String', StringValue: 'dev' }, outcome: { DataType: 'String', StringValue: 'failures' } },
  });
  const body = report.byProtocol!.default!;
  expect(body).toMatch(new RegExp(`^task +main +${FORBIDDEN} +succeeded +403 +APIGW\\.0306 +denied$`, 'm'));
  expect(body).toMatch(new RegExp(`^task +main +${INVALID} +failed +400 +OMS\\.0054 +invalid task id$`, 'm'));
  expect(body).toContain(`| filter function_request_id = ${JSON.stringify(result!.runId)}`);
  expect(body).toContain('/aws/lambda/oms-task-janitor-dev-purge');
  expect(lines).toContainEqual(expect.objectContaining({ level: 'INFO', message: 'run report sent', topic: REPORT_TOPIC_ARN, stage: 'dev' }));
});

test('{"dryrun": false} (a typo) is refused with nothing done, and the error names the field', async () => {
  const run = await invoke({ dryrun: false });
  const { result } = parseInvokeOutput(run.stdout);
  expect(run.code).not.toBe(0);
  expect(result).toMatchObject({ errorMessage: expect.stringContaining('event.dryrun: unknown field') });
  expect(result!.errorMessage).toContain('nothing was done');
  // Not even the secret was read: the event is checked first.
  expect(emu.stats.total).toBe(0);
  expect(emu.stats.calls.list ?? 0).toBe(0);
  expect(emu.tasks(PROJECT)).toHaveLength(8);
});

// The prod stage exactly as shipped: policies/prod.yaml still holds placeholder project ids (000…b1). A stage deployed
// like that must fail loudly (docs/operations.md), not list someone else's project or an empty one run after run.
const prodHasPlaceholders = /\b0{16,}[0-9a-f]*\b/.test(readFileSync(join(ROOT, 'policies', 'prod.yaml'), 'utf8'));
(prodHasPlaceholders ? test : test.skip)('prod with its shipped placeholder policy refuses the invocation: PolicyError naming projectId, nothing read', async () => {
  const run = await serverless(service.dir, ['invoke', 'local', '-f', 'purge', '--stage', 'prod', '--data', '{}'], {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
    AWS_REGION: 'ap-southeast-1',
  });
  const { result, lines } = parseInvokeOutput(run.stdout, run.stderr);
  expect(run.code).not.toBe(0);
  expect(result).toMatchObject({ errorMessage: expect.stringMatching(/targets\[0\]\.projectId: .*looks like a placeholder/) });
  expect(lines).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'invocation refused', stage: 'prod', error: expect.objectContaining({ name: 'PolicyError' }) }));
  // Refused before the secret is read or OMS is asked anything.
  expect(emu.stats.total).toBe(0);
});
