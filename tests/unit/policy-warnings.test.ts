import { describe, expect, it } from '@jest/globals';
import { policyWarnings } from '../../lib/policy/warnings.js';
import { policy, rule } from './select-fixtures.js';

const taskRule = rule({ name: 'done' });
const groupRule = rule({ name: 'groups', kind: 'taskGroup', statuses: ['succeeded'] });
const syncRule = rule({ name: 'syncs', kind: 'syncTask', statuses: ['stopped'] });

describe('policyWarnings: protections that reach none of the kinds the rules delete', () => {
  it('warns when group or sync rules are protected only by task protections (protect.names keeps no task group)', () => {
    expect(policyWarnings(policy({ rules: [taskRule, groupRule], protect: { names: ['keep-*'] } }))).toEqual([
      { field: 'rules[1]', message: expect.stringMatching(/^deletes task groups, which no protection of this policy reaches by their own id, description or buckets \(protect\.names applies to migration tasks, and keeps task groups only when they hold a protected member task\)/) },
    ]);
  });

  it('warns about a protection list for kinds no rule deletes', () => {
    expect(policyWarnings(policy({ rules: [taskRule], protect: { names: ['keep-*'], syncTaskIds: ['s-1'] } }))).toEqual([
      { field: 'protect.syncTaskIds', message: 'protects only sync tasks, and no rule deletes any: it has no effect' },
    ]);
  });

  it('is silent when every ruled kind has a protection that reaches it, or nothing is protected at all', () => {
    expect(policyWarnings(policy({ rules: [taskRule, groupRule, syncRule], protect: { names: ['keep-*'], buckets: ['prod-*'] } }))).toEqual([]);
    expect(policyWarnings(policy({ rules: [taskRule, groupRule], protect: {} }))).toEqual([]);
  });
});
