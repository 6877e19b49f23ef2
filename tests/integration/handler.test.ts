import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { Context } from 'aws-lambda';
import type { Emulator } from '../../emulator/index.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { startScriptServer } from '../helpers/script-server.js';
import { DAY, PROJECT, acceptingCredentials, deletedIds, emulator, policyText, runCli, task, useLoopbackSecretsManager } from '../helpers/harness.js';

// Distinctive secret values: none of them may ever appear in a log line, a summary or an error.
const SECRET = {
  token: 'TOKEN-SHOULD-NOT-LEAK-1f4e',
  ak: 'AKTESTJANITOR0001',
  sk: 'SK-SHOULD-NOT-LEAK-9a7c',
  password: 'PASSWORD-SHOULD-NOT-LEAK-33b1',
};

type Handler = (event: unknown, context: Context) => Promise<RunSummary>;

const context = {
  awsRequestId: 'req-0001',
  functionName: 'oms-task-janitor-test-purge',
  getRemainingTimeInMillis: () => 600_000,
} as unknown as Context;

describe('Lambda handler, credentials from the loopback Secrets Manager', () => {
  let emu: Emulator;
  let handler: Handler;
  const issuedTokens: string[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  /** Every summary returned and every error thrown by the handler, as JSON and as inspected text. */
  const returned: string[] = [];
  const output: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'janitor-handler-'));
  const policyFile = join(dir, 'policy.yaml');
  const saved = { ...process.env };

  beforeAll(async () => {
    // One emulator for the file, OMS and Secrets Manager alike: the handler reads its policy and builds its SDK client
    // once per cold start, exactly as in Lambda. Tests change its tasks and secrets, never its address.
    emu = await emulator({
      ...acceptingCredentials(SECRET),
      iamTokenMaxUses: 2,
      deniedSecrets: ['janitor/denied'],
    });
    writeFileSync(policyFile, policyText(emu, `rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n  - { name: done, statuses: [succeeded], olderThan: 7d }\n`));
    Object.assign(process.env, { POLICY_FILE: policyFile, STAGE: 'test' });
    useLoopbackSecretsManager(emu);
    const writer = (stream: string[]) => (chunk: unknown) => {
      output.push(String(chunk));
      stream.push(String(chunk));
      return true;
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(writer(stdout) as never);
    jest.spyOn(process.stderr, 'write').mockImplementation(writer(stderr) as never);
    const { handler: real } = (await import('../../functions/purge.js')) as { handler: Handler };
    handler = async (event, ctx) => {
      try {
        const summary = await real(event, ctx);
        returned.push(JSON.stringify(summary));
        return summary;
      } catch (error) {
        returned.push(inspect(error, { depth: 10 }), JSON.stringify(error), String(error));
        throw error;
      }
    };
  });
  afterAll(async () => {
    await emu.close();
    jest.restoreAllMocks();
    process.env = saved;
  });

  /** Fresh tasks (3 deletable, 1 young), fresh statistics, and these secrets. */
  function start(secrets: Record<string, string> = {}): Emulator {
    emu.setTasks(PROJECT, [task('1', 4, 40 * DAY), task('2', 4, 41 * DAY), task('3', 5, 9 * DAY), task('4', 5, 1 * DAY)]);
    emu.resetStats();
    for (const [id, value] of Object.entries(secrets)) emu.setSecret(id, value);
    return emu;
  }

  function useSecret(id: string) {
    process.env.OMS_CREDENTIALS_SECRET_ID = id;
  }

  it('refuses {"dryrun": false} (a typo) with nothing done, naming the field', async () => {
    start({ 'janitor/typo': JSON.stringify({ type: 'token', token: SECRET.token }) });
    useSecret('janitor/typo');
    await expect(handler({ dryrun: false }, context)).rejects.toThrow(/event\.dryrun: unknown field/);
    expect(emu.stats.total).toBe(0);
  });

  it('a manual {} is a dry run; {"dryRun": false} purges; a scheduled event runs the policy as written', async () => {
    start({ 'janitor/token': JSON.stringify({ type: 'token', token: SECRET.token }) });
    useSecret('janitor/token');
    const dry = await handler({}, context);
    expect(dry).toMatchObject({ dryRun: true, totals: { selected: 3, deleted: 0 } });
    expect(emu.stats.calls.delete ?? 0).toBe(0);

    const real = await handler({ dryRun: false, targets: ['main'], taskIds: ['1'] }, context);
    expect(real).toMatchObject({ dryRun: false, totals: { selected: 1, deleted: 1 } });
    expect(deletedIds(emu!)).toEqual(['1']);

    const scheduled = await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, context);
    expect(scheduled).toMatchObject({ dryRun: false, totals: { deleted: 2 } });
    expect(deletedIds(emu!)).toEqual(['1', '2', '3']);
    // warm invocations reuse the cached secret: one Secrets Manager call for three runs
    expect(emu.stats.calls['secrets-get']).toBe(1);
  });

  it('9.2: a manual {"manifest": ..., "dryRun": false} applies the manifest that `plan --out` wrote, with the deployed policy', async () => {
    start({ 'janitor/token': JSON.stringify({ type: 'token', token: SECRET.token }) });
    useSecret('janitor/token');
    // The same task objects before and after: an unchanged task lists exactly as planned (to the millisecond).
    const [t1, t2, t3, t4] = [task('1', 4, 40 * DAY), task('2', 4, 41 * DAY), task('3', 5, 9 * DAY), task('4', 5, 1 * DAY)];
    emu.setTasks(PROJECT, [t1!, t2!, t3!, t4!]);
    const manifestFile = join(dir, 'plan.json');
    const planned = await runCli(['plan', '--policy', policyFile, '--out', manifestFile], { OMS_AUTH_TOKEN: SECRET.token });
    expect(planned.code).toBe(0);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { tasks: { taskId: string }[] };
    expect(manifest.tasks.map((t) => t.taskId).sort()).toEqual(['1', '2', '3']);
    // Task 2 changes after the review; a new task that matches a rule appears.
    emu.setTasks(PROJECT, [t1!, { ...t2!, name: 'renamed' }, t3!, t4!, task('5', 4, 60 * DAY)]);
    emu.resetStats();

    await expect(handler({ manifest, dryRun: false, taskIds: ['5'] }, context)).rejects.toThrow(/event\.taskIds: cannot be combined with a manifest/);
    await expect(handler({ manifest: { ...manifest, version: 2 } }, context)).rejects.toThrow(/event\.manifest: version/);
    expect(emu.stats.calls.list ?? 0).toBe(0);

    const summary = await handler({ manifest, dryRun: false }, context);
    expect(deletedIds(emu)).toEqual(['1', '3']);
    expect(summary.totals).toMatchObject({ selected: 2, deleted: 2, skipped: 1 });
  });

  it('a manifest event never widens the deployed policy: a hand-added entry no rule selects now is left alone', async () => {
    start({ 'janitor/token': JSON.stringify({ type: 'token', token: SECRET.token }) });
    useSecret('janitor/token');
    const [old, young] = [task('31', 4, 40 * DAY), task('32', 5, 1 * DAY)];
    emu.setTasks(PROJECT, [old!, young!]);
    const manifestFile = join(dir, 'plan-hand.json');
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], { OMS_AUTH_TOKEN: SECRET.token })).code).toBe(0);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { tasks: Record<string, unknown>[] };
    // The young succeeded task (the `done` rule wants 7 days) added by hand under a rule of its own.
    manifest.tasks.push({ target: 'main', taskId: '32', name: young!.name, status: 'succeeded', lastActivity: new Date(young!.start_time!).toISOString(), rule: 'by-hand', action: 'delete' });
    emu.resetStats();
    const summary = await handler({ manifest, dryRun: false }, context);
    expect(deletedIds(emu)).toEqual(['31']);
    expect(summary.totals).toMatchObject({ selected: 1, deleted: 1, skipped: 1 });
    expect(stdout.join('')).toMatch(/"taskId":"32".*"reason":"no-rule-now","from":"manifest"/);
  });

  it('purges with AK/SK: every request signed and verified by the emulator', async () => {
    start({ 'janitor/aksk': JSON.stringify({ type: 'aksk', ak: SECRET.ak, sk: SECRET.sk }) });
    useSecret('janitor/aksk');
    const summary = await handler({ dryRun: false }, context);
    expect(summary.totals).toMatchObject({ deleted: 3, failed: 0 });
    expect(emu.stats.signatureFailures).toBe(0);
    expect(emu.stats.signedVerified).toBe(emu.stats.calls.list! + emu.stats.calls.delete!);
  });

  it('a wrong SK stops the target at the first 401, long before the AK would be locked', async () => {
    start({ 'janitor/bad-sk': JSON.stringify({ type: 'aksk', ak: SECRET.ak, sk: 'wrong-secret-key-0000' }) });
    useSecret('janitor/bad-sk');
    const summary = await handler({ dryRun: false }, context);
    expect(summary.targets[0]!.error).toMatch(/401/);
    expect(emu.stats.signatureFailures).toBe(1);
    expect(emu.stats.lockedAks).toEqual([]);
    expect(deletedIds(emu!)).toEqual([]);
  });

  it('purges with an IAM password: one token per project, renewed once when it expires mid-run', async () => {
    start();
    emu.setSecret('janitor/password', JSON.stringify({ type: 'password', domain: 'acme', username: 'janitor', password: SECRET.password, iamEndpoint: emu.url }));
    useSecret('janitor/password');
    const summary = await handler({ dryRun: false }, context);
    expect(summary.totals).toMatchObject({ deleted: 3, failed: 0 });
    // 1 list + 3 deletes with a token good for 2 calls: exactly one renewal
    expect(emu.stats.calls['iam-token']).toBe(2);
    issuedTokens.push(...emu.issuedIamTokens());
    expect(issuedTokens).toHaveLength(2);
  });

  it.each([
    ['not JSON', '{"type": "token", ', /not JSON/],
    ['a missing field', JSON.stringify({ type: 'aksk', ak: SECRET.ak }), /"sk"/],
    ['a wrong type', JSON.stringify({ type: 'kerberos', token: SECRET.token }), /"type"/],
    ['an unknown field', JSON.stringify({ type: 'token', token: SECRET.token, tokn: 'x' }), /tokn/],
  ])('a secret with %s is refused with a named error and nothing listed', async (_what, secretString, message) => {
    start({ 'janitor/broken': secretString });
    useSecret('janitor/broken');
    const error = await handler({ dryRun: false }, context).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('CredentialsError');
    expect((error as Error).message).toMatch(message);
    expect(emu.stats.calls.list ?? 0).toBe(0);
  });

  it('9.3: a password secret whose iamEndpoint is not an allowed host is an invocation error naming the field; no password is sent', async () => {
    start({
      'janitor/elsewhere': JSON.stringify({ type: 'password', domain: 'acme', username: 'janitor', password: SECRET.password, iamEndpoint: 'https://iam.collector.example' }),
    });
    useSecret('janitor/elsewhere');
    const error = await handler({ dryRun: false }, context).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'CredentialsError' });
    expect((error as Error).message).toMatch(/field "iamEndpoint": host "iam\.collector\.example" is not loopback or under Huawei Cloud's API domains/);
    expect((error as Error).message).toContain('OMS_JANITOR_ALLOWED_HOSTS');
    expect(emu.stats.calls['iam-token'] ?? 0).toBe(0);
    expect(emu.stats.calls.list ?? 0).toBe(0);
  });

  it('a missing or denied secret is a clear error and nothing is listed', async () => {
    start();
    useSecret('janitor/missing');
    await expect(handler({}, context)).rejects.toThrow(/not found/);
    useSecret('janitor/denied');
    await expect(handler({}, context)).rejects.toThrow(/denied/);
    expect(emu.stats.calls.list ?? 0).toBe(0);
  });

  it('7.6: an IAM endpoint that never answers ends with the run deadline: the summary comes back before Lambda cuts it off', async () => {
    const silent = await startScriptServer([{ hang: true }]);
    try {
      start();
      emu.setSecret('janitor/silent-iam', JSON.stringify({ type: 'password', domain: 'acme', username: 'janitor', password: SECRET.password, iamEndpoint: silent.url }));
      useSecret('janitor/silent-iam');
      // 12 s left: the deadline is 10 s before the end, so every request ends 2 s from now.
      const shortContext = { ...context, getRemainingTimeInMillis: () => 12_000 } as Context;
      const started = Date.now();
      const summary = await handler({ dryRun: false }, shortContext);
      expect(Date.now() - started).toBeLessThan(6000);
      expect(silent.arrivals.length).toBeGreaterThanOrEqual(1);
      expect(summary.targets[0]!.error).toMatch(/listing failed: could not get an IAM token/);
      expect(emu.stats.calls.list ?? 0).toBe(0);
    } finally {
      await silent.close();
    }
  });

  it('every log line, WARN and ERROR included, went to stdout as JSON (the contract for Lambda)', () => {
    const lines = stdout.join('').trim().split('\n').filter((l) => l.startsWith('{"level"'));
    const levels = new Set(lines.map((l) => (JSON.parse(l) as { level: string }).level));
    expect(levels).toEqual(new Set(['INFO', 'ERROR']));
    expect(lines.some((l) => l.includes('"message":"invocation refused"'))).toBe(true);
    expect(stderr.join('')).not.toMatch(/"level"/);
  });

  it('no secret value reached stdout, stderr, a returned summary or a thrown error in any of the runs above', () => {
    const text = output.join('') + returned.join('');
    expect(text.length).toBeGreaterThan(1000);
    expect(text).toMatch(/"outcome":"deleted"/);
    for (const value of Object.values(SECRET).filter((v) => v !== SECRET.ak)) expect(text).not.toContain(value);
    expect(text).not.toContain('wrong-secret-key-0000');
    for (const token of issuedTokens) expect(text).not.toContain(token);
    expect(text).not.toMatch(/Signature=[0-9a-f]{16}/);
  });
});
