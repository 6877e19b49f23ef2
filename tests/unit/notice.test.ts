import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openArchiveStore } from '../../lib/archive/store.js';
import { parseLossless } from '../../lib/oms/json.js';
import { parseItem } from '../../lib/oms/item.js';
import { NOTICE_KEY, claimNotice, dueItems, nextNotice } from '../../lib/notice/notice.js';
import { parsePolicy } from '../../lib/policy/load.js';
import type { Candidate, Policy } from '../../lib/policy/types.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1);
const policyFor = (project: string, extraTargets = '') =>
  parsePolicy(`version: 1\ntargets:\n  - { name: main, projectId: ${project}, region: cn-north-4 }\n${extraTargets}rules: [{ name: r, statuses: [failed], olderThan: 1d }]\n`);
const candidate = (id: string, name = `t${id}`): Candidate => {
  const item = parseItem('task', parseLossless(`{"id":${id},"name":"${name}","status":4,"start_time":${T0 - 40 * DAY},"total_time":0}`)) as Candidate['item'];
  return { item, rule: 'r', lastActivityMs: item.lastActivityMs! };
};
const run = (policy: Policy, nowMs: number, windowMs: number, judged: string[]) => ({ runId: 'r', nowMs, windowMs, policy, policySha256: 'a'.repeat(64), judged: new Set(judged) });

describe('notice: what stays announced, and when it is due', () => {
  it('announcements of a target that now names another project never become due, even when a run did not judge it', () => {
    const before = policyFor('p'.repeat(32), '  - { name: other, projectId: ' + 'q'.repeat(32) + ', region: cn-north-4 }\n');
    const target = before.targets[0]!;
    const first = nextNotice(undefined, [{ target, candidate: candidate('1') }], run(before, T0, DAY, ['main\u0000task', 'other\u0000task'])).notice;
    // main now points at another project; a run of `other` only does not judge main.
    const after = policyFor('z'.repeat(32), '  - { name: other, projectId: ' + 'q'.repeat(32) + ', region: cn-north-4 }\n');
    const second = nextNotice(first, [], run(after, T0 + DAY, DAY, ['other\u0000task'])).notice;
    expect(second.items).toEqual([]);
    expect(dueItems(first, T0 + 2 * DAY, after).get('main')).toBeUndefined();
    expect(dueItems(first, T0 + 2 * DAY, before).get('main')?.get('task')?.size).toBe(1);
  });

  it('a lane the run did not judge (its listing failed) keeps its announcements and their times', () => {
    const policy = policyFor('p'.repeat(32));
    const target = policy.targets[0]!;
    const first = nextNotice(undefined, [{ target, candidate: candidate('1') }], run(policy, T0, DAY, ['main\u0000task'])).notice;
    const second = nextNotice(first, [], run(policy, T0 + DAY / 2, DAY, [])).notice;
    expect(second.items).toEqual(first.items);
  });

  it('a longer window moves an unchanged announcement later, never earlier; a changed item starts again', () => {
    const policy = policyFor('p'.repeat(32));
    const target = policy.targets[0]!;
    const first = nextNotice(undefined, [{ target, candidate: candidate('1') }, { target, candidate: candidate('2') }], run(policy, T0, DAY, ['main\u0000task'])).notice;
    const longer = nextNotice(first, [{ target, candidate: candidate('1') }, { target, candidate: candidate('2', 'renamed') }], run(policy, T0 + DAY / 2, 3 * DAY, ['main\u0000task']));
    expect(longer.notice.items.map((i) => [i.id, i.deleteAfter])).toEqual([
      ['1', new Date(T0 + 3 * DAY).toISOString()],
      ['2', new Date(T0 + DAY / 2 + 3 * DAY).toISOString()],
    ]);
    expect(longer.added).toBe(1);
    const shorter = nextNotice(longer.notice, [{ target, candidate: candidate('1') }], run(policy, T0 + DAY, DAY / 2, ['main\u0000task']));
    expect(shorter.notice.items[0]!.deleteAfter).toBe(new Date(T0 + 3 * DAY).toISOString());
  });

  it('a lock file left by a process that died is taken over after a minute, not before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'janitor-lock-'));
    const store = openArchiveStore(dir);
    mkdirSync(join(dir, 'pending'), { recursive: true });
    writeFileSync(join(dir, `${NOTICE_KEY}.lock`), '');
    const policy = policyFor('p'.repeat(32));
    await expect(claimNotice(store, { runId: 'a', nowMs: T0, windowMs: DAY, policy, policySha256: 'a'.repeat(64) })).rejects.toThrow(/being written by another run/);
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(join(dir, `${NOTICE_KEY}.lock`), old, old);
    await expect(claimNotice(store, { runId: 'a', nowMs: T0, windowMs: DAY, policy, policySha256: 'a'.repeat(64) })).resolves.toMatchObject({ previous: undefined });
  });
});
