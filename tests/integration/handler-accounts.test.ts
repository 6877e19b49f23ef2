/**
 * Several Huawei accounts through the Lambda handler (issue 16.9): the stage's secret for one target, another
 * account's secret (under the stage's prefix) for the other, each used only on its own project, as the CLI does.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { Emulator } from '../../emulator/index.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { DAY, deletedIds, emulator, task, useLoopbackSecretsManager } from '../helpers/harness.js';

const PA = '2c0689c860ad4728a497c91ec08000aa';
const PB = '2c0689c860ad4728a497c91ec08000bb';
const TOKEN_A = 'TOKEN-OF-ACCOUNT-A-LAMBDA-01';
const B = { ak: 'AKOFACCOUNTBLAMBDA01', sk: 'SK-OF-ACCOUNT-B-LAMBDA-STAYS-HOME' };
const context = { awsRequestId: 'req-accounts', functionName: 'oms-task-janitor-prod-purge', getRemainingTimeInMillis: () => 600_000 } as unknown as Context;

describe('Lambda handler with two accounts', () => {
  let emu: Emulator;
  let handler: (event: unknown, context: Context) => Promise<RunSummary>;
  const saved = { ...process.env };
  const stdout: string[] = [];

  beforeAll(async () => {
    emu = await emulator({
      tokens: [TOKEN_A],
      akskCredentials: [B],
      accounts: [
        { name: 'A', projects: [PA], tokens: [TOKEN_A] },
        { name: 'B', projects: [PB], aks: [B.ak] },
      ],
      secrets: {
        'oms-janitor/prod': JSON.stringify({ type: 'token', token: TOKEN_A }),
        'oms-janitor/prod/account-b': JSON.stringify({ type: 'aksk', ...B }),
      },
      projects: { [PA]: [task('1', 4, 40 * DAY), task('2', 5, 1 * DAY)], [PB]: [task('11', 4, 40 * DAY), task('12', 4, 50 * DAY)] },
    });
    const dir = mkdtempSync(join(tmpdir(), 'janitor-handler-accounts-'));
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(
      policyFile,
      `version: 1\ntargets:\n  - { name: a, projectId: ${PA}, region: cn-north-4, endpoint: "${emu.url}" }\n` +
        `  - { name: b, projectId: ${PB}, region: cn-north-4, endpoint: "${emu.url}", credentials: { secretId: oms-janitor/prod/account-b } }\n` +
        'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n',
    );
    Object.assign(process.env, { POLICY_FILE: policyFile, STAGE: 'prod', OMS_CREDENTIALS_SECRET_ID: 'oms-janitor/prod' });
    useLoopbackSecretsManager(emu);
    jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => stdout.push(String(chunk)) > 0) as never);
    ({ handler } = (await import('../../functions/purge.js')) as { handler: typeof handler });
  });
  afterAll(async () => {
    await emu.close();
    jest.restoreAllMocks();
    process.env = saved;
  });

  it('deletes in both accounts, each with its own credentials, and never crosses them', async () => {
    const summary = await handler({ dryRun: false }, context);
    expect(deletedIds(emu, PA)).toEqual(['1']);
    expect(deletedIds(emu, PB)).toEqual(['11', '12']);
    expect(summary.targets.map((t) => [t.name, t.deleted, t.error ?? null])).toEqual([['a', 1, null], ['b', 2, null]]);
    expect(emu.stats.crossAccount).toBe(0);
    expect(emu.stats.accountsSeen).toEqual({ [PA]: ['A'], [PB]: ['B'] });
    // Neither account's secret reached the output.
    expect(stdout.join('')).not.toMatch(new RegExp(`${TOKEN_A}|${B.sk}`));
  });
});
