import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator, EmuTask } from '../../emulator/index.js';
import type { Manifest } from '../../lib/purge/manifest.js';
import type { RunSummary } from '../../lib/purge/summary.js';
import { DAY, PROJECT, PROJECT_B, TOKEN, deletedIds, emulator, policyText, runCli, task } from '../helpers/harness.js';
import { inShell } from '../helpers/cli-process.js';

const RULES = `rules:
  - { name: failed, statuses: [failed], olderThan: 30d }
  - { name: stuck, statuses: [migrating], olderThan: 2d, stopFirst: true }
protect: { names: ["keep-*"] }
`;

describe('plan --out, review, apply exactly that', () => {
  let emu: Emulator;
  let dir: string;
  let policyFile: string;
  let manifestFile: string;
  const env = { OMS_AUTH_TOKEN: TOKEN };
  // The same objects before and after the plan: an unchanged task must list exactly as it was planned.
  const world: Record<string, EmuTask> = {};

  beforeEach(async () => {
    for (const id of ['1', '2', '3', '4', '5', '6']) world[id] = task(id, 4, (40 + Number(id)) * DAY, { name: `old-failed-${id}` });
    world['7'] = task('7', 5, 1 * DAY, { name: 'young' });
    world['8'] = task('8', 4, 50 * DAY, { name: 'keep-me' });
    world['9'] = task('9', 2, 5 * DAY, { name: 'stuck-copy', total_time: 1000 });
    emu = await emulator({ projects: { [PROJECT]: Object.values(world) } });
    dir = mkdtempSync(join(tmpdir(), 'janitor-manifest-'));
    policyFile = join(dir, 'policy.yaml');
    manifestFile = join(dir, 'plan.json');
    writeFileSync(policyFile, policyText(emu, RULES));
  });
  afterEach(async () => emu.close());

  const readManifest = () => JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;

  it('plan --out writes the manifest: what it is, when, the policy hash, the targets and one entry per task to delete', async () => {
    const r = await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/old-failed-1/); // the table is still printed
    const m = readManifest();
    expect(m).toMatchObject({ kind: 'oms-task-janitor/manifest', version: 1, targets: [{ name: 'main', projectId: PROJECT, endpoint: emu.url }] });
    expect(m.policySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Math.abs(Date.parse(m.createdAt) - Date.now())).toBeLessThan(60_000);
    expect(m.tasks.map((t) => t.taskId).sort()).toEqual(['1', '2', '3', '4', '5', '6', '9']);
    const stuck = m.tasks.find((t) => t.taskId === '9')!;
    expect(stuck).toEqual({
      target: 'main',
      taskId: '9',
      name: 'stuck-copy',
      status: 'migrating',
      lastActivity: new Date(world['9']!.start_time! + 1000).toISOString(),
      rule: 'stuck',
      action: 'pause-then-delete',
    });
    expect(m.tasks.find((t) => t.taskId === '1')).toMatchObject({ status: 'failed', rule: 'failed', action: 'delete' });
    expect(emu.stats.calls.delete ?? 0).toBe(0);

    // plan --json --out writes both.
    const both = await runCli(['plan', '--policy', policyFile, '--json', '--out', join(dir, 'second.json')], env);
    expect(JSON.parse(both.stdout).plan).toHaveLength(7);
    expect((JSON.parse(readFileSync(join(dir, 'second.json'), 'utf8')) as Manifest).tasks).toHaveLength(7);
  });

  it('after the world changed, apply deletes only planned tasks still listed unchanged and not protected now', async () => {
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env)).code).toBe(0);

    // The world changes between the review and the apply:
    const now = Date.now();
    emu.setTasks(PROJECT, [
      world['1']!, // unchanged: deleted
      { ...world['2']!, name: 'old-failed-2-renamed' }, // renamed: changed-since-plan
      { ...world['3']!, start_time: now - 31 * DAY }, // restarted (last activity moved): changed-since-plan
      // 4: deleted by someone else meanwhile: already gone
      world['5']!, // unchanged, but the policy now protects it: left alone
      world['6']!, // unchanged: deleted
      world['7']!,
      world['8']!,
      world['9']!, // unchanged migrating task, planned as pause-then-delete
      task('10', 4, 90 * DAY, { name: 'new-and-old' }), // appeared after the plan and matches a rule: never touched
    ]);
    writeFileSync(policyFile, policyText(emu, `${RULES.replace('protect: { names: ["keep-*"] }', 'protect: { names: ["keep-*"], taskIds: ["5"] }')}`));

    const dry = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--json'], env);
    expect(dry.code).toBe(0);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(emu.stats.calls.stop ?? 0).toBe(0);

    const r = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run', '--json'], env);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as RunSummary;
    expect(deletedIds(emu)).toEqual(['1', '6', '9']);
    expect(emu.stats.calls.stop).toBe(1); // task 9 was paused first
    expect(summary.targets[0]).toMatchObject({ listed: 9, selected: 3, deleted: 3, failed: 0 });
    // Counted among the planned tasks only, as an explicit purge counts its named ones: 5 protected now; 2, 3 changed.
    expect(summary.totals).toMatchObject({ protected: 1, skipped: 2 });
    expect(summary.alreadyGone).toEqual(['4']);
    // The changed ones by id, in the JSON and in the text.
    expect([...summary.changedSincePlan!].sort()).toEqual(['2', '3']);
    const logs = r.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs.filter((l) => l.reason === 'changed-since-plan').map((l) => l.taskId).sort()).toEqual(['2', '3']);
    expect(logs.find((l) => l.outcome === 'already-gone')).toMatchObject({ taskId: '4', target: 'main' });
    expect(logs.find((l) => l.message === 'policy changed since the plan')).toBeDefined();
    expect(logs.some((l) => l.taskId === '10')).toBe(false);

    // Applying the same manifest again changes nothing: what it deleted is gone, the rest is still left alone.
    const again = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run', '--json'], env);
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as RunSummary;
    expect(second.totals).toMatchObject({ deleted: 0, selected: 0 });
    expect([...second.alreadyGone!].sort()).toEqual(['1', '4', '6', '9']);
    expect(deletedIds(emu)).toEqual(['1', '6', '9']);
  });

  it('a manifest never widens the policy: a planned item the current rules do not select now is left alone (no-rule-now)', async () => {
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env)).code).toBe(0);
    const m = readManifest();
    // A hand-edited entry: a healthy migrating task one day old, under an invented rule, "just delete it".
    const young = task('20', 2, 1 * DAY, { name: 'healthy-copy' });
    emu.setTasks(PROJECT, [...Object.values(world), young]);
    m.tasks.push({ target: 'main', taskId: '20', name: 'healthy-copy', status: 'migrating', lastActivity: new Date(young.start_time!).toISOString(), rule: 'invented', action: 'delete' });
    writeFileSync(manifestFile, JSON.stringify(m));
    // Then the stuck rule is removed from the policy, and the failed rule renamed.
    writeFileSync(policyFile, policyText(emu, 'rules:\n  - { name: failed-now, statuses: [failed], olderThan: 30d }\nprotect: { names: ["keep-*"] }\n'));
    emu.resetStats();

    const r = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run', '--json'], env);
    expect(r.code).toBe(0);
    expect(emu.stats.calls.stop ?? 0).toBe(0);
    expect(deletedIds(emu)).toEqual(['1', '2', '3', '4', '5', '6']);
    const summary = JSON.parse(r.stdout) as RunSummary;
    expect(summary.targets[0]).toMatchObject({ selected: 6, deleted: 6, failed: 0 });
    const logs = r.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs.filter((l) => l.reason === 'no-rule-now').map((l) => [l.taskId, l.from]).sort()).toEqual([['20', 'manifest'], ['9', 'manifest']]);
    expect([...summary.noRuleNow!].sort()).toEqual(['20', '9']);
    // Every outcome line says where the item came from and which rule selected it now (not the plan's).
    const deleted = logs.filter((l) => l.outcome === 'deleted');
    expect(deleted).toHaveLength(6);
    expect(deleted.every((l) => l.from === 'manifest' && l.rule === 'failed-now')).toBe(true);
    expect(logs.find((l) => l.message === 'policy changed since the plan')).toMatchObject({ level: 'WARN', effect: expect.stringMatching(/the current policy decides.*left alone \(no-rule-now\)/) });
  });

  it('a planned item the current rules select again is judged as it is now: too young now (a shorter plan age does not count), or in progress without stopFirst', async () => {
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env)).code).toBe(0);
    // The rules get stricter: failed tasks after 1040 hours only, and the stuck rule loses stopFirst (a typo would be
    // refused by the schema; drop the rule's in-progress status instead).
    writeFileSync(policyFile, policyText(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 1040h }\n  - { name: stuck, statuses: [paused], olderThan: 2d }\nprotect: { names: ["keep-*"] }\n'));
    const r = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run', '--json'], env);
    expect(r.code).toBe(0);
    // Tasks 1..6 are 41..46 days old: only 4, 5 and 6 are older than 1040 hours (43 days and 8 hours).
    expect(deletedIds(emu)).toEqual(['4', '5', '6']);
    expect(emu.stats.calls.stop ?? 0).toBe(0);
    const logs = r.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs.filter((l) => l.reason === 'no-rule-now').map((l) => l.taskId).sort()).toEqual(['1', '2', '3', '9']);
  });

  it('a plan whose every target was refused writes a manifest that says what it left out; apply reports it as empty, exit 1', async () => {
    writeFileSync(policyFile, policyText(emu, `${RULES}limits: { maxDeletePercent: 10, percentFloor: 0 }\n`));
    const plan = await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/The manifest leaves out what the plan selected but would not delete: main \(task\): 7 refused \(over limits\.maxDeletePercent\)\./);
    const m = readManifest();
    expect(m.tasks).toEqual([]);
    expect(m.leftOut).toEqual([{ target: 'main', kind: 'task', count: 7, reason: 'refused' }]);
    emu.resetStats();
    const r = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the manifest plans nothing to delete; the plan left out main \(task\): 7 refused .*: nothing was done/);
    expect(emu.stats.calls).toEqual({});
  });

  it('the advice printed on a refusal works as printed in a shell: plan --accept-over-limit --out, review, apply deletes exactly the accepted items', async () => {
    writeFileSync(policyFile, policyText(emu, `${RULES}limits: { maxDeletePercent: 10, percentFloor: 0 }\n`));
    const first = await runCli(['plan', '--policy', policyFile], env);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/To delete it after review, accept it into a manifest and apply that:/);
    const advice = first.stdout.split('\n').map((line) => line.trim()).find((line) => line.startsWith('oms-janitor plan '))!;
    const [planCommand, applyCommand] = advice.split('; review plan.json, then: ');
    expect(planCommand).toBe(`oms-janitor plan --policy ${policyFile} --target main --accept-over-limit main:task --out plan.json`);
    expect(applyCommand).toBe(`oms-janitor apply --policy ${policyFile} --manifest plan.json --no-dry-run`);

    // The reviewer runs the first command as printed (the real CLI, in a shell, in the review folder).
    const planned = await inShell(planCommand!, dir, { ...env, OMS_JANITOR_OPERATOR: 'ana@review-desk' });
    expect(planned.code).toBe(0);
    expect(planned.stderr).toMatch(/"message":"limit overridden".*"by":"reviewed acceptance","acceptedBy":"ana@review-desk"/);
    expect(planned.stdout).toMatch(/Accepted over limits\.maxDeletePercent by ana@review-desk: main \(task\), 7 selected of 9 listed; apply lets exactly the 7 planned item\(s\) through/);
    const m = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Manifest;
    expect(m.tasks.map((t) => t.taskId).sort()).toEqual(['1', '2', '3', '4', '5', '6', '9']);
    expect(m.leftOut).toBeUndefined();
    expect(m.acceptedOverLimit).toEqual([{ target: 'main', kind: 'task', items: 7, selected: 7, listed: 9, acceptedBy: 'ana@review-desk', acceptedAt: expect.any(String), itemsSha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(Math.abs(Date.parse(m.acceptedOverLimit![0]!.acceptedAt) - Date.now())).toBeLessThan(60_000);
    expect(emu.stats.calls.delete ?? 0).toBe(0);

    // After the review a new stale task appears: the acceptance is for the reviewed items, never for it.
    emu.setTasks(PROJECT, [...Object.values(world), task('10', 4, 90 * DAY, { name: 'new-and-old' })]);
    emu.resetStats();
    const applied = await inShell(applyCommand!, dir, env);
    expect(applied.code).toBe(0);
    expect(deletedIds(emu)).toEqual(['1', '2', '3', '4', '5', '6', '9']);
    const logs = applied.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs.filter((l) => l.message === 'limit overridden')).toEqual([
      expect.objectContaining({ level: 'WARN', target: 'main', kind: 'task', by: 'reviewed acceptance', acceptedBy: 'ana@review-desk', selected: 7, listed: 10 }),
    ]);
    expect(logs.some((l) => l.taskId === '10')).toBe(false);
  });

  it('an acceptance covers exactly the items reviewed with it: an entry added afterwards is refused, and without the acceptance apply is refused with the way on', async () => {
    writeFileSync(policyFile, policyText(emu, `${RULES}limits: { maxDeletePercent: 10, percentFloor: 0 }\n`));
    expect((await runCli(['plan', '--policy', policyFile, '--accept-over-limit', 'main', '--out', manifestFile], env)).code).toBe(0);
    const m = readManifest();
    expect(m.acceptedOverLimit).toMatchObject([{ target: 'main', kind: 'task', items: 7 }]);
    const old = task('10', 4, 90 * DAY, { name: 'new-and-old' });
    emu.setTasks(PROJECT, [...Object.values(world), old]);
    emu.resetStats();

    // A hand-added entry: the acceptance no longer matches what was reviewed.
    const added = { ...m, tasks: [...m.tasks, { target: 'main', taskId: '10', name: 'new-and-old', status: 'failed', lastActivity: new Date(old.start_time!).toISOString(), rule: 'failed', action: 'delete' as const }] };
    writeFileSync(manifestFile, JSON.stringify(added));
    const edited = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run'], env);
    expect(edited.code).toBe(2);
    expect(edited.stderr).toMatch(/acceptedOverLimit\[0\]\.items: the acceptance of main \(task\) covers 7 item\(s\) .* but the manifest plans 8 of them/);
    // The count raised to match: the ids are not the reviewed ones.
    writeFileSync(manifestFile, JSON.stringify({ ...added, acceptedOverLimit: [{ ...m.acceptedOverLimit![0]!, items: 8, selected: 8 }] }));
    expect((await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run'], env)).stderr).toMatch(/acceptedOverLimit\[0\]\.items: .* covers 8 item\(s\) .* the manifest plans 8 of them, not the same ones/);
    // One reviewed entry swapped for another: the same count, other ids.
    const swapped = { ...added, tasks: added.tasks.filter((t) => t.taskId !== '1'), acceptedOverLimit: m.acceptedOverLimit };
    writeFileSync(manifestFile, JSON.stringify(swapped));
    expect((await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run'], env)).stderr).toMatch(/not the same ones/);
    // Moved to another kind, or doubled: refused as well.
    writeFileSync(manifestFile, JSON.stringify({ ...m, acceptedOverLimit: [{ ...m.acceptedOverLimit![0]!, kind: 'syncTask' }] }));
    expect((await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run'], env)).stderr).toMatch(/acceptedOverLimit\[0\]\.items: .* the manifest plans 0 of them/);
    writeFileSync(manifestFile, JSON.stringify({ ...m, acceptedOverLimit: [m.acceptedOverLimit![0]!, m.acceptedOverLimit![0]!] }));
    expect((await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run'], env)).stderr).toMatch(/acceptedOverLimit\[1\]: main \(task\) is accepted twice/);
    expect(emu.stats.calls).toEqual({});

    // Without the acceptance, the same items are refused at apply, and the advice leads to a plan that accepts them.
    const { acceptedOverLimit: _dropped, ...plain } = m;
    writeFileSync(manifestFile, JSON.stringify(plain));
    const refused = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run'], env);
    expect(refused.code).toBe(1);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(refused.stdout).toMatch(/apply has no --force; plan again and accept it: oms-janitor plan --policy \S+ --target main --accept-over-limit main:task --out plan\.json/);
  });

  it.each([
    [['purge', '--accept-over-limit', 'main'], /--accept-over-limit is for `plan --out`/],
    [['plan', '--accept-over-limit', 'main'], /--accept-over-limit needs --out MANIFEST/],
    [['plan', '--accept-over-limit', 'nowhere:task', '--out', 'OUT'], /--accept-over-limit\[0\]: unknown target "nowhere"/],
    [['plan', '--target', 'main', '--accept-over-limit', 'main:task', '--accept-over-limit', 'other', '--out', 'OUT'], /--accept-over-limit\[1\]: unknown target "other"/],
  ])('%j is refused with exit 2 before any request', async (args, message) => {
    const [command, ...rest] = args;
    emu.resetStats();
    const r = await runCli([command!, '--policy', policyFile, ...rest.map((a) => (a === 'OUT' ? manifestFile : a))], env);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(message)]);
    expect(emu.stats.calls).toEqual({});
  });

  it('plan --json --accept-over-limit keeps stdout one JSON document; the acceptance is in the manifest and its log line', async () => {
    writeFileSync(policyFile, policyText(emu, `${RULES}limits: { maxDeletePercent: 10, percentFloor: 0 }\n`));
    const r = await runCli(['plan', '--policy', policyFile, '--json', '--accept-over-limit', 'main', '--out', manifestFile], { ...env, OMS_JANITOR_OPERATOR: 'ana' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ targets: [{ limitOverridden: true }] });
    const line = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'manifest written');
    expect(line).toMatchObject({ acceptedOverLimit: [{ target: 'main', kind: 'task', items: 7, acceptedBy: 'ana' }] });
  });

  it('an acceptance the run cap left no item of is not recorded, and says so truthfully', async () => {
    emu.setTasks(PROJECT_B, ['21', '22', '23'].map((id) => task(id, 4, 35 * DAY)));
    writeFileSync(policyFile, policyText(emu, `${RULES}limits: { maxDeletePercent: 10, percentFloor: 0, maxDeletesPerRun: 1 }\n`, { main: PROJECT, second: PROJECT_B }));
    // Both targets over the limit and accepted; the one place of the run cap goes to the oldest item, in `main`.
    const r = await runCli(['plan', '--policy', policyFile, '--accept-over-limit', 'main', '--accept-over-limit', 'second', '--out', manifestFile], env);
    expect(r.stdout).toMatch(/--accept-over-limit second:task: not recorded, none of its items is in the manifest \(all over limits\.maxDeletesPerRun/);
    expect(readManifest().acceptedOverLimit).toMatchObject([{ target: 'main', kind: 'task', items: 1 }]);
  });

  it('a target whose name holds a colon is accepted by its whole name', async () => {
    writeFileSync(policyFile, policyText(emu, `${RULES}limits: { maxDeletePercent: 10, percentFloor: 0 }\n`, { 'prod:task': PROJECT }));
    const r = await runCli(['plan', '--policy', policyFile, '--accept-over-limit', 'prod:task', '--out', manifestFile], env);
    expect(r.code).toBe(0);
    expect(readManifest().acceptedOverLimit).toMatchObject([{ target: 'prod:task', kind: 'task', items: 7 }]);
  });

  it('an acceptance of a selection within the limits is not recorded (it would let a later apply past a limit nobody reviewed)', async () => {
    const r = await runCli(['plan', '--policy', policyFile, '--accept-over-limit', 'main', '--out', manifestFile], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--accept-over-limit main: not recorded, nothing of it was over limits\.maxDeletePercent\./);
    expect(readManifest().acceptedOverLimit).toBeUndefined();
    expect(readManifest().tasks).toHaveLength(7);
  });

  it('a target the fresh listing makes refused (over maxDeletePercent) is never steered to a forced purge: plan again', async () => {
    // 7 planned of 9 listed; with a 90% limit the plan passes. Then the two unplanned tasks go: 7 of 7 is over 90%.
    writeFileSync(policyFile, policyText(emu, `${RULES}limits: { maxDeletePercent: 90, percentFloor: 0 }\n`));
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env)).code).toBe(0);
    emu.setTasks(PROJECT, ['1', '2', '3', '4', '5', '6', '9'].map((id) => world[id]!));
    const r = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run'], env);
    expect(r.code).toBe(1);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(r.stdout).toMatch(/REFUSED/);
    expect(r.stdout).toMatch(/apply has no --force; plan again and accept it/);
    expect(r.stdout + r.stderr).not.toMatch(/--no-dry-run --force/);
  });

  it.each([
    ['older than --max-age', (m: Manifest) => ({ ...m, createdAt: new Date(Date.now() - 8 * DAY).toISOString() }), [] as string[], /createdAt: the plan is 8\.0 days old/],
    ['older than a shorter --max-age', (m: Manifest) => ({ ...m, createdAt: new Date(Date.now() - 2 * 3_600_000).toISOString() }), ['--max-age', '1h'], /createdAt: the plan is/],
    ['from the future', (m: Manifest) => ({ ...m, createdAt: new Date(Date.now() + DAY).toISOString() }), [], /createdAt: .* is in the future/],
    ['for another project', (m: Manifest) => ({ ...m, targets: [{ ...m.targets[0]!, projectId: 'another0project' }] }), [], /targets\[0\]: target "main" was planned for project another0project/],
    ['for another endpoint', (m: Manifest) => ({ ...m, targets: [{ ...m.targets[0]!, endpoint: 'https://oms.cn-north-1.myhuaweicloud.com' }] }), [], /targets\[0\]: .*cn-north-1/],
    ['a task id as a number', (m: Manifest) => ({ ...m, tasks: m.tasks.map((t, i) => (i === 2 ? { ...t, taskId: 3 } : t)) }), [], /tasks\[2\]\.taskId/],
    ['a task id with a leading zero', (m: Manifest) => ({ ...m, tasks: m.tasks.map((t, i) => (i === 0 ? { ...t, taskId: '01' } : t)) }), [], /tasks\[0\]\.taskId/],
    ['an unknown field', (m: Manifest) => ({ ...m, deleteEverything: true }), [], /unknown field "deleteEverything"/],
    ['an unknown status', (m: Manifest) => ({ ...m, tasks: m.tasks.map((t, i) => (i === 1 ? { ...t, status: 'done' } : t)) }), [], /tasks\[1\]\.status/],
    ['a task of an unknown target', (m: Manifest) => ({ ...m, tasks: m.tasks.map((t, i) => (i === 1 ? { ...t, target: 'other' } : t)) }), [], /tasks\[1\]\.target/],
    ['a task listed twice', (m: Manifest) => ({ ...m, tasks: [...m.tasks, m.tasks[0]!] }), [], /tasks\[7\]\.taskId: task \d+ of main appears twice/],
    ['another kind of document', (m: Manifest) => ({ ...m, kind: 'something-else' }), [], /kind/],
    ['a last activity that is not an exact ISO time', (m: Manifest) => ({ ...m, tasks: m.tasks.map((t, i) => (i === 0 ? { ...t, lastActivity: '2026-01-01' } : t)) }), [], /tasks\[0\]\.lastActivity/],
  ])('a manifest %s is refused with exit 2, naming the field, before any request', async (_what, edit, extra, message) => {
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env)).code).toBe(0);
    writeFileSync(manifestFile, JSON.stringify(edit(readManifest())));
    emu.resetStats();
    const r = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run', ...extra], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/nothing was done/);
    expect(emu.stats.calls).toEqual({});
  });

  it('plan --out to a place it cannot write is refused before anything is listed, naming --out', async () => {
    emu.resetStats();
    const missing = await runCli(['plan', '--policy', policyFile, '--out', join(dir, 'no-such-folder', 'plan.json')], env);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/--out: cannot write in .*no-such-folder \(ENOENT\)/)]);
    const folder = await runCli(['plan', '--policy', policyFile, '--out', dir], env);
    expect([folder.code, folder.stderr]).toEqual([2, expect.stringMatching(/--out: .* is a directory/)]);
    expect(emu.stats.calls).toEqual({});
  });

  it('a manifest file that is cut off or missing is refused with exit 2', async () => {
    expect((await runCli(['plan', '--policy', policyFile, '--out', manifestFile], env)).code).toBe(0);
    writeFileSync(manifestFile, readFileSync(manifestFile, 'utf8').slice(0, 200));
    emu.resetStats();
    const cut = await runCli(['apply', '--policy', policyFile, '--manifest', manifestFile, '--no-dry-run'], env);
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/is not JSON/);
    const missing = await runCli(['apply', '--policy', policyFile, '--manifest', join(dir, 'nope.json'), '--no-dry-run'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot be read \(ENOENT\)/);
    expect(emu.stats.calls).toEqual({});
  });

  it.each([
    [['apply', '--no-dry-run'], /needs --manifest/],
    [['apply', '--manifest', 'm.json', '--task-id', '1'], /--task-id does not go with `apply`/],
    [['apply', '--manifest', 'm.json', '--force'], /--force does not go with `apply`/],
    [['purge', '--manifest', 'm.json'], /--manifest and --max-age are for `apply`/],
    [['purge', '--out', 'm.json'], /--out is for `plan`/],
    [['apply', '--manifest', 'm.json', '--max-age', '7 days'], /--max-age: expected/],
  ])('%j is a usage error', async (args, message) => {
    const [command, ...rest] = args;
    const r = await runCli([command!, '--policy', policyFile, ...rest], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
