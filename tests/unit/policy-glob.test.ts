import { describe, expect, it } from '@jest/globals';
import { compileGlob, globMatches } from '../../lib/policy/glob.js';

describe('glob', () => {
  it.each([
    ['nightly-*', 'nightly-2024/01', true],
    ['nightly-*', 'nightly-', true],
    ['nightly-*', 'Nightly-1', false],
    ['nightly-*', 'x-nightly-1', false],
    ['*', '', true],
    ['*', 'a/b/c', true],
    ['', '', true],
    ['', 'a', false],
    ['?', '', false],
    ['?', 'a', true],
    ['?', 'ab', false],
    ['?', '😀', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbYcZ', false],
    ['a*b', 'abab', true],
    ['*.log', 'x.log', true],
    ['*.log', 'xlog', false],
    ['a+b', 'aab', false],
    ['a+b', 'a+b', true],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['a\\*', 'a\\xyz', true],
    ['a\\*', 'a*', false],
    ['$^', '$^', true],
    ['**a', 'xa', true],
  ])('%j on %j is %s', (pattern, name, expected) => {
    expect(globMatches(pattern, name)).toBe(expected);
  });

  it('stays fast on patterns that make backtracking regexes explode', () => {
    const matches = compileGlob('*a*a*a*a*a*a*a*a*a*a*b');
    const name = 'a'.repeat(5000);
    const started = Date.now();
    expect(matches(name)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reuses a compiled matcher', () => {
    const matches = compileGlob('job-?');
    expect(['job-1', 'job-22', 'job-3'].map(matches)).toEqual([true, false, true]);
  });
});
