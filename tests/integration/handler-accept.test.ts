/**
 * A refused backlog through the Lambda handler (issue 16.2): a manifest event whose items are over
 * limits.maxDeletePercent is refused with the way on, and the manifest that `plan --accept-over-limit` writes is
 * applied by the same event, for exactly its items.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHandler, type Handler } from '../helpers/handler.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { Emulator } from '../../emulator/index.js';
import type { Manifest } from '../../lib/purge/manifest.js';
import { DAY, PROJECT, TOKEN, deletedIds, emulator, policyText, runCli, task } from '../helpers/harness.js';

const context = { awsRequestId: 'req-accept', functionName: 'oms-task-janitor-prod-purge', getRemainingTimeInMillis: () => 600_000 } as unknown as Context;

describe('Lambda handler: a manifest over the blast-radius limit', () => {
  let emu: Emulator;
  let handler: Handler;
  let stdout: string[];
  let restore: () => void;
  const dir = mkdtempSync(join(tmpdir(), 'janitor-handler-accept-'));
  const policyFile = join(dir, 'policy.yaml');
  const world = [task('1', 4, 40 * DAY), task('2', 4, 41 * DAY), task('3', 4, 42 * DAY), task('4', 5, 1 * DAY)];

  beforeAll(async () => {
    emu = await emulator({ secrets: { 'oms-janitor/prod': JSON.stringify({ type: 'token', token: TOKEN }) }, projects: { [PROJECT]: world } });
    writeFileSync(policyFile, policyText(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\nlimits: { maxDeletePercent: 50, percentFloor: 0 }\n'));
    ({ handler, stdout, restore } = await startHandler(emu, { POLICY_FILE: policyFile, STAGE: 'prod', OMS_CREDENTIALS_SECRET_ID: 'oms-janitor/prod' }));
  });
  afterAll(async () => {
    await emu.close();
    restore();
  });

  it('is refused with the way on; the manifest that accepts it is applied for exactly its items', async () => {
    const manifestFile = join(dir, 'plan.json');
    // 3 of 4 selected, over 50%: the plan leaves them out, the manifest event has nothing to do.
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], { OMS_AUTH_TOKEN: TOKEN })).code).toBe(1);
    const plain = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    await expect(handler({ manifest: plain, dryRun: false }, context)).rejects.toThrow(/plans nothing to delete; the plan left out main \(task\): 3 refused/);

    // Accepted at review: the event applies it, and a task that appeared since is not part of it.
    const accepted = await runCli(['plan', '--policy', policyFile, '--accept-over-limit', 'main:task', '--out', manifestFile], { OMS_AUTH_TOKEN: TOKEN, OMS_JANITOR_OPERATOR: 'ops@desk' });
    expect(accepted.code).toBe(0);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    emu.setTasks(PROJECT, [...world, task('5', 4, 60 * DAY)]);
    emu.resetStats();

    // The acceptance taken out by hand: refused, and the log says how to go on.
    const { acceptedOverLimit: _dropped, ...withoutAcceptance } = manifest;
    const refused = await handler({ manifest: withoutAcceptance, dryRun: false }, context);
    expect(refused.targets[0]).toMatchObject({ refused: true, deleted: 0 });
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    const refusedLine = stdout.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l.message === 'target refused');
    expect(refusedLine?.howToProceed).toMatch(/plan again and accept it \(oms-janitor plan --policy POLICY --target main --accept-over-limit main:task --out plan\.json\).*\{"manifest": <plan\.json>, "dryRun": false\}/);

    const summary = await handler({ manifest, dryRun: false }, context);
    expect(summary.targets[0]).toMatchObject({ refused: false, limitOverridden: true, selected: 3, deleted: 3 });
    expect(deletedIds(emu)).toEqual(['1', '2', '3']);
    const overridden = stdout.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l.message === 'limit overridden');
    expect(overridden).toMatchObject({ target: 'main', kind: 'task', by: 'reviewed acceptance', acceptedBy: 'ops@desk' });
  });
});
