/**
 * The CLI with all three kinds: `plan` shows the kind of every row, `plan --out` freezes groups and sync tasks with
 * what rules match them on, and `apply` deletes exactly the planned ones that are unchanged.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmuSyncTask, EmuTaskGroup, Emulator } from '../../emulator/index.js';
import type { Manifest } from '../../lib/purge/manifest.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { DAY, PROJECT, TOKEN, deletedIds, emulator, policyText, runCli, task } from '../helpers/harness.js';

const RULES = `rules:
  - { name: failed-tasks, statuses: [failed], olderThan: 30d }
  - { name: old-groups, kind: taskGroup, statuses: [succeeded], olderThan: 7d, descriptionPattern: "nightly-*" }
  - { name: stuck-groups, kind: taskGroup, statuses: [waiting, executing, monitoring], olderThan: 2d, stopFirst: true }
  - { name: stuck-sync, kind: syncTask, statuses: [synchronizing], olderThan: 30d, stopFirst: true }
  - { name: old-sync, kind: syncTask, statuses: [stopped], olderThan: 30d }
`;

describe('CLI: plan and apply with task groups and sync tasks', () => {
  let emu: Emulator;
  let dir: string;
  let policyFile: string;
  let manifestFile: string;
  const env = { OMS_AUTH_TOKEN: TOKEN };
  const started = Date.now();
  const groups: EmuTaskGroup[] = [
    { group_id: 'g-nightly-1', status: 6, start_time: started - 20 * DAY, total_time: 3_600_000, description: 'nightly-1', src_node: { bucket: 's3-logs' }, dst_node: { bucket: 'obs-logs' } },
    { group_id: 'g-nightly-2', status: 6, start_time: started - 10 * DAY, total_time: 0, description: 'nightly-2', src_node: { bucket: 's3-logs' }, dst_node: { bucket: 'obs-logs' } },
    { group_id: 'g-manual', status: 6, start_time: started - 30 * DAY, total_time: 0, description: 'manual', src_node: { bucket: 's3-logs' }, dst_node: { bucket: 'obs-logs' } },
    { group_id: 'g-stuck', status: 2, start_time: started - 5 * DAY, total_time: 0, description: 'big copy', src_node: { bucket: 's3-big' }, dst_node: { bucket: 'obs-big' } },
  ];
  const syncs: EmuSyncTask[] = [
    { sync_task_id: 's-old', status: 'STOPPED', create_time: started - 90 * DAY, last_start_time: started - 60 * DAY, src_bucket: 's3-a', dst_bucket: 'obs-a' },
    { sync_task_id: 's-stuck', status: 'SYNCHRONIZING', create_time: started - 90 * DAY, last_start_time: started - 45 * DAY, src_bucket: 's3-b', dst_bucket: 'obs-b' },
  ];

  beforeEach(async () => {
    emu = await emulator({
      projects: { [PROJECT]: [task('1', 4, 40 * DAY, { name: 'old-failed' }), task('2', 5, 40 * DAY)] },
      taskGroups: { [PROJECT]: groups },
      syncTasks: { [PROJECT]: syncs },
    });
    dir = mkdtempSync(join(tmpdir(), 'janitor-kinds-'));
    policyFile = join(dir, 'policy.yaml');
    manifestFile = join(dir, 'plan.json');
    writeFileSync(policyFile, policyText(emu, RULES));
  });
  afterEach(async () => emu.close());

  it('plan shows one table with every kind, its own status names, and how each goes', async () => {
    // Two more stuck groups: one waiting (deleted as it is) and one being created (only waited out).
    emu.setTaskGroups(PROJECT, [
      ...groups,
      { group_id: 'g-waiting', status: 0, start_time: started - 4 * DAY, total_time: 0, description: 'queued copy' },
      { group_id: 'g-creating', status: 1, start_time: started - 3 * DAY, total_time: 0, description: 'listing objects' },
    ]);
    const r = await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('main '));
    const cells = (id: string) => rows.find((l) => l.includes(` ${id} `))?.trim().split(/\s{2,}/);
    expect(r.stdout).toMatch(/^TARGET\s+KIND\s+ID\s+NAME\s+STATUS\s+AGE\s+RULE\s+ACTION$/m);
    expect(cells('1')).toEqual(['main', 'task', '1', 'old-failed', 'failed', '40d 0h', 'failed-tasks', 'delete']);
    expect(cells('g-nightly-1')).toEqual(['main', 'taskGroup', 'g-nightly-1', 'nightly-1', 'succeeded', '19d 23h', 'old-groups', 'delete']);
    expect(cells('g-stuck')).toEqual(['main', 'taskGroup', 'g-stuck', 'big copy', 'monitoring', '5d 0h', 'stuck-groups', 'pause, then delete']);
    expect(cells('g-waiting')).toEqual(['main', 'taskGroup', 'g-waiting', 'queued copy', 'waiting', '4d 0h', 'stuck-groups', 'delete']);
    expect(cells('g-creating')).toEqual(['main', 'taskGroup', 'g-creating', 'listing objects', 'executing', '3d 0h', 'stuck-groups', 'wait (creating)']);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    expect(['g-stuck', 'g-waiting', 'g-creating'].map((id) => manifest.tasks.find((t) => t.id === id)?.action)).toEqual(['pause-then-delete', 'delete', 'wait-then-delete']);
    expect(cells('s-stuck')).toEqual(['main', 'syncTask', 's-stuck', 's3-b -> obs-b', 'synchronizing', '45d 0h', 'stuck-sync', 'stop, then delete']);
    expect(cells('s-old')).toEqual(['main', 'syncTask', 's-old', 's3-a -> obs-a', 'stopped', '60d 0h', 'old-sync', 'delete']);
    expect(rows.some((l) => l.includes('g-manual'))).toBe(false);
    // The summary has a row per kind.
    expect(r.stdout).toMatch(/^main\s+taskGroup\s+6\s+5\s+0\s+0\s+0\s*$/m);
    expect(r.stdout).toMatch(/^total\s+syncTask\s+2\s+2\s+0\s+0\s+0\s+0 protected, 0 skipped$/m);
    expect(emu.stats.calls['taskGroup.delete'] ?? 0).toBe(0);
    expect(emu.stats.calls['taskGroup.stop'] ?? 0).toBe(0);
  });

  it('plan --json gives every record its kind and id, and the summary its blocks', async () => {
    const r = await runCli(['plan', '--policy', policyFile, '--json'], env);
    const doc = JSON.parse(r.stdout) as RunSummary & { plan: { kind: string; id: string; taskId?: string }[] };
    expect(doc.plan.map((p) => `${p.kind}:${p.id}`).sort()).toEqual(['syncTask:s-old', 'syncTask:s-stuck', 'task:1', 'taskGroup:g-nightly-1', 'taskGroup:g-nightly-2', 'taskGroup:g-stuck']);
    expect(doc.plan.find((p) => p.id === '1')!.taskId).toBe('1');
    expect(doc.plan.find((p) => p.id === 'g-stuck')!.taskId).toBeUndefined();
    expect(doc.taskGroups).toEqual({ listed: 4, selected: 3, deleted: 0, failed: 0, deferred: 0, protected: 0, kept: 0, skipped: 0 });
    expect(doc.targets[0]!.syncTasks).toMatchObject({ listed: 2, selected: 2 });
  });

  it('apply deletes exactly the planned groups and sync tasks still unchanged; a group whose description changed is skipped', async () => {
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env)).code).toBe(0);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    expect(manifest.tasks.find((t) => t.id === 'g-nightly-1')).toEqual({
      target: 'main', kind: 'taskGroup', id: 'g-nightly-1', description: 'nightly-1', sourceBucket: 's3-logs', destinationBucket: 'obs-logs',
      status: 'succeeded', lastActivity: new Date(groups[0]!.start_time! + 3_600_000).toISOString(), rule: 'old-groups', action: 'delete',
    });
    expect(manifest.tasks.find((t) => t.id === 's-stuck')).toMatchObject({ kind: 'syncTask', action: 'pause-then-delete', status: 'synchronizing' });
    expect(manifest.tasks.find((t) => t.taskId === '1')).toEqual(expect.not.objectContaining({ kind: expect.anything() }));

    // Meanwhile: g-nightly-2 is re-described, g-nightly-1 is deleted by hand, and a new old group appears.
    emu.setTaskGroups(PROJECT, [
      { ...groups[1]!, description: 'nightly-2 (keep for audit)' },
      groups[2]!,
      groups[3]!,
      { group_id: 'g-new', status: 6, start_time: started - 40 * DAY, description: 'nightly-9' },
    ]);
    const r = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run', '--json'], env);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as RunSummary;
    expect([...(emu.stats.groupsDeleted[PROJECT] ?? [])]).toEqual(['g-stuck']);
    expect(emu.stats.groupsStopped[PROJECT]).toEqual(['g-stuck']);
    expect([...(emu.stats.syncTasksDeleted[PROJECT] ?? [])].sort()).toEqual(['s-old', 's-stuck']);
    expect(deletedIds(emu)).toEqual(['1']);
    expect(summary.targets[0]!.taskGroups).toMatchObject({ selected: 1, deleted: 1, skipped: 1, alreadyGone: ['g-nightly-1'], changedSincePlan: ['g-nightly-2'] });
    // The text names them too.
    const text = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile], env);
    expect(text.stdout).toMatch(/Planned task groups of main changed since the plan \(left alone; plan again to review them\): g-nightly-2/);
    expect(r.stderr).toMatch(/"taskGroupId":"g-nightly-2".*"reason":"changed-since-plan"/);
  });

  it('three synchronizing sync tasks planned under a stopFirst rule, the rule then removed: apply stops and deletes none of them', async () => {
    const stuck = ['s-a', 's-b', 's-c'].map((id): EmuSyncTask => ({ sync_task_id: id, status: 'SYNCHRONIZING', create_time: started - 90 * DAY, last_start_time: started - 45 * DAY, src_bucket: 's3-x', dst_bucket: 'obs-x' }));
    emu.setSyncTasks(PROJECT, stuck);
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env)).code).toBe(0);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    expect(manifest.tasks.filter((t) => t.kind === 'syncTask').map((t) => [t.id, t.action])).toEqual(stuck.map((t) => [t.sync_task_id, 'pause-then-delete']));
    writeFileSync(policyFile, policyText(emu, RULES.replace(/^  - \{ name: stuck-sync.*\n/m, '')));
    const r = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run', '--json'], env);
    expect(r.code).toBe(0);
    expect(emu.stats.calls['syncTask.stop'] ?? 0).toBe(0);
    expect(emu.stats.calls['syncTask.delete'] ?? 0).toBe(0);
    expect((JSON.parse(r.stdout) as RunSummary).targets[0]!.syncTasks).toMatchObject({ selected: 0, deleted: 0, skipped: 3 });
    expect(r.stderr.match(/"syncTaskId":"s-[abc]","outcome":"skipped","reason":"no-rule-now","from":"manifest"/g)).toHaveLength(3);
  });

  it('the percent guard: one old sync task is not refused under the default floor; --force KIND lets through exactly that kind', async () => {
    // prod-like: 50%. One stopped sync task of one listed is 100%: under percentFloor 20 that says nothing.
    emu.setSyncTasks(PROJECT, [syncs[0]!]);
    emu.setTaskGroups(PROJECT, []);
    writeFileSync(policyFile, policyText(emu, `${RULES}limits: { maxDeletePercent: 50 }\n`));
    const plain = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--json'], env);
    expect(plain.code).toBe(0);
    expect((JSON.parse(plain.stdout) as RunSummary).targets[0]!.syncTasks).toMatchObject({ refused: false, deleted: 1 });

    // With the floor at 0 both kinds are refused (1 of 2 tasks, 1 of 1 sync task); forcing the sync tasks leaves the
    // tasks refused, and the refusal names the command for the kind still refused.
    emu.setSyncTasks(PROJECT, [syncs[0]!]);
    emu.setTasks(PROJECT, [task('1', 4, 40 * DAY, { name: 'old-failed' }), task('2', 5, 40 * DAY)]);
    emu.resetStats();
    writeFileSync(policyFile, policyText(emu, `${RULES}limits: { maxDeletePercent: 40, percentFloor: 0 }\n`));
    const refused = await runCli(['purge', '--policy', policyFile, '--no-dry-run'], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('--no-dry-run --force task');
    expect(refused.stdout).toContain('--no-dry-run --force syncTask');
    const forced = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--force', 'syncTask', '--json'], env);
    expect(forced.code).toBe(1);
    const summary = JSON.parse(forced.stdout) as RunSummary;
    expect(summary.targets[0]).toMatchObject({ refused: true, deleted: 0, syncTasks: { refused: false, deleted: 1 } });
    expect(deletedIds(emu)).toEqual([]);
    const bad = await runCli(['purge', '--policy', policyFile, '--force=groups'], env);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/--force: expected a kind \(task, taskGroup, syncTask\) or nothing, got "groups"/)]);
  });

  it('refuses a manifest entry of the wrong kind\'s shape, naming the field, before any request', async () => {
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env)).code).toBe(0);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    const entry = manifest.tasks.find((t) => t.id === 'g-nightly-1')!;
    const cases: [string, (e: Record<string, unknown>) => void][] = [
      ['tasks[*].id', (e) => (e.id = '../tasks/1')],
      ['tasks[*].status', (e) => (e.status = 'migrating')],
      ['tasks[*].name', (e) => (e.name = 'x')],
      ['tasks[*].kind', (e) => (e.kind = 'bucket')],
    ];
    for (const [field, change] of cases) {
      const copy = JSON.parse(JSON.stringify(manifest)) as Manifest;
      const index = copy.tasks.findIndex((t) => t.id === entry.id);
      change(copy.tasks[index] as unknown as Record<string, unknown>);
      writeFileSync(manifestFile, JSON.stringify(copy));
      emu.resetStats();
      const r = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run'], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(field.replace('*', String(index)));
      expect(emu.stats.total).toBe(0);
    }
  });

  it('refuses a rule of an unknown kind, or a status of another kind, with exit 2 naming the field', async () => {
    writeFileSync(policyFile, policyText(emu, 'rules:\n  - { name: g, kind: taskgroup, statuses: [succeeded], olderThan: 7d }\n'));
    const bad = await runCli(['purge', '--policy', policyFile, '--no-dry-run'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('rules[0].kind');
    writeFileSync(policyFile, policyText(emu, 'rules:\n  - { name: s, kind: syncTask, statuses: [failed], olderThan: 7d }\n'));
    const status = await runCli(['purge', '--policy', policyFile, '--no-dry-run'], env);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('rules[0].statuses[0]');
    expect(emu.stats.total).toBe(0);
  });
});
