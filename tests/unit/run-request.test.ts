import { describe, expect, it } from '@jest/globals';
import { parsePolicy } from '../../lib/policy/load.js';
import { buildRequest } from '../../lib/purge/request.js';

const policy = (extra = '') =>
  parsePolicy(`version: 1
targets:
  - { name: a, projectId: p1, region: cn-north-4 }
  - { name: b, projectId: p2, region: cn-north-4 }
rules: [{ name: r, statuses: [failed], olderThan: 1d }]
${extra}`);
const names = { targets: '--target', taskIds: '--task-id', stopFirst: '--stop-first' };

describe('buildRequest: run choices against the policy', () => {
  it('the caller decides the dry-run default; a policy with dryRun: true is never made real', () => {
    expect(buildRequest(policy(), { dryRun: true }, names).dryRun).toBe(true);
    expect(buildRequest(policy(), { dryRun: false }, names).dryRun).toBe(false);
    expect(buildRequest(policy(), {}, names).dryRun).toBe(false); // scheduled: the policy as written
    expect(buildRequest(policy('dryRun: true'), { dryRun: false }, names).dryRun).toBe(true);
  });

  it.each([
    [{ targets: ['c'] }, /--target\[0\]: unknown target "c"/],
    [{ targets: [] }, /--target: is empty/],
    [{ taskIds: [] }, /--task-id: is empty/],
    [{ taskIds: ['12', '1x'] }, /--task-id\[1\]: expected a task id/],
    [{ taskIds: ['0042'] }, /--task-id\[0\].*leading zeros/],
    [{ taskIds: ['12345678901234567890'] }, /--task-id\[0\]/],
    [{ stopFirst: true }, /--stop-first: applies only with --task-id/],
  ])('refuses %j', (choices, message) => {
    expect(() => buildRequest(policy(), choices, names)).toThrow(message);
  });

  it('keeps named targets and ids, de-duplicated', () => {
    const r = buildRequest(policy(), { targets: ['b', 'b'], taskIds: ['7', '7', '9'], stopFirst: true, force: true }, names);
    expect(r).toMatchObject({ targets: ['b'], taskIds: ['7', '9'], stopFirst: true, force: [{}] });
  });

  it('force by kind and reviewed acceptances become grants naming exactly what they let through', () => {
    const r = buildRequest(policy(), { force: ['syncTask', 'syncTask'], acceptedOverLimit: [{ target: 'b', kind: 'task', acceptedBy: 'ana@host', acceptedAt: '2026-12-04T08:00:00.000Z' }, { target: 'a' }] }, names);
    expect(r.force).toEqual([{ kind: 'syncTask' }, { target: 'b', kind: 'task', acceptedBy: 'ana@host', acceptedAt: '2026-12-04T08:00:00.000Z' }, { target: 'a' }]);
    expect(buildRequest(policy(), {}, names).force).toBeUndefined();
  });

  it('an acceptance of an unknown target, or of a target outside the run, is refused naming its place', () => {
    const fields = { ...names, acceptedOverLimit: '--accept-over-limit' };
    expect(() => buildRequest(policy(), { acceptedOverLimit: [{ target: 'a' }, { target: 'zz' }] }, fields)).toThrow(/--accept-over-limit\[1\]: unknown target "zz"/);
    expect(() => buildRequest(policy(), { targets: ['a'], acceptedOverLimit: [{ target: 'b' }] }, fields)).toThrow(/--accept-over-limit\[0\]: target "b" is not one of this run's targets/);
  });
});
