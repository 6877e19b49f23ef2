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
  const taskIds = new Set<string>();
  for (const id of protect.taskIds) {
    taskIds.add(id);
    if (TASK_ID_DIGITS.test(id)) taskIds.add(canonicalTaskId(id));
  }
  const ids: Record<Kind, ReadonlySet<string>> = { task: taskIds, taskGroup: new Set(protect.taskGroupIds), syncTask: new Set(protect.syncTaskIds) };
  const names = protect.names.map(compileGlob);
  const descriptions = protect.descriptions.map(compileGlob);
  const buckets = protect.buckets.map(compileGlob);
  return (item) => {
    if (item.id !== null && ids[item.kind].has(item.id)) return true;
    if (item.kind === 'task') {
      return names.some((matches) => matches(item.name)) || (protect.groupTasks && item.groupType !== null && item.groupType !== NORMAL_TASK);
    }
    const { description = '', srcBucket = '', dstBucket = '' } = item;
    return descriptions.some((matches) => matches(description)) || buckets.some((matches) => matches(srcBucket) || matches(dstBucket));
  };
}
