/**
 * Turns zod's issues into `PolicyIssue`s that name their place in the file the way a user reads it
 * (`rules[1].olderThan`, `limits.maxdeletes`), one issue per unknown field so each typo is named.
 */
import type { z } from 'zod';
import type { PolicyIssue } from './policy-error.js';
import { POLICY_FIELD_NAMES } from './schema.js';

type Path = readonly PropertyKey[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `['rules', 1, 'olderThan']` -> `rules[1].olderThan`; odd keys are quoted: `rules[0]["dry run"]`. */
export function formatPath(path: Path): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) text += text === '' ? key : `.${key}`;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}

/** Zod issues as policy issues, each with its path kept as keys too (for placing it on a line). */
export function toPolicyIssues(issues: readonly z.core.$ZodIssue[]): { path: Path; issue: PolicyIssue }[] {
  const out: { path: Path; issue: PolicyIssue }[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        out.push({ path, issue: { path: formatPath(path), message: `unknown field${hint(key)}` } });
      }
    } else {
      out.push({ path: issue.path, issue: { path: formatPath(issue.path), message: issue.message } });
    }
  }
  return out;
}

// Typos of a known field usually differ only in case (`dryrun`, `olderthan`): name the field that was meant.
function hint(key: string): string {
  const meant = POLICY_FIELD_NAMES.find((name) => name.toLowerCase() === key.toLowerCase());
  return meant === undefined ? '' : ` (did you mean ${meant}?)`;
}
