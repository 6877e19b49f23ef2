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
    expect(r).toMatchObject({ targets: ['b'], taskIds: ['7', '9'], stopFirst: true, force: true });
  });
});
