/**
 * keepLatest windows. Each rule with `keepLatest: N` keeps the N newest tasks it covers (status and name pattern,
 * age ignored), newest last activity first, ties broken by the larger id. A task kept by any rule is never deleted.
 *
 * Who may occupy a window decides how much gets deleted, so only tasks that could otherwise be deleted do:
 * unprotected, valid id, known status, known age. A protected, malformed or ageless task in a window would take a
 * slot while surviving anyway, and the window would keep one deletable task fewer than the user asked for.
 */
import type { Task } from '../oms/task.js';
import type { CompiledRule } from './rule-match.js';
import { compareTaskIds } from './task-id.js';

type EligibleTask = Task & { id: string; lastActivityMs: number };

/**
 * Ids kept by some rule's window. `unprotected` must not contain protected tasks and should hold each id once;
 * tasks without a valid id or a known age are left out here. Status is checked by `covers`.
 */
export function keptByWindows(unprotected: readonly Task[], rules: readonly CompiledRule[]): Set<string> {
  const eligible = unprotected.filter(isEligible);
  const kept = new Set<string>();
  for (const compiled of rules) {
    const n = compiled.rule.keepLatest;
    if (!(n > 0)) continue;
    const window = eligible.filter((task) => compiled.covers(task)).sort(newestFirst).slice(0, n);
    for (const task of window) kept.add(task.id);
  }
  return kept;
}

function isEligible(task: Task): task is EligibleTask {
  return task.id !== null && task.lastActivityMs !== null;
}

function newestFirst(a: EligibleTask, b: EligibleTask): number {
  return b.lastActivityMs - a.lastActivityMs || compareTaskIds(b.id, a.id);
}
