/**
 * Globs for `namePattern` and `protect.names`: `*` is any run of characters (none included, `/` included), `?` is
 * exactly one character, everything else is literal (there is no escape character: `\` is literal too). The whole
 * name must match, case-sensitively.
 *
 * Not compiled to a RegExp on purpose: `*a*a*a*b` as a backtracking regex is polynomial with a degree equal to the
 * number of stars, and one careless pattern should not time out a run. The matcher below is the classic
 * greedy-star algorithm with a single backtrack point: O(name x pattern) at worst, and no metacharacter can ever
 * be special because nothing is ever handed to a regex engine.
 */

/** A compiled glob: call it with a task name. */
export type NameMatcher = (name: string) => boolean;

type Token = { kind: 'star' } | { kind: 'one' } | { kind: 'literal'; char: string };

/** Compiles `pattern` once; reuse the returned matcher for every task. */
export function compileGlob(pattern: string): NameMatcher {
  const tokens = tokenize(pattern);
  return (name: string) => matchTokens(tokens, Array.from(name));
}

/** One-off convenience; prefer `compileGlob` in loops. */
export function globMatches(pattern: string, name: string): boolean {
  return compileGlob(pattern)(name);
}

// Characters are Unicode code points (Array.from), so `?` matches one emoji, not half of a surrogate pair.
// Consecutive stars collapse into one: they mean the same and would only add backtracking.
function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  for (const char of Array.from(pattern)) {
    if (char === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (char === '?') {
      tokens.push({ kind: 'one' });
    } else {
      tokens.push({ kind: 'literal', char });
    }
  }
  return tokens;
}

function matchTokens(tokens: readonly Token[], chars: readonly string[]): boolean {
  let t = 0;
  let c = 0;
  // Where to resume after the most recent star: the token after it, and the character it has swallowed up to.
  let starToken = -1;
  let starChar = 0;
  while (c < chars.length) {
    const token = tokens[t];
    if (token !== undefined && token.kind === 'star') {
      starToken = t;
      starChar = c;
      t += 1;
    } else if (token !== undefined && (token.kind === 'one' || token.char === chars[c])) {
      t += 1;
      c += 1;
    } else if (starToken >= 0) {
      // Mismatch after a star: let the star swallow one more character and retry from there. Only the latest star
      // needs revisiting: any earlier star's choices are subsumed by it.
      t = starToken + 1;
      starChar += 1;
      c = starChar;
    } else {
      return false;
    }
  }
  // The name is used up: what is left of the pattern must be stars only (after collapsing, at most one).
  while (t < tokens.length && tokens[t]?.kind === 'star') t += 1;
  return t === tokens.length;
}
