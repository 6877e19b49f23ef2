/**
 * The archive of a real run (issue 17.1): the plan with each item's full record before the first pause or delete,
 * the outcomes and the summary when the run ends; a root that cannot take the plan means nothing is deleted.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Emulator } from '../../emulator/index.js';
import { DAY, PROJECT, TOKEN, deletedIds, emulator, policyText, runCli, task } from '../helpers/harness.js';

const RULES = 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d }\n  - { name: stuck, statuses: [migrating], olderThan: 2d, stopFirst: true }\n';

/** Every file under `dir`, relative, sorted. */
function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('archive of a real run', () => {
  let emu: Emulator;
  const saved = { ...process.env };
  afterEach(async () => {
    await emu?.close();
    process.env = { ...saved };
  });

  async function world() {
    emu = await emulator({
      buckets: ['archive-bucket'],
      deniedBuckets: ['denied-bucket'],
      projects: {
        [PROJECT]: [
          // A record carries more than the janitor reads: all of it is archived, numbers exactly as listed.
          task('191297407830872', 4, 40 * DAY, { name: 'old-failed', src_node: { bucket: 'src', region: 'cn-north-4', ak: 'AKSRCNODE0001', sk: 'SK-OF-SOURCE-NODE-MUST-NOT-LEAK' } } as never),
          task('9007199254740993', 4, 50 * DAY, { name: 'big-id' }),
          task('3', 2, 5 * DAY, { name: 'stuck', total_time: 1000 }),
          task('4', 5, DAY, { name: 'young' }),
        ],
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'janitor-archive-'));
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, policyText(emu, RULES));
    return { dir, policyFile };
  }

  it('writes runs/YYYY/MM/DD/<runId>/ with the plan (full records, nothing secret), the outcomes and the summary', async () => {
    const { dir, policyFile } = await world();
    const root = join(dir, 'archive');
    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--json', '--archive', root], { OMS_AUTH_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    expect(deletedIds(emu)).toEqual(['191297407830872', '3', '9007199254740993']);
    const summary = JSON.parse(r.stdout) as { runId: string; startedAt: string };
    const day = summary.startedAt.slice(0, 10).replace(/-/g, '/');
    // The run's folder, and the progress record kept between runs (noProgressFor).
    expect(files(root)).toEqual([`runs/${day}/${summary.runId}/outcomes.jsonl.gz`, `runs/${day}/${summary.runId}/plan.json.gz`, `runs/${day}/${summary.runId}/summary.json`, 'state/progress.json']);
    const runDir = join(root, 'runs', day, summary.runId);
    const planText = gunzipSync(readFileSync(join(runDir, 'plan.json.gz'))).toString('utf8');
    const plan = JSON.parse(planText) as { kind: string; runId: string; trigger: string; targets: unknown[]; items: Array<Record<string, unknown> & { record: Record<string, unknown> }> };
    expect(plan).toMatchObject({ kind: 'oms-task-janitor/archive-plan', runId: summary.runId, trigger: 'cli purge', targets: [{ name: 'main', projectId: PROJECT, region: 'cn-north-4', endpoint: emu.url }] });
    expect(plan.items.map((i) => [i.id, i.rule, i.action])).toEqual([
      ['9007199254740993', 'failed', 'delete'],
      ['191297407830872', 'failed', 'delete'],
      ['3', 'stuck', 'pause-then-delete'],
    ]);
    // The record as OMS listed it: the id above 2^53 exactly (as a JSON number), fields the janitor does not read.
    expect(planText).toMatch(/"record":\{"id":9007199254740993,/);
    expect(plan.items[1]!.record).toMatchObject({ name: 'old-failed', src_node: { bucket: 'src', region: 'cn-north-4', ak: '[REDACTED]', sk: '[REDACTED]' } });
    const outcomes = gunzipSync(readFileSync(join(runDir, 'outcomes.jsonl.gz'))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(outcomes.map((o) => [o.id, o.outcome, o.paused ?? false]).sort()).toEqual([
      ['191297407830872', 'deleted', false],
      ['3', 'deleted', true],
      ['9007199254740993', 'deleted', false],
    ]);
    expect(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'))).toMatchObject({ runId: summary.runId, totals: { deleted: 3 } });
    // Nothing secret anywhere in the archive: the token, the source node's keys.
    const everything = planText + JSON.stringify(outcomes) + readFileSync(join(runDir, 'summary.json'), 'utf8');
    expect(everything).not.toMatch(new RegExp(`${TOKEN}|SK-OF-SOURCE-NODE|AKSRCNODE`));
    // The log says where the plan went before anything was deleted.
    const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const archived = lines.findIndex((l) => l.message === 'run archived');
    const firstChange = lines.findIndex((l) => l.outcome === 'deleted');
    expect(archived).toBeGreaterThanOrEqual(0);
    expect(archived).toBeLessThan(firstChange);
  });

  it('archive list and show answer "what did we delete, and what did it say?" in one command each (text and --json)', async () => {
    const { dir, policyFile } = await world();
    const root = join(dir, 'archive');
    emu.setTaskFault(PROJECT, '9007199254740993', { method: 'DELETE', status: 403, errorCode: 'APIGW.0306', errorMsg: 'no permission' });
    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--json', '--archive', root], { OMS_AUTH_TOKEN: TOKEN });
    const { runId } = JSON.parse(r.stdout) as { runId: string };
    const list = await runCli(['archive', 'list', '--archive', root]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`STARTED +RUN +DELETED +FAILED +DEFERRED[\\s\\S]*${runId} +2 +1 +0`));
    const listed = JSON.parse((await runCli(['archive', 'list', '--archive', root, '--since', '1d', '--json'])).stdout) as { runs: { runId: string; files: string[] }[] };
    expect(listed.runs).toEqual([expect.objectContaining({ runId, deleted: 2, failed: 1, files: ['outcomes.jsonl.gz', 'plan.json.gz', 'summary.json'] })]);

    const show = await runCli(['archive', 'show', '--archive', root, runId]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/old-failed +failed +failed +deleted/);
    expect(show.stdout).toMatch(/9007199254740993 +big-id +failed +failed +failed +http-error HTTP 403 APIGW\.0306 no permission/);
    const shownText = (await runCli(['archive', 'show', '--archive', root, runId, '--json'])).stdout;
    // The record's id above 2^53 is written back exactly as OMS listed it.
    expect(shownText).toMatch(/"record":\{"id":9007199254740993,/);
    const shown = JSON.parse(shownText) as { items: { id: string; record: { name: string }; outcome: { outcome: string } }[] };
    expect(shown.items.map((i) => [i.id, i.record.name, i.outcome.outcome])).toEqual([
      ['9007199254740993', 'big-id', 'failed'],
      ['191297407830872', 'old-failed', 'deleted'],
      ['3', 'stuck', 'deleted'],
    ]);
    const missing = await runCli(['archive', 'show', '--archive', root, 'no-such-run']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/no run "no-such-run" in the archive/)]);
    expect((await runCli(['archive', 'list'])).code).toBe(2);
  });

  it('a capped backlog: every item the run acts on is archived first (records kept for the oldest candidates only)', async () => {
    // More possible candidates (1,200) than the records kept (run cap + keepLatest + slack): the oldest are kept.
    emu = await emulator({ projects: { [PROJECT]: Array.from({ length: 1200 }, (_, i) => task(String(100 + i), 4, 2000 * DAY - i * 60_000)) } });
    const dir = mkdtempSync(join(tmpdir(), 'janitor-archive-'));
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, policyText(emu, 'rules:\n  - { name: failed, statuses: [failed], olderThan: 30d, keepLatest: 5 }\nlimits: { maxDeletesPerRun: 10 }\n'));
    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--json', '--archive', join(dir, 'a')], { OMS_AUTH_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    expect(deletedIds(emu)).toEqual(Array.from({ length: 10 }, (_, i) => String(100 + i)));
    expect(r.stderr).not.toMatch(/not-archived|items not archived/);
    const { runId } = JSON.parse(r.stdout) as { runId: string };
    const shown = JSON.parse((await runCli(['archive', 'show', '--archive', join(dir, 'a'), runId, '--json'])).stdout) as { items: { id: string }[] };
    expect(shown.items.map((i) => i.id)).toEqual(Array.from({ length: 10 }, (_, i) => String(100 + i)));
  });

  it('a dry run archives nothing', async () => {
    const { dir, policyFile } = await world();
    const r = await runCli(['purge', '--policy', policyFile, '--archive', join(dir, 'archive')], { OMS_AUTH_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    expect(() => readdirSync(join(dir, 'archive'))).toThrow(/ENOENT/);
  });

  it('to S3 (path style, the real S3 client against the emulator); a bucket that refuses the plan means nothing is paused or deleted, exit 1', async () => {
    const { policyFile } = await world();
    Object.assign(process.env, { AWS_ENDPOINT_URL_S3: emu.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    const refused = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--archive', 's3://denied-bucket/janitor'], { OMS_AUTH_TOKEN: TOKEN });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the run's plan could not be archived to s3:\/\/denied-bucket\/janitor \(AccessDenied: Access Denied\): nothing was paused or deleted/);
    expect(emu.stats.calls.delete ?? 0).toBe(0);
    expect(emu.stats.calls.stop ?? 0).toBe(0);

    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run', '--json', '--archive', 's3://archive-bucket/janitor/prod'], { OMS_AUTH_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    const { runId } = JSON.parse(r.stdout) as { runId: string };
    const keys = [...emu.s3Objects('archive-bucket').keys()].filter((k) => k.includes('/runs/')).sort();
    expect(keys).toHaveLength(3);
    expect(emu.s3Objects('archive-bucket').has('janitor/prod/state/progress.json')).toBe(true);
    expect(keys.every((k) => k.startsWith('janitor/prod/runs/') && k.includes(`/${runId}/`))).toBe(true);
    const plan = JSON.parse(gunzipSync(emu.s3Objects('archive-bucket').get(keys.find((k) => k.endsWith('plan.json.gz'))!)!.body).toString('utf8')) as { items: unknown[] };
    expect(plan.items).toHaveLength(3);
    expect(deletedIds(emu)).toHaveLength(3);

    // A manifest written to S3 by plan --out, and applied from there (the Lambda takes the same URI).
    emu.setTasks(PROJECT, [task('77', 4, 40 * DAY)]);
    expect((await runCli(['plan', '--policy', policyFile, '--out', 's3://archive-bucket/manifests/p.json'], { OMS_AUTH_TOKEN: TOKEN })).code).toBe(0);
    expect(emu.s3Objects('archive-bucket').has('manifests/p.json')).toBe(true);
    const applied = await runCli(['apply', '--policy', policyFile, '--manifest', 's3://archive-bucket/manifests/p.json', '--no-dry-run', '--json'], { OMS_AUTH_TOKEN: TOKEN });
    expect(JSON.parse(applied.stdout)).toMatchObject({ totals: { deleted: 1 } });
    const missing = await runCli(['apply', '--policy', policyFile, '--manifest', 's3://archive-bucket/manifests/none.json'], { OMS_AUTH_TOKEN: TOKEN });
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/s3:\/\/archive-bucket\/manifests\/none\.json: \(the file\): cannot be read \(NoSuchKey\)/)]);
  });

  it.each([
    [['--archive', 's3://Bad_Bucket/x'], /--archive: archive root "s3:\/\/Bad_Bucket\/x": expected s3:\/\/BUCKET/],
    [['--archive', 'POLICY/archive'], /--archive: cannot write in .*policy\.yaml\/archive \(ENOTDIR\)/],
    [['--archive', 'POLICY'], /--archive: .*policy\.yaml is not a directory/],
  ])('%j is refused with exit 2 before anything is listed', async (args, message) => {
    const { policyFile } = await world();
    const r = await runCli(['purge', '--policy', policyFile, '--no-dry-run', ...args.map((a) => a.replace('POLICY', policyFile))], { OMS_AUTH_TOKEN: TOKEN });
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(message)]);
    expect(emu.stats.calls).toEqual({});
  });
});
