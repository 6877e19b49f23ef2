/** A retention rule prepared for matching: its statuses as a set and its name pattern compiled once. */
import { statusName } from '../oms/status.js';
import type { Task } from '../oms/task.js';
import { compileGlob } from './glob.js';
import type { NameMatcher } from './glob.js';
import type { Rule } from './types.js';

/** The rule label `select` gives an explicit purge (`--task-id`); a rule may not take it, or reports would lie. */
export const EXPLICIT_PURGE_RULE = 'task-id';

export interface CompiledRule {
  rule: Rule;
  /** Status and name pattern match, age ignored: who a rule is about (and whose keepLatest window a task is in). */
  covers(task: Task): boolean;
  /** `covers` and strictly older than `olderThan` at `nowMs`. A task of unknown age never matches. */
  matches(task: Task, nowMs: number): boolean;
}

export function compileRule(rule: Rule): CompiledRule {
  const statuses = new Set<string>(rule.statuses);
  const name: NameMatcher | undefined = rule.namePattern === undefined ? undefined : compileGlob(rule.namePattern);
  const covers = (task: Task): boolean => {
    const status = statusName(task.status);
    return status !== undefined && statuses.has(status) && (name === undefined || name(task.name));
  };
  return {
    rule,
    covers,
    // Strictly greater: a task exactly `olderThan` old is not yet due. A last activity in the future (clock skew)
    // gives a negative age and never matches.
    matches: (task, nowMs) =>
      task.lastActivityMs !== null && covers(task) && nowMs - task.lastActivityMs > rule.olderThanMs,
  };
}
