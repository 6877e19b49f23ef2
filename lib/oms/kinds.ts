/**
 * The three kinds of OMS resource the janitor cleans, as one model (shared/oms-api.md): migration tasks, task groups
 * and sync tasks. Each kind says how its statuses are named, which of them are in progress (pause first), which is
 * the paused state a delete waits for, and where it lives in the API. Everything else (selection, the client, the
 * engine, the summary) is written once against this model; nothing is copied per kind.
 */

export const KINDS = ['task', 'taskGroup', 'syncTask'] as const;
export type Kind = (typeof KINDS)[number];

/** A status as the API lists it: an integer for tasks and groups, a word for sync tasks. */
export type RawStatus = number | string;

export interface KindModel {
  kind: Kind;
  /** In words, for messages and tables: `task`, `task group`, `sync task`. */
  noun: string;
  /** The field that carries an id of this kind in log lines (tasks: `taskId`, as always). */
  logIdField: 'taskId' | 'taskGroupId' | 'syncTaskId';
  /** Status name (as a policy writes it) -> the value the API lists. */
  statuses: Readonly<Record<string, RawStatus>>;
  /** Names a rule may use: every status but those that mean a delete is already under way. */
  ruleStatuses: readonly string[];
  /** Cannot be deleted as they are: only a rule with stopFirst may select them (pause or stop, wait, delete). */
  inProgress: readonly string[];
  /** The state after a pause (or stop) that may be deleted. */
  paused: string;
  /** Being paused already: no second pause is sent. */
  pausing?: string;
  /** Finished states: one reached during our pause is left to the next run's rules (`finished-during-pause`). */
  finished: readonly string[];
  /** A delete is already under way (task groups 8 and 9): never selected; seen after a pause, it counts as gone. */
  deleting: readonly string[];
  api: {
    /** The collection's path segment: /v2/{project_id}/{collection}. */
    collection: 'tasks' | 'taskgroups' | 'sync-tasks';
    /** The list answer's array. */
    listKey: 'tasks' | 'taskgroups';
    /** The id's field in a listed or shown object. */
    idField: 'id' | 'group_id' | 'sync_task_id';
    pauseMethod: 'POST' | 'PUT';
  };
}

const TASK: KindModel = {
  kind: 'task',
  noun: 'task',
  logIdField: 'taskId',
  statuses: { waiting: 1, migrating: 2, paused: 3, failed: 4, succeeded: 5, retrying: 6, pausing: 7 },
  ruleStatuses: ['waiting', 'migrating', 'paused', 'failed', 'succeeded', 'retrying', 'pausing'],
  inProgress: ['waiting', 'migrating', 'retrying', 'pausing'],
  paused: 'paused',
  pausing: 'pausing',
  finished: ['succeeded', 'failed'],
  deleting: [],
  api: { collection: 'tasks', listKey: 'tasks', idField: 'id', pauseMethod: 'POST' },
};

const TASK_GROUP: KindModel = {
  kind: 'taskGroup',
  noun: 'task group',
  logIdField: 'taskGroupId',
  statuses: {
    waiting: 0,
    executing: 1,
    monitoring: 2,
    paused: 3,
    creationFailed: 4,
    failed: 5,
    succeeded: 6,
    pausing: 7,
    waitingForDeletion: 8,
    deleting: 9,
  },
  ruleStatuses: ['waiting', 'executing', 'monitoring', 'paused', 'creationFailed', 'failed', 'succeeded', 'pausing'],
  inProgress: ['waiting', 'executing', 'monitoring', 'pausing'],
  paused: 'paused',
  pausing: 'pausing',
  finished: ['creationFailed', 'failed', 'succeeded'],
  deleting: ['waitingForDeletion', 'deleting'],
  api: { collection: 'taskgroups', listKey: 'taskgroups', idField: 'group_id', pauseMethod: 'PUT' },
};

const SYNC_TASK: KindModel = {
  kind: 'syncTask',
  noun: 'sync task',
  logIdField: 'syncTaskId',
  statuses: { synchronizing: 'SYNCHRONIZING', stopped: 'STOPPED' },
  ruleStatuses: ['synchronizing', 'stopped'],
  inProgress: ['synchronizing'],
  paused: 'stopped',
  finished: [],
  deleting: [],
  api: { collection: 'sync-tasks', listKey: 'tasks', idField: 'sync_task_id', pauseMethod: 'POST' },
};

export const KIND_MODELS: Readonly<Record<Kind, KindModel>> = { task: TASK, taskGroup: TASK_GROUP, syncTask: SYNC_TASK };

const NAME_BY_RAW: Readonly<Record<Kind, ReadonlyMap<RawStatus, string>>> = {
  task: byRaw(TASK),
  taskGroup: byRaw(TASK_GROUP),
  syncTask: byRaw(SYNC_TASK),
};

function byRaw(model: KindModel): Map<RawStatus, string> {
  return new Map(Object.entries(model.statuses).map(([name, raw]) => [raw, name]));
}

/** The name of a known status of this kind, or undefined for anything else (a task's 0, a group's 42, null). */
export function statusName(kind: Kind, raw: RawStatus | null): string | undefined {
  return raw === null ? undefined : NAME_BY_RAW[kind].get(raw);
}

/** The listed value of a status name of this kind (`paused` -> 3 for tasks, `stopped` -> "STOPPED"). */
export function statusValue(kind: Kind, name: string): RawStatus | undefined {
  return Object.hasOwn(KIND_MODELS[kind].statuses, name) ? KIND_MODELS[kind].statuses[name] : undefined;
}

export function isInProgress(kind: Kind, raw: RawStatus | null): boolean {
  const name = statusName(kind, raw);
  return name !== undefined && KIND_MODELS[kind].inProgress.includes(name);
}

/** Is `status` the named state of this kind (`isStatus('task', 3, 'paused')`)? */
export function isStatus(kind: Kind, raw: RawStatus | null, name: string): boolean {
  return raw !== null && raw === statusValue(kind, name);
}

export function isKind(value: unknown): value is Kind {
  return typeof value === 'string' && (KINDS as readonly string[]).includes(value);
}
