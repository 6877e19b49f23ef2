import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadPolicy, parsePolicy, PolicyError } from '../../lib/policy/load.js';

const VALID = `version: 1
targets:
  - name: beijing4
    projectId: 2c0689c860ad4728a497c91ec0844383
    region: cn-north-4
rules:
  - name: succeeded-after-7d
    statuses: [succeeded]
    olderThan: 7d
    keepLatest: 10
`;

function errorOf(run: () => unknown): PolicyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return error as PolicyError;
  }
  throw new Error('expected a PolicyError');
}

describe('parsePolicy', () => {
  it('reads YAML', () => {
    expect(parsePolicy(VALID).rules[0]).toMatchObject({ name: 'succeeded-after-7d', keepLatest: 10, olderThanMs: 7 * 86_400_000 });
  });

  it('turns a YAML syntax error into a PolicyError with line and column', () => {
    const error = errorOf(() => parsePolicy('version: 1\ntargets: [a, b\nrules: []\n', 'bad.yaml'));
    expect(error.message).toContain('bad.yaml');
    expect(error.issues[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  it('refuses duplicate keys instead of letting the last one win', () => {
    const error = errorOf(() => parsePolicy(VALID.replace('    keepLatest: 10\n', '    keepLatest: 10\n    keepLatest: 0\n')));
    expect(error.issues[0]?.message).toMatch(/line 11, column 5: Map keys must be unique/);
  });

  it.each(['', '\n', '# nothing but a comment\n'])('refuses an empty file (%j)', (text) => {
    expect(errorOf(() => parsePolicy(text)).issues).toEqual([{ path: '', message: 'the policy file is empty' }]);
  });

  it('refuses a file that is not a mapping', () => {
    expect(errorOf(() => parsePolicy('- 1\n- 2\n')).issues).toEqual([{ path: '', message: 'expected a mapping, got a list' }]);
  });

  it('refuses several documents in one file', () => {
    expect(errorOf(() => parsePolicy(`${VALID}---\n${VALID}`)).issues[0]?.message).toContain('YAML syntax error');
  });

  it('gives the line of an offending field and lists it in the message', () => {
    const error = errorOf(() => parsePolicy(VALID.replace('olderThan: 7d', 'olderThan: 7 days'), 'p.yaml'));
    expect(error.issues).toEqual([
      { path: 'rules[0].olderThan', message: 'expected <whole number><m|h|d|w> such as 7d, got "7 days"', line: 9 },
    ]);
    expect(error.message).toContain('p.yaml');
    expect(error.message).toContain('rules[0].olderThan: expected <whole number><m|h|d|w> such as 7d, got "7 days" (line 9)');
  });

  it('treats a __proto__ key as an unknown field, not as a prototype', () => {
    const error = errorOf(() => parsePolicy(`${VALID}__proto__:\n  dryRun: true\n`));
    expect(error.issues.map((i) => i.path)).toEqual(['__proto__']);
    expect(error.issues[0]?.message).toBe('unknown field');
  });

  it('refuses an unknown rule field written in YAML, naming it', () => {
    const error = errorOf(() => parsePolicy(VALID.replace('    keepLatest: 10\n', '    keepLatest: 10\n    dryrun: true\n')));
    expect(error.issues).toEqual([{ path: 'rules[0].dryrun', message: 'unknown field (did you mean dryRun?)', line: 11 }]);
  });
});

describe('loadPolicy', () => {
  it('reads a policy file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-load-'));
    const file = join(dir, 'policy.yaml');
    await writeFile(file, VALID);
    expect((await loadPolicy(file)).targets[0]?.endpoint).toBe('https://oms.cn-north-4.myhuaweicloud.com');
  });

  it('names the file in errors from it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-load-'));
    const file = join(dir, 'policy.yaml');
    await writeFile(file, 'version: 2\n');
    await expect(loadPolicy(file)).rejects.toThrow(file);
  });

  it('turns a missing file into a PolicyError naming it', async () => {
    const file = join(tmpdir(), 'no-such-dir-for-policy', 'missing.yaml');
    const error = await loadPolicy(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).message).toContain(file);
    expect((error as PolicyError).issues[0]?.message).toContain('no such file');
  });
});
