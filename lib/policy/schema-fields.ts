/**
 * Field-level schemas of the policy file, each with an error message that says what was expected and what was
 * found. Assembled into the whole file in schema.ts.
 */
import { z } from 'zod';
import { isValidId } from '../oms/item.js';
import { KINDS } from '../oms/kinds.js';
import { parseDuration } from './duration.js';
import { canonicalTaskId, TASK_ID_DIGITS } from './task-id.js';

/** A short, printable rendering of a value the user wrote, for "got ..." in messages. */
export function show(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** `required` for a missing field, otherwise `<expected>, got <value>`. */
function expecting(expected: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? 'required' : `expected ${expected}, got ${show(issue.input)}`;
}

/**
 * A label (target or rule name): shown in logs, tables and `--target NAME`, so it must read back exactly as written.
 */
export const label = z
  .string({ error: expecting('a non-empty name') })
  .refine((s) => s.length >= 1 && s.length <= 100, { error: 'must be 1 to 100 characters long' })
  .refine((s) => s.trim() === s && !/\p{Cc}/u.test(s), {
    error: 'must not start or end with spaces or contain control characters',
  });

/** A whole number in [min, max]; `max` undefined means only the safe-integer bound. */
export function wholeNumber(min: number, max?: number) {
  const expected = max === undefined ? `a whole number of ${min} or more` : `a whole number from ${min} to ${max}`;
  const upper = max ?? Number.MAX_SAFE_INTEGER;
  return z
    .number({ error: expecting(expected) })
    .refine((n) => Number.isSafeInteger(n) && n >= min && n <= upper, { error: expecting(expected) });
}

/** A number in (0, max]: fractions allowed (0.5 requests per second, 12.5 percent). */
export function positiveNumber(max: number, hint = '') {
  const expected = `a number greater than 0 and at most ${max}`;
  return z
    .number({ error: expecting(expected) })
    .refine((n) => n > 0 && n <= max, { error: (issue) => `${expecting(expected)(issue)}${hint}` });
}

export const flag = z.boolean({ error: expecting('true or false') });

/** A duration, kept as written (for logs) together with its milliseconds. */
export const duration = z
  .string({ error: expecting('<whole number><m|h|d|w> such as 7d') })
  .transform((text, ctx) => {
    const result = parseDuration(text);
    if (!result.ok) {
      ctx.addIssue({ code: 'custom', message: result.message });
      return z.NEVER;
    }
    return { text, ms: result.ms };
  });

/** A status name; which names are valid depends on the rule's kind (schema-checks.ts `statusesOfKind`). */
export const statusName = z.string({ error: expecting('a status name') });

export const kind = z.enum(KINDS, { error: expecting(`a kind (${KINDS.join(', ')})`) });

/**
 * A task group or sync task id: a string, as OMS lists it. Any string is accepted, so that protection only widens;
 * one that could never be a valid id (lib/oms/item.ts) simply protects nothing that could be deleted. An unquoted
 * number is refused: YAML reads 0123, 1e3 or 0x1F as numbers whose digits are not what was written, and the id
 * protected would be another one.
 */
export const stringId = z.unknown().transform((value, ctx) => {
  // Only an id that a listed group or sync task can have (lib/oms/item.ts isValidId): anything else could never
  // match, and a protection that silently protects nothing is the worst kind of typo.
  if (typeof value === 'string' && isValidId('taskGroup', value)) return value;
  const message =
    value === undefined
      ? 'required'
      : typeof value === 'number' || typeof value === 'bigint'
        ? `the number ${show(value)} may not be the id as written (YAML reads 0123, 1e3 or 0x1F as other numbers); quote the id`
        : typeof value === 'string' && value.trim() !== value && isValidId('taskGroup', value.trim())
          ? `${show(value)} has spaces around the id: it could never match a listed id; write ${show(value.trim())}`
          : `expected an id as OMS lists it (1 to 1024 letters, digits, _, - and ., not starting with .), quoted, got ${show(value)}: it could never match a listed id`;
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
});

/** A glob: `*` any run of characters, `?` one character, the rest literal. */
export const glob = z
  .string({ error: expecting('a name pattern such as "nightly-*"') })
  .refine((s) => s.length > 0, { error: 'must not be empty' });

const TASK_ID_EXPECTED = 'a task id of 1 to 19 digits, quoted, such as "191297407830872"';

/**
 * A protected task id. Quoted strings are read as written. A YAML number is accepted only while it is a safe
 * integer: above 2^53 the YAML reader would already have had to round it (load.ts reads integers as BigInt so that
 * such a number arrives here unrounded and can be refused instead of protecting some other task). The id is
 * stored without leading zeros, the form listed ids have, so `"0042"` protects task 42.
 */
export const taskId = z.unknown().transform((value, ctx) => {
  if (typeof value === 'string' && TASK_ID_DIGITS.test(value)) return canonicalTaskId(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  // A whole number too large to be exact: the user meant an id, and quoting it is the fix.
  const unexact = typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value) && value > 0);
  ctx.addIssue({
    code: 'custom',
    message: unexact
      ? `the number ${show(value)} is too large to be read exactly (above 2^53); quote the task id: "${show(value)}"`
      : value === undefined
        ? 'required'
        : `expected ${TASK_ID_EXPECTED}, got ${show(value)}`,
  });
  return z.NEVER;
});

/** The error map for whatever the field schemas above do not word themselves (mostly "expected a mapping"). */
export function describeIssue(issue: { code?: string; expected?: string; input?: unknown }): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return 'required';
  const expected = issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : issue.expected;
  return `expected ${expected ?? 'something else'}, got ${show(issue.input)}`;
}
