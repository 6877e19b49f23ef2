/**
 * OMS task ids as the janitor handles them: decimal digit strings, never numbers (an int64 above 2^53 would be
 * rounded into another task's id). lib/oms/task.ts decides which listed ids are valid; this file orders and
 * compares them.
 */

/** What a policy may write as a task id: 1 to 19 decimal digits. */
export const TASK_ID_DIGITS = /^[0-9]{1,19}$/;

/**
 * Numeric order of two digit strings without converting them: a longer string is larger, equal lengths compare
 * lexicographically. Exact for any length, unlike Number(). Assumes canonical forms (no leading zeros), which is
 * what lib/oms/task.ts produces for valid ids; see `canonicalTaskId` for policy-written ids.
 */
export function compareTaskIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `0042` -> `42`, `000` -> `0`: the form lib/oms/task.ts gives valid ids, so that equal numbers compare equal. */
export function canonicalTaskId(digits: string): string {
  return digits.replace(/^0+(?=[0-9])/, '');
}
