/**
 * `serverless invoke local -f purge --stage dev`: the real bundle (serverless-esbuild, .cjs), the real handler, the
 * real SecretsManagerClient and OMS client, against the emulator on a random loopback port. Three processes only:
 * each invoke bundles and boots osls (~4 s).
 */
import { afterAll, beforeAll, beforeEach, expect, jest, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, TOKEN, emulator, policyText, task } from '../helpers/harness.js';
import { emfBlobs, parseInvokeOutput } from './invoke-output.js';
import { sandbox, serverless } from './sandbox.js';

jest.setTimeout(120_000);

// The dev stage's secret name from serverless.yml (params: secretName), served by the emulator's Secrets Manager.
const SECRET_ID = 'oms-janitor/dev';
const OLD_SUCCEEDED = ['1001', '1002', '1003'];
const OLD_FAILED = '1004';

let emu: Emulator;
let service: { dir: string; remove: () => Promise<void> };
let policyFile: string;

beforeAll(async () => {
  emu = await emulator({ secrets: { [SECRET_ID]: JSON.stringify({ type: 'token', token: TOKEN }) } });
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

/** Runs the dev stage's function with `event`, the policy above, and the emulator as Secrets Manager. */
function invoke(event: unknown) {
  return serverless(service.dir, ['invoke', 'local', '-f', 'purge', '--stage', 'dev', '--data', JSON.stringify(event), '--env', `POLICY_FILE=${policyFile}`], {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: emu.url,
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
});

test('{"dryRun": false} purges the selected tasks, and the metrics carry the dimensions the alarms watch', async () => {
  const run = await invoke({ dryRun: false });
  const { result, lines } = parseInvokeOutput(run.stdout);
  expect(run).toMatchObject({ code: 0 });
  expect(result).toMatchObject({ dryRun: false, totals: { listed: 8, selected: 4, deleted: 4, failed: 0 } });
  expect([...(emu.stats.deleted[PROJECT] ?? [])].sort()).toEqual([...OLD_SUCCEEDED, OLD_FAILED].sort());
  expect(emu.tasks(PROJECT).map((t) => t.id).sort()).toEqual(['2001', '2002', '2003', '2004']);

  // serverless.yml's TasksFailed and TargetsNotCleaned alarms watch namespace OmsTaskJanitor with exactly these
  // dimensions: a metric published with one more or one fewer dimension would never reach them.
  const [emf, ...more] = emfBlobs(lines);
  expect(more).toEqual([]);
  const meta = (emf!._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }).CloudWatchMetrics;
  expect(meta).toHaveLength(1);
  expect(meta[0]!.Namespace).toBe('OmsTaskJanitor');
  expect(meta[0]!.Dimensions.map((set) => [...set].sort())).toEqual([['service', 'stage']]);
  expect(emf).toMatchObject({ service: 'oms-task-janitor', stage: 'dev', TasksDeleted: 4, TasksFailed: 0, TargetsStopped: 0, TargetsRefused: 0 });
  expect(meta[0]!.Metrics.map((m) => m.Name)).toEqual(expect.arrayContaining(['TasksFailed', 'TargetsStopped', 'TargetsRefused']));
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
