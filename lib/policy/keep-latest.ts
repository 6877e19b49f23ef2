/**
 * keepLatest windows, as the README's "Selection, exactly" words them: each rule with `keepLatest: N` keeps, of the
 * unprotected tasks with a known age that match the rule's statuses and name pattern (age ignored), the N with the
 * newest last activity, ties broken by the larger id. A task kept by any rule is never deleted.
 *
 * Nothing else decides who occupies a window. In particular a task with a malformed id takes a slot like any other
 * (it is itself never deleted, having no id to put in a URL). A tie in last activity between a valid and a malformed
 * id goes to the valid id: malformed ids order below every valid one, and among themselves keep listing order.
 */
import type { Item } from '../oms/item.js';
import type { CompiledRule } from './rule-match.js';
import { compareTaskIds } from './task-id.js';

type AgedTask = Item & { lastActivityMs: number };

/**
 * The items kept by some rule's window. `listed` should hold each valid id once; protected items take no slot, items
 * of unknown age are left out here, kind, status and patterns are checked by `covers`. Items with a malformed id fill
 * slots but, having no id, are not in the returned set (they are never deleted anyway). Without a window nothing is
 * copied (a listing may hold 100,000 items).
 */
export function keptByWindows(listed: readonly Item[], protectedItems: ReadonlySet<Item>, rules: readonly CompiledRule[]): Set<Item> {
  const kept = new Set<Item>();
  const windows = rules.filter((compiled) => compiled.rule.keepLatest > 0);
  if (windows.length === 0) return kept;
  const aged = listed.filter((item): item is AgedTask => hasKnownAge(item) && !protectedItems.has(item));
  for (const compiled of windows) {
    const window = aged.filter((task) => compiled.covers(task)).sort(newestFirst).slice(0, compiled.rule.keepLatest);
    for (const task of window) if (task.id !== null) kept.add(task);
  }
  return kept;
}

function hasKnownAge(task: Item): task is AgedTask {
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
