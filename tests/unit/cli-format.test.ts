import { describe, expect, it } from '@jest/globals';
import { planTable, summaryText } from '../../bin/format.js';
import { TransportError } from '../../lib/http/errors.js';
import { emptyTotals, type RunSummary, type TargetSummary } from '../../lib/purge/summary.js';

const target = (over: Partial<TargetSummary>): TargetSummary => ({
  name: 'main', projectId: 'p1', listed: 0, selected: 0, deleted: 0, failed: 0, deferred: 0, refused: false, truncated: false, failures: [], ...over,
});
const summary = (targets: TargetSummary[], dryRun = true): RunSummary => ({
  runId: 'r1', dryRun, startedAt: '2026-11-28T00:00:00.000Z', finishedAt: '2026-11-28T00:00:01.000Z', totals: emptyTotals(), targets,
});

describe('the CLI\'s readable output', () => {
  it('a target that could not be listed is said plainly, not as "nothing to delete" or "more next run"', () => {
    const error = new TransportError('connection', 'GET', '/v2/p1/tasks', { cause: new Error('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8790') }) });
    const s = summary([target({ truncated: true, error: `listing failed: ${error.message}` })]);
    expect(planTable([], 0, ['main'])).toBe('Nothing selected, but main could not be listed (see NOTES below).');
    const text = summaryText(s, 'plan');
    expect(text).toMatch(/listing failed: GET \/v2\/p1\/tasks lost its connection on every attempt \(connect ECONNREFUSED 127\.0\.0\.1:8790\)/);
    expect(text).not.toMatch(/more next run/);
  });

  it('an empty plan with every target listed is "Nothing to delete."', () => {
    expect(planTable([], 0, [])).toBe('Nothing to delete.');
  });

  it('plan points at the full purge command and at plan --out then apply; purge at --no-dry-run; a real run gives its counts', () => {
    const plan = summaryText(summary([target({})]), 'plan', undefined, ['policies/my policy.yaml']);
    // A plan of some targets points at a run of those targets only.
    const scoped = summaryText(summary([target({})]), 'plan', undefined, ['p.yaml', '--target', 'b 1', '--secret-id', 's/prod']);
    expect(scoped).toMatch(/`oms-janitor purge --policy p\.yaml --target 'b 1' --secret-id s\/prod --no-dry-run`/);
    // apply takes no --target (the manifest says which): its hint keeps the policy and the secret only.
    expect(scoped).toMatch(/`oms-janitor apply --policy p\.yaml --secret-id s\/prod --manifest plan\.json --no-dry-run`/);
    // With a refusal, the plan does not point at a purge that would refuse again: the way on is below.
    const refused = summaryText(summary([target({ refused: true, selected: 5 })]), 'plan', (t, k) => `ACCEPT ${t} ${k}`, ['p.yaml']);
    expect(refused).not.toMatch(/purge --policy/);
    expect(refused).toMatch(/Some of it is refused .* below is how to delete it after review\.[\s\S]*ACCEPT main task/);
    expect(plan).toMatch(/Run `oms-janitor purge --policy 'policies\/my policy\.yaml' --no-dry-run` to delete/);
    expect(plan).toMatch(/`oms-janitor plan --policy 'policies\/my policy\.yaml' --out plan\.json`, then `oms-janitor apply --policy 'policies\/my policy\.yaml' --manifest plan\.json --no-dry-run`/);
    expect(summaryText(summary([target({})]), 'purge')).toMatch(/Add --no-dry-run to delete\./);
    const real = summary([target({ selected: 3, deleted: 2, failed: 1 })], false);
    real.totals = { ...real.totals, selected: 3, deleted: 2, failed: 1 };
    expect(summaryText(real)).toMatch(/Run r1: 2 deleted, 1 failed, 0 deferred\./);
  });

  it('the headline counts targets that stopped, were refused or could not be listed, so "0 failed" never hides them', () => {
    const real = summary([target({ error: 'stopped: authentication was refused (HTTP 401)', truncated: true }), target({ name: 'b', refused: true }), target({ name: 'c', error: 'listing failed: x' }), target({ name: 'd' })], false);
    expect(summaryText(real)).toMatch(/Run r1: 0 deleted, 0 failed, 0 deferred; 1 target stopped, 1 target refused, 1 target not listed or held back\./);
    expect(summaryText(summary([target({}), target({ name: 'b' })], false))).toMatch(/Run r1: 0 deleted, 0 failed, 0 deferred\./);
  });

  it('a truncated or refused target says so', () => {
    const text = summaryText(summary([target({ truncated: true }), target({ name: 'b', refused: true })]));
    expect(text).toMatch(/main .*incomplete: more next run/);
    expect(text).toMatch(/b .*REFUSED \(maxDeletePercent\)/);
  });
});
