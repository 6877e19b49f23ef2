import type { EmuTask, TaskInput } from './types.js';
import { inspectRaw, taskJson } from './task-json.js';

export const STATUS = { waiting: 1, migrating: 2, paused: 3, failed: 4, succeeded: 5, retrying: 6, pausing: 7 } as const;
const STOPPABLE: readonly number[] = [STATUS.waiting, STATUS.migrating, STATUS.retrying];
const UNDELETABLE: readonly number[] = [STATUS.waiting, STATUS.migrating, STATUS.retrying, STATUS.pausing];

interface Entry {
  task?: EmuTask;
  rawJson?: string;
  /** The id used to address the entry from a path; undefined when it has none. */
  id: string | undefined;
  startTime: number;
  /** Status as given (raw entries: as parsed); the lifecycle below overrides it after a stop. */
  baseStatus: number | undefined;
  /** When it was stopped: pausing until stoppedAtMs + stopDelayMs, paused after. Computed lazily, no timers. */
  stoppedAtMs?: number;
  /** The task's JSON text while it is unchanged (built on first listing). */
  json?: string;
}

export type StopOutcome = 'stopped' | 'missing' | 'not-migrating';
export type DeleteOutcome = 'deleted' | 'missing' | 'in-progress';

export interface ListQuery {
  limit: number;
  offset: number;
  status?: number;
  groupId?: string;
}

/** Every project's tasks, with the stop/pause lifecycle computed from the clock when read. */
export class TaskStore {
  private readonly projects = new Map<string, Entry[]>();

  constructor(
    private readonly now: () => number,
    private readonly stopDelayMs: number,
    private readonly pauseSettleMs: number,
  ) {}

  set(projectId: string, inputs: readonly TaskInput[]): void {
    const at = this.now();
    // Sorted once here (start_time never changes; deletes keep the order), so a list page costs a slice, not a sort.
    this.projects.set(projectId, inputs.map((input) => toEntry(input, at)).sort(newestFirst));
  }

  status(e: Entry): number | undefined {
    if (e.stoppedAtMs === undefined) return e.baseStatus;
    return this.now() - e.stoppedAtMs < this.stopDelayMs ? STATUS.pausing : STATUS.paused;
  }

  private json(e: Entry): string {
    if (e.rawJson !== undefined) return e.rawJson;
    if (e.stoppedAtMs !== undefined) return taskJson(e.task as EmuTask, this.status(e));
    e.json ??= taskJson(e.task as EmuTask, undefined);
    return e.json;
  }

  /** The page as JSON texts plus the count of everything matching, newest first (start_time desc, then id desc). */
  list(projectId: string, q: ListQuery): { tasks: string[]; count: number } {
    const all = this.projects.get(projectId) ?? [];
    const matching =
      q.status === undefined && q.groupId === undefined
        ? all
        : all.filter((e) => (q.status === undefined || this.status(e) === q.status) && (q.groupId === undefined || groupId(e) === q.groupId));
    return { tasks: matching.slice(q.offset, q.offset + q.limit).map((e) => this.json(e)), count: matching.length };
  }

  show(projectId: string, id: string): string | undefined {
    const e = this.find(projectId, id);
    return e === undefined ? undefined : this.json(e);
  }

  stop(projectId: string, id: string): StopOutcome {
    const e = this.find(projectId, id);
    if (e === undefined) return 'missing';
    const status = this.status(e);
    // Raw entries are frozen text: they cannot change status, so the emulator refuses to stop them.
    if (e.rawJson !== undefined || status === undefined || !STOPPABLE.includes(status)) return 'not-migrating';
    e.stoppedAtMs = this.now();
    return 'stopped';
  }

  delete(projectId: string, id: string): DeleteOutcome {
    const list = this.projects.get(projectId) ?? [];
    const i = list.findIndex((e) => e.id === id);
    const e = list[i];
    if (e === undefined) return 'missing';
    const status = this.status(e);
    if (status !== undefined && UNDELETABLE.includes(status)) return 'in-progress';
    if (e.stoppedAtMs !== undefined && this.now() < e.stoppedAtMs + this.stopDelayMs + this.pauseSettleMs) {
      return 'in-progress'; // paused only just now: OMS still answers OMS.0063 for a moment
    }
    list.splice(i, 1);
    return 'deleted';
  }

  has(projectId: string, id: string): boolean {
    return this.find(projectId, id) !== undefined;
  }

  /** Current tasks with the status a client would read now; raw entries as far as they parse. */
  snapshot(projectId: string): EmuTask[] {
    return (this.projects.get(projectId) ?? []).map((e) => {
      if (e.task !== undefined) return { ...e.task, ...(e.stoppedAtMs === undefined ? {} : { status: this.status(e) }) };
      return { ...(inspectRaw(e.rawJson ?? '').parsed ?? {}), id: e.id ?? '' };
    });
  }

  private find(projectId: string, id: string): Entry | undefined {
    return (this.projects.get(projectId) ?? []).find((e) => e.id === id);
  }
}

function toEntry(input: TaskInput, nowMs: number): Entry {
  if ('rawJson' in input && typeof input.rawJson === 'string') {
    const info = inspectRaw(input.rawJson);
    const start = info.parsed?.start_time;
    const status = info.parsed?.status;
    return {
      rawJson: input.rawJson,
      id: info.id,
      startTime: typeof start === 'number' && Number.isFinite(start) ? start : 0,
      baseStatus: typeof status === 'number' ? status : undefined,
    };
  }
  const task = { ...(input as EmuTask) };
  const entry: Entry = {
    task,
    id: task.id === undefined || task.id === null ? undefined : String(task.id),
    startTime: typeof task.start_time === 'number' ? task.start_time : 0,
    baseStatus: typeof task.status === 'number' ? task.status : undefined,
  };
  // A task given as pausing moves on to paused like a freshly stopped one, so no fixture stays pausing forever.
  if (task.status === STATUS.pausing) entry.stoppedAtMs = nowMs;
  return entry;
}

function groupId(e: Entry): string | undefined {
  const value = e.task !== undefined ? e.task.group_id : inspectRaw(e.rawJson ?? '').parsed?.group_id;
  return value === undefined || value === null ? undefined : String(value);
}

function newestFirst(a: Entry, b: Entry): number {
  if (a.startTime !== b.startTime) return b.startTime - a.startTime;
  return compareIds(b.id, a.id);
}

function compareIds(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  const digits = /^[0-9]+$/;
  if (digits.test(a) && digits.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : 1;
}
