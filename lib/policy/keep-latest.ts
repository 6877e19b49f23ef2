/**
 * keepLatest windows, as shared/spec.md "Selection, exactly" words them: each rule with `keepLatest: N` keeps, of the
 * unprotected tasks with a known age that match the rule's statuses and name pattern (age ignored), the N with the
 * newest last activity, ties broken by the larger id. A task kept by any rule is never deleted.
 *
 * Nothing else decides who occupies a window. In particular a task with a malformed id takes a slot like any other
 * (it is itself never deleted, having no id to put in a URL). A tie in last activity between a valid and a malformed
 * id goes to the valid id: malformed ids order below every valid one, and among themselves keep listing order.
 */
import type { Task } from '../oms/task.js';
import type { CompiledRule } from './rule-match.js';
import { compareTaskIds } from './task-id.js';

type AgedTask = Task & { lastActivityMs: number };

/**
 * Ids kept by some rule's window. `unprotected` must not contain protected tasks and should hold each valid id once;
 * tasks of unknown age are left out here, status and name pattern are checked by `covers`. Tasks with a malformed id
 * fill slots but, having no id, are not in the returned set.
 */
export function keptByWindows(unprotected: readonly Task[], rules: readonly CompiledRule[]): Set<string> {
  const aged = unprotected.filter(hasKnownAge);
  const kept = new Set<string>();
  for (const compiled of rules) {
    const n = compiled.rule.keepLatest;
    if (!(n > 0)) continue;
    const window = aged.filter((task) => compiled.covers(task)).sort(newestFirst).slice(0, n);
    for (const task of window) if (task.id !== null) kept.add(task.id);
  }
  return kept;
}

function hasKnownAge(task: Task): task is AgedTask {
  return task.lastActivityMs !== null;
}

/** Newest last activity first; ties: larger id first, a malformed id after every valid one. */
function newestFirst(a: AgedTask, b: AgedTask): number {
  return b.lastActivityMs - a.lastActivityMs || largerIdFirst(a.id, b.id);
}

function largerIdFirst(a: string | null, b: string | null): number {
  if (a === null || b === null) return (a === null ? 1 : 0) - (b === null ? 1 : 0);
  return compareTaskIds(b, a);
}
