/**
 * `protect` as a predicate. Protection only ever widens: an id is matched in the form listed ids have (no leading
 * zeros) as well as exactly as written, so a protected id can never miss its task over formatting.
 */
import { compileGlob } from './glob.js';
import { canonicalTaskId, TASK_ID_DIGITS } from './task-id.js';
import type { Task } from '../oms/task.js';
import type { Protect } from './types.js';

/** The group_type of a plain task; anything else present means a task group or sync task owns it. */
const NORMAL_TASK = 'NORMAL_TASK';

export function compileProtection(protect: Protect): (task: Task) => boolean {
  const ids = new Set<string>();
  for (const id of protect.taskIds) {
    ids.add(id);
    if (TASK_ID_DIGITS.test(id)) ids.add(canonicalTaskId(id));
  }
  const names = protect.names.map(compileGlob);
  return (task) =>
    (task.id !== null && ids.has(task.id)) ||
    names.some((matches) => matches(task.name)) ||
    (protect.groupTasks && task.groupType !== null && task.groupType !== NORMAL_TASK);
}
