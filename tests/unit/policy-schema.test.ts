import { describe, expect, it } from '@jest/globals';
import { parsePolicy, PolicyError } from '../../lib/policy/load.js';
import { uniqueProjects } from '../../lib/policy/schema-checks.js';

/** A minimal valid policy, as plain data (JSON is YAML). */
function base(): Record<string, any> {
  return {
    version: 1,
    targets: [{ name: 'beijing4', projectId: '2c0689c860ad4728a497c91ec0844383', region: 'cn-north-4' }],
    rules: [
      { name: 'succeeded', statuses: ['succeeded'], olderThan: '7d' },
      { name: 'failed', statuses: ['failed'], olderThan: '30d' },
    ],
  };
}

function issuesOf(text: string): { path: string; message: string }[] {
  try {
    parsePolicy(text, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    const policyError = error as PolicyError;
    expect(policyError.name).toBe('PolicyError');
    for (const issue of policyError.issues) expect(policyError.message).toContain(issue.message);
    return policyError.issues;
  }
  throw new Error('expected a PolicyError');
}

function issuesFor(change: (p: Record<string, any>) => void) {
  const p = base();
  change(p);
  return issuesOf(JSON.stringify(p));
}

describe('policy schema', () => {
  it('fills every default and resolves the endpoint', () => {
    const policy = parsePolicy(JSON.stringify(base()));
    expect(policy).toEqual({
      version: 1,
      targets: [{ name: 'beijing4', projectId: '2c0689c860ad4728a497c91ec0844383', region: 'cn-north-4', endpoint: 'https://oms.cn-north-4.myhuaweicloud.com' }],
      rules: [
        { name: 'succeeded', kind: 'task', statuses: ['succeeded'], olderThan: '7d', olderThanMs: 7 * 86_400_000, keepLatest: 0, stopFirst: false },
        { name: 'failed', kind: 'task', statuses: ['failed'], olderThan: '30d', olderThanMs: 30 * 86_400_000, keepLatest: 0, stopFirst: false },
      ],
      protect: { names: [], taskIds: [], groupTasks: true, taskGroupIds: [], syncTaskIds: [], descriptions: [], buckets: [] },
      limits: { maxDeletesPerRun: 1000, maxDeletePercent: 100, percentFloor: 20, stopTimeoutMs: 600_000 },
      concurrency: 8,
      dryRun: false,
    });
  });

  it('names the field of a bad duration, with what was written', () => {
    const issues = issuesFor((p) => (p.rules[1].olderThan = '7 days'));
    expect(issues).toEqual([
      { path: 'rules[1].olderThan', message: 'expected <whole number><m|h|d|w> such as 7d, got "7 days"', line: expect.any(Number) },
    ]);
  });

  it.each([
    ['top level', (p: any) => (p.dryrun = true), 'dryrun'],
    ['a rule', (p: any) => (p.rules[0].olderthan = '1d'), 'rules[0].olderthan'],
    ['a target', (p: any) => (p.targets[0].endpiont = 'https://x'), 'targets[0].endpiont'],
    ['limits', (p: any) => (p.limits = { maxDeletes: 5 }), 'limits.maxDeletes'],
    ['protect', (p: any) => (p.protect = { groupTask: false }), 'protect.groupTask'],
  ])('refuses an unknown field in %s, naming it', (_where, change, path) => {
    const issues = issuesFor(change);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message).toMatch(/^unknown field/);
  });

  it('suggests the field a case typo meant', () => {
    expect(issuesFor((p) => (p.dryrun = true))[0]?.message).toBe('unknown field (did you mean dryRun?)');
  });

  it('refuses a rule naming an in-progress status without stopFirst: true, and accepts it with', () => {
    const issues = issuesFor((p) => (p.rules[1] = { name: 'stuck', statuses: ['failed', 'migrating', 'retrying'], olderThan: '2d' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('rules[1].stopFirst');
    expect(issues[0]?.message).toContain('migrating, retrying');
    expect(issues[0]?.message).toContain('stopFirst: true');
    const p = base();
    p.rules[1] = { name: 'stuck', statuses: ['migrating', 'retrying'], olderThan: '2d', stopFirst: true };
    expect(parsePolicy(JSON.stringify(p)).rules[1]?.stopFirst).toBe(true);
  });

  it('refuses a region OMS is not offered in when no endpoint is given, naming the field and the nearest region', () => {
    expect(issuesFor((p) => (p.targets[0].region = 'cn-north4'))).toEqual([
      { path: 'targets[0].region', message: expect.stringContaining('"cn-north4" is not a region OMS is offered in (did you mean "cn-north-4"?)'), line: expect.any(Number) },
    ]);
    // Nothing near: no guess.
    expect(issuesFor((p) => (p.targets[0].region = 'eu-west-0'))[0]!.message).not.toMatch(/did you mean/);
    // An explicit endpoint still reaches any region (a new one the table lacks).
    const explicit = base();
    explicit.targets[0].region = 'eu-west-101';
    explicit.targets[0].endpoint = 'https://oms.eu-west-101.myhuaweicloud.eu';
    expect(parsePolicy(JSON.stringify(explicit), 'test.yaml').targets[0]).toMatchObject({ region: 'eu-west-101', endpoint: 'https://oms.eu-west-101.myhuaweicloud.eu' });
    for (const region of ['cn-north-4', 'cn-north-12', 'ap-southeast-5', 'cn-south-4', 'sa-brazil-1']) {
      const p = base();
      p.targets[0].region = region;
      expect(parsePolicy(JSON.stringify(p), 'test.yaml').targets[0]!.endpoint).toBe(`https://oms.${region}.myhuaweicloud.com`);
    }
  });

  it('refuses http:// endpoints except on loopback, and normalises the endpoint', () => {
    expect(issuesFor((p) => (p.targets[0].endpoint = 'http://oms.example.com'))).toEqual([
      expect.objectContaining({ path: 'targets[0].endpoint', message: expect.stringContaining('http:// is only allowed for loopback hosts') }),
    ]);
    const endpoint = (value: string) => {
      const p = base();
      p.targets[0].endpoint = value;
      return parsePolicy(JSON.stringify(p)).targets[0]?.endpoint;
    };
    expect(endpoint('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(endpoint('http://localhost:9000/')).toBe('http://localhost:9000');
    expect(endpoint('http://[::1]:8080')).toBe('http://[::1]:8080');
    expect(endpoint('https://OMS.CN-North-4.MyHuaweiCloud.com:443/')).toBe('https://oms.cn-north-4.myhuaweicloud.com');
  });

  it.each(['https://oms.example.com/v2', 'https://oms.example.com/?a=1', 'https://oms.example.com#x', 'ftp://oms.example.com', 'https://user:pw@oms.example.com', 'oms.example.com'])(
    'refuses the endpoint %j',
    (value) => {
      expect(issuesFor((p) => (p.targets[0].endpoint = value)).map((i) => i.path)).toEqual(['targets[0].endpoint']);
    },
  );

  it.each(['00000000000000000000000000000000', '00000000000000000000000000000de1', '0000000000000000'])(
    'refuses the placeholder project id %j, naming the field',
    (value) => {
      const issues = issuesFor((p) => (p.targets[0].projectId = value));
      expect(issues.map((i) => i.path)).toEqual(['targets[0].projectId']);
      expect(issues[0]!.message).toContain('placeholder');
    },
  );

  it('accepts real ids that merely start with a few zeros', () => {
    const p = base();
    p.targets[0].projectId = '000000000000000f2c0689c860ad4728';
    expect(parsePolicy(JSON.stringify(p)).targets[0]!.projectId).toBe('000000000000000f2c0689c860ad4728');
  });

  it('refuses duplicate target names and two targets on one project', () => {
    const issues = issuesFor((p) => p.targets.push({ ...p.targets[0] }));
    expect(issues.map((i) => i.path).sort()).toEqual(['targets[1].name', 'targets[1].projectId']);
    expect(issues.find((i) => i.path === 'targets[1].name')?.message).toContain('targets[0]');
  });

  it.each([
    ['endpoints differing in case and a trailing slash', { endpoint: 'https://OMS.x.com/' }, { endpoint: 'https://oms.x.com' }],
    ['an explicit endpoint equal to the region default', {}, { endpoint: 'https://oms.cn-north-4.myhuaweicloud.com' }],
    ['the region default written with a port and a slash', { endpoint: 'https://Oms.cn-north-4.myhuaweicloud.com:443/' }, {}],
  ])('refuses two targets on one project through %s', (_label, first, second) => {
    const issues = issuesFor((p) => {
      const one = { ...p.targets[0], ...first };
      p.targets = [one, { ...one, name: 'again', ...second }];
      if (!('endpoint' in second) && 'endpoint' in one) delete p.targets[1].endpoint;
    });
    expect(issues).toEqual([expect.objectContaining({ path: 'targets[1].projectId', message: 'same project and endpoint as targets[0]' })]);
  });

  it('accepts one project id behind two different endpoints, and two projects behind one', () => {
    const p = base();
    p.targets.push({ ...p.targets[0], name: 'other-region', region: 'cn-east-3' });
    p.targets.push({ ...p.targets[0], name: 'other-project', projectId: 'another' });
    expect(parsePolicy(JSON.stringify(p)).targets).toHaveLength(3);
  });

  describe('uniqueProjects on raw items (it must not rely on zod having normalised them first)', () => {
    function check(targets: unknown[]) {
      const issues: { path?: PropertyKey[]; message?: string }[] = [];
      const ctx = { addIssue: (issue: { path?: PropertyKey[]; message?: string }) => issues.push(issue) };
      uniqueProjects(targets, ctx as unknown as Parameters<typeof uniqueProjects>[1]);
      return issues.map((issue) => issue.path);
    }
    const region = 'cn-north-4';

    it('compares normalised endpoints', () => {
      expect(check([{ projectId: 'p', region, endpoint: 'https://OMS.x.com/' }, { projectId: 'p', region, endpoint: 'https://oms.x.com' }])).toEqual([[1, 'projectId']]);
    });

    it('compares an omitted endpoint as the region default, against an explicit one in either order', () => {
      const explicit = { projectId: 'p', region, endpoint: 'https://oms.cn-north-4.myhuaweicloud.com/' };
      expect(check([{ projectId: 'p', region }, explicit])).toEqual([[1, 'projectId']]);
      expect(check([explicit, { projectId: 'p', region }])).toEqual([[1, 'projectId']]);
    });

    it('needs no region when the endpoint is explicit, and compares nothing it cannot resolve', () => {
      expect(check([{ projectId: 'p', endpoint: 'https://x.com' }, { projectId: 'p', region: 7, endpoint: 'https://X.com' }])).toEqual([[1, 'projectId']]);
      expect(check([{ projectId: 'p', endpoint: 'https://x.com/a' }, { projectId: 'p', endpoint: 'https://x.com/a' }])).toEqual([]);
      expect(check([{ projectId: 'p', endpoint: null, region }, { projectId: 'p', region }])).toEqual([]);
      expect(check([{ projectId: 'p', region }, { projectId: 'P', region }])).toEqual([]);
    });
  });

  it('refuses duplicate rule names and the reserved rule name task-id', () => {
    expect(issuesFor((p) => (p.rules[1].name = 'succeeded')).map((i) => i.path)).toEqual(['rules[1].name']);
    expect(issuesFor((p) => (p.rules[1].name = 'task-id')).map((i) => i.path)).toEqual(['rules[1].name']);
  });

  it.each([
    ['version', (p: any) => (p.version = 2)],
    ['targets', (p: any) => (p.targets = [])],
    ['rules', (p: any) => (p.rules = [])],
    ['rules[0].statuses', (p: any) => (p.rules[0].statuses = [])],
    ['rules[0].statuses[0]', (p: any) => (p.rules[0].statuses = ['Succeeded'])],
    ['rules[0].olderThan', (p: any) => delete p.rules[0].olderThan],
    ['rules[0].keepLatest', (p: any) => (p.rules[0].keepLatest = 1.5)],
    ['rules[0].namePattern', (p: any) => (p.rules[0].namePattern = '')],
    ['targets[0].projectId', (p: any) => (p.targets[0].projectId = '../x')],
    ['targets[0].region', (p: any) => delete p.targets[0].region],
    ['limits.maxDeletesPerRun', (p: any) => (p.limits = { maxDeletesPerRun: 0 })],
    ['limits.maxDeletePercent', (p: any) => (p.limits = { maxDeletePercent: 0 })],
    ['limits.maxDeletePercent', (p: any) => (p.limits = { maxDeletePercent: 100.5 })],
    ['limits.stopTimeout', (p: any) => (p.limits = { stopTimeout: 600 })],
    ['concurrency', (p: any) => (p.concurrency = 65)],
    ['requestsPerSecond', (p: any) => (p.requestsPerSecond = 0)],
    ['dryRun', (p: any) => (p.dryRun = 'yes')],
    ['protect.taskIds[0]', (p: any) => (p.protect = { taskIds: ['12345678901234567890'] })],
  ])('refuses a bad %s', (path, change) => {
    expect(issuesFor(change).map((i) => i.path)).toEqual([path]);
  });

  it.each([
    ['targets', (p: any) => delete p.targets],
    ['targets', (p: any) => (p.targets = 'beijing4')],
    ['rules', (p: any) => delete p.rules],
    ['rules', (p: any) => (p.rules = { name: 'x' })],
  ])('reports a missing or mistyped %s as one issue', (path, change) => {
    expect(issuesFor(change).map((i) => i.path)).toEqual([path]);
  });

  it('lists every issue at once', () => {
    const issues = issuesFor((p) => {
      p.version = 2;
      p.rules[0].olderThan = 'soon';
      p.rules[1].statuses = ['waiting'];
      p.concurrency = 0;
    });
    expect(issues.map((i) => i.path).sort()).toEqual(['concurrency', 'rules[0].olderThan', 'rules[1].stopFirst', 'version']);
  });

  it('refuses a task id written as a YAML number above 2^53 and asks for quotes', () => {
    const text = `${JSON.stringify(base())}`.replace(/}$/, ', "protect": {"taskIds": [191297407830872123, 191297407830872]}}');
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('protect.taskIds[0]');
    expect(issues[0]?.message).toContain('"191297407830872123"');
    expect(issues[0]?.message).toContain('quote');
  });

  it('accepts task ids as strings and as safe YAML numbers, without leading zeros', () => {
    const p = base();
    p.protect = { taskIds: ['191297407830872', 42, '0007'], names: ['keep-*'], groupTasks: false };
    expect(parsePolicy(JSON.stringify(p)).protect).toMatchObject({ taskIds: ['191297407830872', '42', '7'], names: ['keep-*'], groupTasks: false });
  });
});

describe('policy schema: kinds', () => {
  const groupRule = { name: 'old-groups', kind: 'taskGroup', statuses: ['succeeded', 'creationFailed'], olderThan: '30d', descriptionPattern: 'nightly-*' };
  const syncRule = { name: 'stuck-sync', kind: 'syncTask', statuses: ['synchronizing'], olderThan: '7d', stopFirst: true, destinationBucketPattern: 'scratch-*' };

  it('reads a task group rule and a sync task rule with their own statuses and patterns; kind defaults to task', () => {
    const p = base();
    p.rules.push(groupRule, syncRule);
    p.protect = { taskGroupIds: ['g-1', '42'], syncTaskIds: ['s-1'], descriptions: ['keep *'], buckets: ['prod-*'] };
    const policy = parsePolicy(JSON.stringify(p));
    expect(policy.rules.map((r) => [r.kind, r.statuses])).toEqual([
      ['task', ['succeeded']],
      ['task', ['failed']],
      ['taskGroup', ['succeeded', 'creationFailed']],
      ['syncTask', ['synchronizing']],
    ]);
    expect(policy.rules[2]).toMatchObject({ descriptionPattern: 'nightly-*' });
    expect(policy.rules[3]).toMatchObject({ destinationBucketPattern: 'scratch-*', stopFirst: true });
    expect(policy.protect).toMatchObject({ taskGroupIds: ['g-1', '42'], syncTaskIds: ['s-1'], descriptions: ['keep *'], buckets: ['prod-*'] });
  });

  it.each([
    ['rules[2].kind', 'a kind (task, taskGroup, syncTask)', (p: any) => p.rules.push({ ...groupRule, kind: 'group' })],
    ['rules[2].statuses[0]', 'task group status name', (p: any) => p.rules.push({ ...groupRule, statuses: ['migrating'] })],
    ['rules[2].statuses[1]', 'a delete is already under way', (p: any) => p.rules.push({ ...groupRule, statuses: ['failed', 'deleting'] })],
    ['rules[2].statuses[0]', 'a delete is already under way', (p: any) => p.rules.push({ ...groupRule, statuses: ['waitingForDeletion'] })],
    ['rules[2].statuses[0]', 'sync task status name (synchronizing, stopped)', (p: any) => p.rules.push({ ...syncRule, statuses: ['failed'] })],
    ['rules[2].statuses[0]', 'task status name', (p: any) => p.rules.push({ name: 'x', statuses: ['executing'], olderThan: '1d' })],
    ['rules[2].namePattern', 'has no name', (p: any) => p.rules.push({ ...syncRule, namePattern: 'x-*' })],
    ['rules[2].namePattern', 'has no name', (p: any) => p.rules.push({ ...groupRule, namePattern: 'x-*' })],
    ['rules[2].descriptionPattern', 'namePattern', (p: any) => p.rules.push({ name: 'x', statuses: ['failed'], olderThan: '1d', descriptionPattern: 'x' })],
    ['rules[2].stopFirst', 'executing', (p: any) => p.rules.push({ ...groupRule, statuses: ['executing'] })],
    ['rules[2].stopFirst', 'waiting', (p: any) => p.rules.push({ ...groupRule, statuses: ['paused', 'waiting'] })],
    ['rules[2].stopFirst', 'stop, wait until stopped', (p: any) => p.rules.push({ ...syncRule, stopFirst: false })],
    ['protect.taskGroupIds[0]', 'expected an id', (p: any) => (p.protect = { taskGroupIds: [{}] })],
    ['protect.taskGroupIds[0]', 'quote the id', (p: any) => (p.protect = { taskGroupIds: [123] })],
    ['protect.syncTaskIds[0]', 'expected an id', (p: any) => (p.protect = { syncTaskIds: [''] })],
    ['protect.taskGroupIds[1]', 'spaces around the id', (p: any) => (p.protect = { taskGroupIds: ['6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e01', '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e02 '] })],
    ['protect.syncTaskIds[0]', 'could never match a listed id', (p: any) => (p.protect = { syncTaskIds: ['a/b'] })],
    ['protect.taskGroupIds[0]', 'could never match a listed id', (p: any) => (p.protect = { taskGroupIds: ['.hidden'] })],
    ['protect.buckets[0]', 'must not be empty', (p: any) => (p.protect = { buckets: [''] })],
  ])('refuses %s (%s), naming the field', (path, words, change) => {
    const issues = issuesFor(change);
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]!.message).toContain(words);
  });

  it('a group rule names pausing (in progress) only with stopFirst; paused alone needs none', () => {
    const withRule = (rule: object) => {
      const p = base();
      p.rules.push(rule);
      return () => parsePolicy(JSON.stringify(p));
    };
    expect(withRule({ ...groupRule, statuses: ['paused'] })).not.toThrow();
    expect(withRule({ ...groupRule, statuses: ['paused', 'pausing'], stopFirst: true })).not.toThrow();
    expect(issuesFor((p) => p.rules.push({ ...groupRule, statuses: ['paused', 'pausing'] })).map((i) => i.path)).toEqual(['rules[2].stopFirst']);
  });
});
