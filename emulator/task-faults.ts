import type { KindName } from './kinds.js';
import type { TaskFault } from './types.js';

/**
 * Per-object answers set by tests (a 403 APIGW.0306 on one task, a 400 OMS.0054...), consumed `times` times. Keyed by
 * kind too, so a fault set on task "123" never answers for a group or sync task of the same id.
 */
export class TaskFaults {
  private readonly faults = new Map<string, TaskFault[]>();

  set(kind: KindName, projectId: string, id: string, fault: TaskFault): void {
    const key = `${kind}/${projectId}/${id}`;
    this.faults.set(key, [...(this.faults.get(key) ?? []), { ...fault }]);
  }

  /** The fault that answers this request, if any; spends one of its `times`. */
  take(kind: KindName, projectId: string, id: string, method: string): TaskFault | undefined {
    const list = this.faults.get(`${kind}/${projectId}/${id}`);
    const fault = list?.find((f) => (f.method === undefined || f.method === method) && (f.times === undefined || f.times > 0));
    if (fault?.times !== undefined) fault.times -= 1;
    return fault;
  }
}
