/**
 * `protect` as a predicate over items of every kind. Protection only ever widens: each list adds items it keeps, an
 * id is matched in the form listed ids have (no leading zeros, for task ids) as well as exactly as written, and a
 * bucket glob protects a group or sync task whether the bucket is its source or its destination.
 */
import type { Item } from '../oms/item.js';
import type { Kind } from '../oms/kinds.js';
import { compileGlob } from './glob.js';
import { canonicalTaskId, TASK_ID_DIGITS } from './task-id.js';
import type { Protect } from './types.js';

/** The group_type of a plain task; anything else present means a task group or sync task owns it. */
const NORMAL_TASK = 'NORMAL_TASK';

export function compileProtection(protect: Protect): (item: Item) => boolean {
  const byIdOrName = compileTaskProtection(protect);
  const ids: Record<Exclude<Kind, 'task'>, ReadonlySet<string>> = {
    taskGroup: new Set(protect.taskGroupIds.map(caseOfUuid)),
    syncTask: new Set(protect.syncTaskIds.map(caseOfUuid)),
  };
  const descriptions = protect.descriptions.map(compileGlob);
  const buckets = protect.buckets.map(compileGlob);
  return (item) => {
    if (item.kind === 'task') return byIdOrName(item) || (protect.groupTasks && item.groupType !== null && item.groupType !== NORMAL_TASK);
    if (item.id !== null && ids[item.kind].has(caseOfUuid(item.id))) return true;
    const { description = '', srcBucket = '', dstBucket = '' } = item;
    return descriptions.some((matches) => matches(description)) || buckets.some((matches) => matches(srcBucket) || matches(dstBucket));
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A UUID-shaped group or sync task id in one case: a UUID names the same thing in either case, and an id copied from
 * a console in capitals must still protect (this only widens protection). Other ids are compared exactly.
 */
function caseOfUuid(id: string): string {
  return UUID.test(id) ? id.toLowerCase() : id;
}

/**
 * A task protected by `protect.taskIds` or `protect.names` (not by groupTasks). Such a task is never deleted, and
 * neither is the task group or sync task it is a member of (lib/purge/engine.ts membersHeld): OMS might delete a
 * group's members with it.
 */
export function compileTaskProtection(protect: Pick<Protect, 'taskIds' | 'names'>): (task: Item) => boolean {
  const taskIds = new Set<string>();
  for (const id of protect.taskIds) {
    taskIds.add(id);
    if (TASK_ID_DIGITS.test(id)) taskIds.add(canonicalTaskId(id));
  }
  const names = protect.names.map(compileGlob);
  return (task) => task.kind === 'task' && ((task.id !== null && taskIds.has(task.id)) || names.some((matches) => matches(task.name)));
}

/** Does the policy protect any task by id or name? */
export function protectsTasksByIdOrName(protect: Pick<Protect, 'taskIds' | 'names'>): boolean {
  return protect.taskIds.length > 0 || protect.names.length > 0;
}
