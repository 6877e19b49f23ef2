/**
 * The three kinds of OMS resource the janitor cleans, as one model: migration tasks, task groups and sync tasks.
 * Each kind says how its statuses are named, which of them are in progress (a rule needs stopFirst), what OMS lets
 * a client do in each state (docs/behaviour.md "What each state gets", with Huawei's sources), the paused state a
 * delete waits for, and where it lives in the API. Everything else (selection, the client, the engine, the summary)
 * is written once against this model; nothing is copied per kind.
 */

export const KINDS = ['task', 'taskGroup', 'syncTask'] as const;
export type Kind = (typeof KINDS)[number];

/** A status as the API lists it: an integer for tasks and groups, a word for sync tasks. */
export type RawStatus = number | string;

/**
 * What OMS lets a client do with an item in one state, and so what the janitor does with a selected one:
 * - `delete`: OMS deletes it as it is; nothing is paused first (even a busy-looking one, such as a waiting task);
 * - `pause`: OMS refuses its delete (OMS.0063) and accepts a pause (a sync task: a stop): pause, wait for the paused
 *   state, then delete;
 * - `wait`: OMS neither pauses nor deletes it: it is only looked at until it leaves the state, never sent a pause or
 *   a delete while in it, and deferred at the deadline with the state's wait label as the reason (`creating`,
 *   `pausing`), never counted as failed;
 * - `finished`: deletes as it is; one that a look finds finished after it was selected in another state is left to
 *   the next run's rules (`finished-during-pause`);
 * - `deleting`: a delete is already under way: never selected, nothing is sent.
 */
export type Handling = 'delete' | 'pause' | 'wait' | 'finished' | 'deleting';

export interface KindModel {
  kind: Kind;
  /** In words, for messages and tables: `task`, `task group`, `sync task`. */
  noun: string;
  /** The field that carries an id of this kind in log lines (tasks: `taskId`, as always). */
  logIdField: 'taskId' | 'taskGroupId' | 'syncTaskId';
  /** Status name (as a policy writes it) -> the value the API lists. */
  statuses: Readonly<Record<string, RawStatus>>;
  /** Status name -> what OMS lets a client do in that state. Every status has one. */
  handling: Readonly<Record<string, Handling>>;
  /** The `wait` states' names in a deferral reason and the plan (a group's `executing` is `creating`). */
  waitLabels: Readonly<Record<string, WaitLabel>>;
  /** Names a rule may use: every status but those that mean a delete is already under way (derived). */
  ruleStatuses: readonly string[];
  /**
   * Busy: only a rule with stopFirst may select them (the operator agrees to interrupt work). What is then sent
   * depends on `handling`: a waiting task is deleted as it is, a migrating one paused first, a pausing one waited for.
   */
  inProgress: readonly string[];
  /** The state after a pause (or stop) that may be deleted. */
  paused: string;
  /** The state between a pause and `paused`, if the kind shows one. */
  pausing?: string;
  /** Finished states (handling `finished`), derived. */
  finished: readonly string[];
  /** A delete is already under way (handling `deleting`, task groups 8 and 9), derived. */
  deleting: readonly string[];
  /** The word for a pause in this kind's API and tables: `pause` (tasks, groups) or `stop` (sync tasks). */
  pauseVerb: 'pause' | 'stop';
  /**
   * The listed counters that move while an item of this kind makes progress (never a time: whether OMS updates
   * `total_time` while a task runs is not documented). Empty: its listing carries none, and `noProgressFor` cannot
   * be judged for it (sync tasks: their counters are only in a month's statistics, not in the listing).
   */
  progressFields: readonly string[];
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

/** The reason an item in a `wait` state is deferred at the deadline. */
export type WaitLabel = 'creating' | 'pausing';

type ModelInput = Omit<KindModel, 'finished' | 'deleting' | 'statuses' | 'handling' | 'ruleStatuses'> & {
  /** Each status: its listed value, and what OMS lets a client do in it (with the source in a comment). */
  states: Readonly<Record<string, readonly [RawStatus, Handling]>>;
};

/** Builds a model from its state table: `statuses`, `handling`, `ruleStatuses`, `finished` and `deleting` all come from one row each. */
function model(input: ModelInput): KindModel {
  const { states, ...rest } = input;
  const names = Object.keys(states);
  const handling = Object.fromEntries(names.map((name) => [name, states[name]![1]]));
  return {
    ...rest,
    statuses: Object.fromEntries(names.map((name) => [name, states[name]![0]])),
    handling,
    ruleStatuses: names.filter((name) => handling[name] !== 'deleting'),
    finished: names.filter((name) => handling[name] === 'finished'),
    deleting: names.filter((name) => handling[name] === 'deleting'),
  };
}

/**
 * Progress counters as Huawei's OMS v2 models name them (the Python SDK's TaskResp and TaskGroupResp: `progress`,
 * `complete_size`, `successful_num`, `failed_num`, `skipped_num`, `total_num`, `total_size`; a group's
 * `complete_task_num`, `failed_task_num`, `executing_task_num`, `paused_task_num`, `waiting_task_num`,
 * `total_task_num`, `complete_size`, `total_size`). Whichever of them an item lists make its fingerprint.
 */
const PROGRESS_FIELDS = {
  task: ['progress', 'complete_size', 'successful_num', 'failed_num', 'skipped_num', 'total_num', 'total_size'],
  taskGroup: ['complete_task_num', 'failed_task_num', 'executing_task_num', 'paused_task_num', 'waiting_task_num', 'total_task_num', 'complete_size', 'total_size'],
} as const;

// Sources of the rows below (Huawei's own material): the OMS v2 API pages StopTask, StopTaskGroup, DeleteTaskGroup
// (the Chinese original: the English page turns "pausing" into "paused"), DeleteSyncTask; the Python SDK's OMS v2
// client docstrings and models (huaweicloud-sdk-python-v3, services/oms/v2); Huawei's Terraform provider
// (terraform-provider-huaweicloud: resources huaweicloud_oms_migration_task, _task_group, _sync_task), which pauses
// only a migrating task, deletes every other status directly and retries OMS.0063.
const TASK = model({
  kind: 'task',
  noun: 'task',
  logIdField: 'taskId',
  states: {
    // Not running yet: a pause answers 400 OMS.0066 "not being migrated" (StopTask); Terraform deletes it directly.
    waiting: [1, 'delete'],
    // The only state a pause is accepted in (StopTask); a delete answers 400 OMS.0063 (Terraform pauses it first).
    migrating: [2, 'pause'],
    paused: [3, 'delete'],
    failed: [4, 'finished'],
    succeeded: [5, 'finished'],
    // Between attempts: a pause answers OMS.0066 (not migrating); Terraform deletes it directly.
    retrying: [6, 'delete'],
    // A pause is already on its way: a delete answers OMS.0063 until it reads paused (Terraform waits for 3).
    pausing: [7, 'wait'],
  },
  waitLabels: { pausing: 'pausing' },
  inProgress: ['waiting', 'migrating', 'retrying', 'pausing'],
  paused: 'paused',
  pausing: 'pausing',
  pauseVerb: 'pause',
  progressFields: PROGRESS_FIELDS.task,
  api: { collection: 'tasks', listKey: 'tasks', idField: 'id', pauseMethod: 'POST' },
});

const TASK_GROUP = model({
  kind: 'taskGroup',
  noun: 'task group',
  logIdField: 'taskGroupId',
  states: {
    // Not started: DeleteTaskGroup does not refuse it (it refuses 1, 2 and 7 only); it deletes as it is.
    waiting: [0, 'delete'],
    // Creating (or executing: the SDK model says both): DeleteTaskGroup refuses it; the SDK docstring lets StopTaskGroup
    // take it, but Terraform's provider says a creating group "cannot be stopped or deleted" and waits for 2 or 6.
    // The narrower reading wins: waited out, never stopped.
    executing: [1, 'wait'],
    // Monitoring: StopTaskGroup accepts it; DeleteTaskGroup refuses it until it is paused.
    monitoring: [2, 'pause'],
    paused: [3, 'delete'],
    creationFailed: [4, 'finished'],
    failed: [5, 'finished'],
    succeeded: [6, 'finished'],
    // Pausing: DeleteTaskGroup refuses it; a stop is already on its way: wait for 3.
    pausing: [7, 'wait'],
    // Waiting for deletion / deleting: someone's delete is under way.
    waitingForDeletion: [8, 'deleting'],
    deleting: [9, 'deleting'],
  },
  waitLabels: { executing: 'creating', pausing: 'pausing' },
  inProgress: ['waiting', 'executing', 'monitoring', 'pausing'],
  paused: 'paused',
  pausing: 'pausing',
  pauseVerb: 'pause',
  progressFields: PROGRESS_FIELDS.taskGroup,
  api: { collection: 'taskgroups', listKey: 'taskgroups', idField: 'group_id', pauseMethod: 'PUT' },
});

const SYNC_TASK = model({
  kind: 'syncTask',
  noun: 'sync task',
  logIdField: 'syncTaskId',
  states: {
    // DeleteSyncTask: a synchronizing sync task cannot be deleted, stop it first (POST …/stop, in the regions that
    // publish it).
    synchronizing: ['SYNCHRONIZING', 'pause'],
    stopped: ['STOPPED', 'delete'],
  },
  waitLabels: {},
  inProgress: ['synchronizing'],
  paused: 'stopped',
  pauseVerb: 'stop',
  progressFields: [],
  api: { collection: 'sync-tasks', listKey: 'tasks', idField: 'sync_task_id', pauseMethod: 'POST' },
});

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

/** What OMS lets a client do with an item of this kind in this state; undefined for a status the janitor does not know. */
export function handlingOf(kind: Kind, raw: RawStatus | null): Handling | undefined {
  const name = statusName(kind, raw);
  return name === undefined ? undefined : KIND_MODELS[kind].handling[name];
}

/** The wait label of a `wait` state (`creating`, `pausing`); undefined for every other state. */
export function waitLabelOf(kind: Kind, raw: RawStatus | null): WaitLabel | undefined {
  const name = statusName(kind, raw);
  return name === undefined ? undefined : KIND_MODELS[kind].waitLabels[name];
}
