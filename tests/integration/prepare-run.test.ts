/**
 * The one run set-up (issue 18.1): what the CLI and the Lambda handler both get from it, checked once here; the
 * entry points' own tests check what each adds.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Emulator } from '../../emulator/index.js';
import { tokenAuthenticator } from '../../lib/auth/types.js';
import { createSecretSource } from '../../lib/auth/secret-source.js';
import { HostAllowList } from '../../lib/http/allowed-hosts.js';
import { createHttp } from '../../lib/http/client.js';
import { buildManifest } from '../../lib/purge/manifest.js';
import { EmptyManifest, prepareRun, type RunSetup } from '../../lib/run/prepare-run.js';
import { DAY, PROJECT, TOKEN, capturedLog, deletedIds, emulator, policy, task } from '../helpers/harness.js';

describe('prepareRun', () => {
  let emu: Emulator;
  afterEach(async () => emu?.close());

  function setup(p: ReturnType<typeof policy>, extra: Partial<RunSetup> = {}) {
    const logs = capturedLog();
    const allowedHosts = HostAllowList.fromEnv({});
    const base: RunSetup = {
      policy: p,
      policySha256: 'b'.repeat(64),
      allowedHosts,
      choices: { dryRun: false },
      fieldNames: { targets: 'targets', taskIds: 'taskIds', stopFirst: 'stopFirst' },
      runCredentials: async () => ({ authenticator: tokenAuthenticator(TOKEN), source: 'env-token', kind: 'token', credentials: { type: 'token', token: TOKEN } }) as never,
      secrets: createSecretSource({ cacheSeconds: 0 }),
      iamHttp: createHttp({ allowedHosts }),
      redactor: logs.redactor,
      log: logs.log,
      runId: 'run-1',
      trigger: 'test',
      hooks: () => ({}),
      ...extra,
    };
    return { base, logs };
  }

  it('a manifest planned with another policy: the warning says what follows and names the manifest, for every entry point', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('1', 4, 40 * DAY)] } });
    const p = policy(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n');
    const manifest = buildManifest(Date.now(), 'a'.repeat(64), p, []);
    manifest.tasks.push({ target: 'main', taskId: '1', name: 'task-1', status: 'failed', lastActivity: new Date(emu.tasks(PROJECT)[0]!.start_time!).toISOString(), rule: 'failed', action: 'delete' });
    const { base, logs } = setup(p, { manifest: { manifest, where: 's3://bucket/plan.json' } });
    const prepared = await prepareRun(base);
    const { summary } = await prepared.execute();
    expect(summary.totals.deleted).toBe(1);
    expect(deletedIds(emu)).toEqual(['1']);
    expect(logs.lines.find((l) => l.message === 'policy changed since the plan')).toMatchObject({ manifest: 's3://bucket/plan.json', plannedWith: 'a'.repeat(64), now: 'b'.repeat(64), effect: expect.stringMatching(/the current policy decides/) });
    // The run's own credentials were needed (no target has its own), and their value went to the redactor.
    expect(prepared.credentialsKind).toBe('token');
    expect(logs.redactor.text(`x ${TOKEN} y`)).not.toContain(TOKEN);
  });

  it('an empty manifest is said to be one before any request', async () => {
    emu = await emulator({ projects: { [PROJECT]: [] } });
    const p = policy(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n');
    const { base } = setup(p, { manifest: { manifest: buildManifest(Date.now(), 'b'.repeat(64), p, [], { leftOut: [{ target: 'main', kind: 'task', count: 3, reason: 'refused' }] }), where: 'plan.json' } });
    await expect(prepareRun(base)).rejects.toThrow(EmptyManifest);
    await expect(prepareRun(base)).rejects.toThrow(/plan\.json: the manifest plans nothing to delete; the plan left out main \(task\): 3 refused .*: nothing was done/);
    expect(emu.stats.calls).toEqual({});
  });

  it('collects garbage once a run, when the listing is done and before anything is deleted (when the process allows it)', async () => {
    emu = await emulator({ projects: { [PROJECT]: [task('1', 4, 40 * DAY), task('2', 4, 40 * DAY)] } });
    // Two kinds: two listings, and the collection after the second.
    const p = policy(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n  - { name: groups, kind: taskGroup, statuses: [succeeded], olderThan: 30d }\n');
    const seen: Array<{ calls: Record<string, number> }> = [];
    const progress: string[] = [];
    // A test file run earlier in the same worker may have exposed V8's own gc (v8.setFlagsFromString('--expose-gc')):
    // then the property cannot be deleted, and is put back as it was.
    const global = globalThis as { gc?: () => void };
    const own = Object.hasOwn(global, 'gc') ? global.gc : undefined;
    global.gc = () => void seen.push({ calls: { ...emu.stats.calls } });
    try {
      const { base } = setup(p, { hooks: () => ({ onProgress: ({ phase, done, total }) => void progress.push(`${phase} ${done}/${total}`) }) });
      const { summary } = await (await prepareRun(base)).execute();
      expect(summary.totals.deleted).toBe(2);
    } finally {
      if (own) global.gc = own;
      else delete global.gc;
    }
    // Once, with the listing's requests made and no delete sent; the entry point's own progress hook still told.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.calls.list).toBeGreaterThan(0);
    expect(seen[0]!.calls['taskGroup.list']).toBeGreaterThan(0);
    expect(seen[0]!.calls.delete ?? 0).toBe(0);
    expect(emu.stats.calls.delete).toBe(2);
    expect(progress).toEqual(['list 1/2', 'list 2/2', 'purge 1/2', 'purge 2/2']);
  });
});
