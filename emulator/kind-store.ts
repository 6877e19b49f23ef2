import { KINDS } from './kinds.js';
import type { Lifecycle, Status } from './kinds.js';
import { inspectRaw, itemJson } from './task-json.js';
import type { EmuSyncTask, EmuTask, EmuTaskGroup, RawTask } from './types.js';

type Item = Record<string, unknown>;

interface Entry<T extends Item> {
  item?: T;
  rawJson?: string;
  /** The id used to address the entry from a path; undefined when it has none. */
  id: string | undefined;
  sortTime: number;
  /** Status as given (raw entries: as parsed); the lifecycle below overrides it after a stop. */
  baseStatus: Status | undefined;
  /** When it was stopped: `stopping` until stoppedAtMs + stopDelayMs, `stopped` after. Computed lazily, no timers. */
  stoppedAtMs?: number;
  /** Given as creating: when it reads `lifecycle.creating.to` (createDelayMs after it was set). */
  createdAtMs?: number;
  /** The JSON text while it is unchanged (built on first listing). */
  json?: string;
}

export type StopOutcome = 'stopped' | 'missing' | 'not-migrating';
export type DeleteOutcome = 'deleted' | 'missing' | 'in-progress';

export interface ListQuery {
  limit: number;
  offset: number;
  status?: Status;
  groupId?: string;
}

/**
 * Every project's objects of one kind (tasks, task groups or sync tasks), with the stop lifecycle its `Lifecycle`
 * describes computed from the clock when read.
 */
export class KindStore<T extends Item> {
  private readonly projects = new Map<string, Entry<T>[]>();

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly now: () => number,
    private readonly stopDelayMs: number,
    private readonly pauseSettleMs: number,
    /** How long a task group given as creating stays creating; undefined: for ever (a test waits it out). */
    private readonly createDelayMs?: number,
  ) {}

  set(projectId: string, inputs: readonly (T | RawTask)[]): void {
    const at = this.now();
    // Sorted once here (sort times never change; deletes keep the order), so a list page costs a slice, not a sort.
    this.projects.set(projectId, inputs.map((input) => this.toEntry(input, at)).sort(newestFirst));
  }

  private status(e: Entry<T>): Status | undefined {
    if (e.stoppedAtMs === undefined) {
      const creating = this.lifecycle.creating;
      if (creating && e.createdAtMs !== undefined && this.now() >= e.createdAtMs) return creating.to;
      return e.baseStatus;
    }
    return this.now() - e.stoppedAtMs < this.stopDelayMs ? this.lifecycle.stopping : this.lifecycle.stopped;
  }

  private json(e: Entry<T>): string {
    const { idField, bareDigitIds } = this.lifecycle;
    if (e.rawJson !== undefined) return e.rawJson;
    if (e.stoppedAtMs !== undefined || e.createdAtMs !== undefined) return itemJson(e.item as T, idField, bareDigitIds, this.status(e));
    e.json ??= itemJson(e.item as T, idField, bareDigitIds, undefined);
    return e.json;
  }

  /** The page as JSON texts plus the count of everything matching, newest first (sort time desc, then id desc). */
  list(projectId: string, q: ListQuery): { items: string[]; count: number } {
    const all = this.projects.get(projectId) ?? [];
    const matching =
      q.status === undefined && q.groupId === undefined
        ? all
        : all.filter((e) => (q.status === undefined || this.status(e) === q.status) && (q.groupId === undefined || groupIdOf(e) === q.groupId));
    return { items: matching.slice(q.offset, q.offset + q.limit).map((e) => this.json(e)), count: matching.length };
  }

  show(projectId: string, id: string): string | undefined {
    const e = this.find(projectId, id);
    return e === undefined ? undefined : this.json(e);
  }

  /** Whether a delete would be refused now for its state, as a show would read it (settle time aside). */
  deleteRefused(projectId: string, id: string): boolean {
    const status = this.currentStatus(projectId, id);
    return status !== undefined && this.lifecycle.deleteRefused.includes(status);
  }

  /** Whether a stop would be refused now for its state (an existing item that is not in a stoppable state). */
  stopRefused(projectId: string, id: string): boolean {
    const e = this.find(projectId, id);
    return e !== undefined && !this.stoppable(e);
  }

  private stoppable(e: Entry<T>): boolean {
    const status = this.status(e);
    // Raw entries are frozen text: they cannot change status, so the emulator refuses to stop them. Nor is a stop
    // taken twice (a sync task still reads SYNCHRONIZING while it stops).
    return e.rawJson === undefined && e.stoppedAtMs === undefined && status !== undefined && this.lifecycle.stoppable.includes(status);
  }

  private currentStatus(projectId: string, id: string): Status | undefined {
    const e = this.find(projectId, id);
    return e === undefined ? undefined : this.status(e);
  }

  stop(projectId: string, id: string): StopOutcome {
    const e = this.find(projectId, id);
    if (e === undefined) return 'missing';
    if (!this.stoppable(e)) return 'not-migrating';
    e.stoppedAtMs = this.now();
    return 'stopped';
  }

  delete(projectId: string, id: string): DeleteOutcome {
    const list = this.projects.get(projectId) ?? [];
    const i = list.findIndex((e) => e.id === id);
    const e = list[i];
    if (e === undefined) return 'missing';
    const status = this.status(e);
    if (status !== undefined && this.lifecycle.deleteRefused.includes(status)) return 'in-progress';
    if (e.stoppedAtMs !== undefined && this.now() < e.stoppedAtMs + this.stopDelayMs + this.pauseSettleMs) {
      return 'in-progress'; // paused only just now: OMS still answers OMS.0063 for a moment
    }
    list.splice(i, 1);
    return 'deleted';
  }

  /** Removes every entry whose group_id is `groupId` (a deleted group's member tasks); their ids, in list order. */
  removeGroupMembers(projectId: string, groupId: string): string[] {
    const list = this.projects.get(projectId) ?? [];
    const [gone, kept] = [list.filter((e) => groupIdOf(e) === groupId), list.filter((e) => groupIdOf(e) !== groupId)];
    if (gone.length > 0) this.projects.set(projectId, kept);
    return gone.map((e) => e.id ?? '');
  }

  /** Current objects with the status a client would read now; raw entries as far as they parse. */
  snapshot(projectId: string): T[] {
    return (this.projects.get(projectId) ?? []).map((e) => {
      if (e.item !== undefined) return { ...e.item, ...(e.stoppedAtMs === undefined && e.createdAtMs === undefined ? {} : { status: this.status(e) }) };
      return { ...(inspectRaw(e.rawJson ?? '', this.lifecycle.idField).parsed ?? {}), [this.lifecycle.idField]: e.id ?? '' } as unknown as T;
    });
  }

  private find(projectId: string, id: string): Entry<T> | undefined {
    return (this.projects.get(projectId) ?? []).find((e) => e.id === id);
  }

  private toEntry(input: T | RawTask, nowMs: number): Entry<T> {
    const { idField, sortTime, readStatus, givenStopping } = this.lifecycle;
    if ('rawJson' in input && typeof input.rawJson === 'string') {
      const info = inspectRaw(input.rawJson, idField);
      return { rawJson: input.rawJson, id: info.id, sortTime: sortTime(info.parsed ?? {}), baseStatus: readStatus(info.parsed?.status) };
    }
    const item = { ...(input as T) };
    const id = item[idField];
    const entry: Entry<T> = {
      item,
      id: id === undefined || id === null ? undefined : String(id),
      sortTime: sortTime(item),
      baseStatus: readStatus(item.status),
    };
    // Given as pausing: it moves on to paused like a freshly stopped one, so no fixture stays pausing forever.
    if (givenStopping !== undefined && item.status === givenStopping) entry.stoppedAtMs = nowMs;
    const creating = this.lifecycle.creating;
    if (creating && this.createDelayMs !== undefined && item.status === creating.from) entry.createdAtMs = nowMs + this.createDelayMs;
    return entry;
  }
}

function groupIdOf(e: Entry<Item>): string | undefined {
  const value = e.item !== undefined ? e.item.group_id : inspectRaw(e.rawJson ?? '').parsed?.group_id;
  return value === undefined || value === null ? undefined : String(value);
}

function newestFirst(a: Entry<Item>, b: Entry<Item>): number {
  if (a.sortTime !== b.sortTime) return b.sortTime - a.sortTime;
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

/** One store per kind, as the server holds them. */
export interface KindStores {
  task: KindStore<EmuTask>;
  taskGroup: KindStore<EmuTaskGroup>;
  syncTask: KindStore<EmuSyncTask>;
}

export function createKindStores(now: () => number, stopDelayMs: number, pauseSettleMs: number, createDelayMs?: number): KindStores {
  return {
    task: new KindStore<EmuTask>(KINDS.task.lifecycle, now, stopDelayMs, pauseSettleMs),
    taskGroup: new KindStore<EmuTaskGroup>(KINDS.taskGroup.lifecycle, now, stopDelayMs, pauseSettleMs, createDelayMs),
    syncTask: new KindStore<EmuSyncTask>(KINDS.syncTask.lifecycle, now, stopDelayMs, pauseSettleMs),
  };
}
