import type { TaskFault } from './types.js';

/** Per-task answers set by tests (a 403 APIGW.0306 on one task, a 400 OMS.0054...), consumed `times` times. */
export class TaskFaults {
  private readonly faults = new Map<string, TaskFault[]>();

  set(projectId: string, taskId: string, fault: TaskFault): void {
    const key = `${projectId}/${taskId}`;
    this.faults.set(key, [...(this.faults.get(key) ?? []), { ...fault }]);
  }

  /** The fault that answers this request, if any; spends one of its `times`. */
  take(projectId: string, taskId: string, method: string): TaskFault | undefined {
    const list = this.faults.get(`${projectId}/${taskId}`);
    const fault = list?.find((f) => (f.method === undefined || f.method === method) && (f.times === undefined || f.times > 0));
    if (fault?.times !== undefined) fault.times -= 1;
    return fault;
  }
}
