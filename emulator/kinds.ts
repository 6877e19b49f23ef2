import type { EmulatorStats } from './types.js';

/** A status as the API writes it: a number for tasks and groups, a word for sync tasks. */
export type Status = number | string;

export const KIND_NAMES = ['task', 'taskGroup', 'syncTask'] as const;
export type KindName = (typeof KIND_NAMES)[number];

/** How one kind of object lives in a store: its id, its age, and its stop/delete lifecycle. */
export interface Lifecycle {
  /** The JSON key of the id. */
  idField: string;
  /** Digit ids go out as bare JSON numbers (task ids are int64 in the JSON); otherwise as JSON strings. */
  bareDigitIds: boolean;
  /** The newest-first sort key of an object (or a raw entry's parsed object); 0 when it has none. */
  sortTime(item: Record<string, unknown>): number;
  /** A status value of this kind's type, or undefined (a status of the wrong type is no status). */
  readStatus(value: unknown): Status | undefined;
  /** Statuses a stop (pause) is accepted in; anything else answers 400 OMS.0066. */
  stoppable: readonly Status[];
  /** Statuses a DELETE is refused in (400 OMS.0063), and which 'delete-in-progress' counts; anything else deletes. */
  deleteRefused: readonly Status[];
  /** After a stop it reads `stopping` for stopDelayMs, then `stopped`. */
  stopping: Status;
  stopped: Status;
  /**
   * A fixture given in this status moves on to `stopped` as if stopped when it was set, so no fixture stays pausing
   * forever. Undefined when the stopping status is also a steady one (a sync task's SYNCHRONIZING).
   */
  givenStopping?: Status;
  /**
   * A fixture given in `from` reads `to` after the store's createDelayMs (a task group being created moves on to
   * monitoring once its member tasks exist). Undefined for kinds with no such state.
   */
  creating?: { from: Status; to: Status };
}

type IdList = {
  [K in keyof EmulatorStats]: EmulatorStats[K] extends Record<string, string[]> ? K : never;
}[keyof EmulatorStats];

/** One kind of OMS object as the API serves it: a table row read by one router, one handler and one store. */
export interface Kind {
  name: KindName;
  /** `/v2/{project}/{collection}`, `/{id}`, `/{id}/stop`. */
  collection: string;
  stopMethod: 'POST' | 'PUT';
  /** The key of the list answer's array. */
  listKey: string;
  /** stats.calls key of each route: tasks keep their historical bare keys ('list'), others are prefixed. */
  callPrefix: string;
  /** Where stop and delete record ids in the stats. */
  stoppedStat: IdList;
  deletedStat: IdList;
  lifecycle: Lifecycle;
  /** A path id of the wrong shape answers 400 OMS.0054 with this message, before any lookup. */
  idPattern: RegExp;
  invalidIdMsg: string;
  /** Tasks answer a missing id with 400 OMS.1009; groups and sync tasks with 404 OMS.1009. */
  notFoundStatus: number;
  notFoundMsg: string;
  inProgressMsg: string;
  notStoppableMsg: string;
  /** The largest offset the API documents for this list (sync tasks: 10000); the `offsetCap` option may lower it. */
  maxOffset: number;
  /** The list's `status` filter value, or null when malformed (400 OMS.0064). */
  parseStatusParam(text: string): Status | null;
  /** The list accepts `group_id` (tasks only). */
  filtersByGroupId: boolean;
  /** Query parameters show requires as digits (sync tasks: query_time, the month of the statistics). */
  showRequires: readonly string[];
  /** Its tasks carry its id as group_id and go with it under `groupDeleteRemovesMembers` (task groups). */
  ownsMembers: boolean;
}

/** A whole number from min to max, written as digits (at most 12), or null. */
export function parseIntText(text: string, min: number, max: number): number | null {
  if (!/^-?[0-9]{1,12}$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

const numberStatus = (value: unknown): Status | undefined => (typeof value === 'number' ? value : undefined);
const timeField = (item: Record<string, unknown>, field: string): number | undefined => {
  const value = item[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};
const ANY_ID = /^.{1,1024}$/s;

const TASK_STATUS = { waiting: 1, migrating: 2, paused: 3, failed: 4, succeeded: 5, retrying: 6, pausing: 7 } as const;
const GROUP_STATUS = { waiting: 0, creating: 1, monitoring: 2, paused: 3, pausing: 7 } as const;

// Which states pause and which delete, as Huawei documents them. Sources: the OMS v2 API pages StopTask,
// StopTaskGroup, DeleteTaskGroup (the Chinese original), DeleteSyncTask; the Python SDK's OMS v2 client docstrings;
// Huawei's Terraform provider (resources huaweicloud_oms_migration_task, _task_group, _sync_task). Where they
// disagree, the stricter answer is served: a janitor that relies on the kinder one fails on a real account.
const SYNC_STATUS = { synchronizing: 'SYNCHRONIZING', stopped: 'STOPPED' } as const;

export const KINDS: Record<KindName, Kind> = {
  task: {
    name: 'task',
    collection: 'tasks',
    stopMethod: 'POST',
    listKey: 'tasks',
    callPrefix: '',
    stoppedStat: 'stopped',
    deletedStat: 'deleted',
    lifecycle: {
      idField: 'id',
      bareDigitIds: true,
      sortTime: (item) => timeField(item, 'start_time') ?? 0,
      readStatus: numberStatus,
      // StopTask: only a migrating task pauses; waiting, retrying and the rest answer OMS.0066 "not being migrated".
      stoppable: [TASK_STATUS.migrating],
      // Terraform pauses only status 2 and deletes every other status directly, retrying OMS.0063 while one pauses:
      // a delete is refused while migrating or pausing, and a waiting or retrying task deletes as it is.
      deleteRefused: [TASK_STATUS.migrating, TASK_STATUS.pausing],
      stopping: TASK_STATUS.pausing,
      stopped: TASK_STATUS.paused,
      givenStopping: TASK_STATUS.pausing,
    },
    idPattern: /^[0-9]+$/,
    invalidIdMsg: 'Invalid task ID.',
    notFoundStatus: 400,
    notFoundMsg: 'No resources found: the task does not exist.',
    inProgressMsg: 'The task is in progress. Pause it before deleting it.',
    notStoppableMsg: 'Pause failed: the task is not being migrated.',
    maxOffset: Number.MAX_SAFE_INTEGER,
    parseStatusParam: (text) => parseIntText(text, 0, 99),
    filtersByGroupId: true,
    showRequires: [],
    ownsMembers: false,
  },
  taskGroup: {
    name: 'taskGroup',
    collection: 'taskgroups',
    stopMethod: 'PUT',
    listKey: 'taskgroups',
    callPrefix: 'taskGroup.',
    stoppedStat: 'groupsStopped',
    deletedStat: 'groupsDeleted',
    lifecycle: {
      idField: 'group_id',
      bareDigitIds: false,
      sortTime: (item) => timeField(item, 'start_time') ?? 0,
      readStatus: numberStatus,
      // StopTaskGroup: a monitoring group stops. The SDK docstring also names creating (1); Terraform says a creating
      // group "cannot be stopped or deleted" and waits for 2 or 6: the stricter reading is served (OMS.0066).
      stoppable: [GROUP_STATUS.monitoring],
      // DeleteTaskGroup: creating, monitoring and pausing groups cannot be deleted; waiting (0) and the finished or
      // paused ones delete as they are.
      deleteRefused: [GROUP_STATUS.creating, GROUP_STATUS.monitoring, GROUP_STATUS.pausing],
      stopping: GROUP_STATUS.pausing,
      stopped: GROUP_STATUS.paused,
      givenStopping: GROUP_STATUS.pausing,
      // Terraform's provider waits for a creating group to reach monitoring (2) or succeeded (6).
      creating: { from: GROUP_STATUS.creating, to: GROUP_STATUS.monitoring },
    },
    idPattern: ANY_ID,
    invalidIdMsg: 'Invalid task group ID.',
    notFoundStatus: 404,
    notFoundMsg: 'No resources found: the task group does not exist.',
    inProgressMsg: 'The task group is in progress. Pause it before deleting it.',
    notStoppableMsg: 'Pause failed: the task group is not being monitored.',
    maxOffset: Number.MAX_SAFE_INTEGER,
    parseStatusParam: (text) => parseIntText(text, 0, 9),
    filtersByGroupId: false,
    showRequires: [],
    ownsMembers: true,
  },
  syncTask: {
    name: 'syncTask',
    collection: 'sync-tasks',
    stopMethod: 'POST',
    listKey: 'tasks',
    callPrefix: 'syncTask.',
    stoppedStat: 'syncTasksStopped',
    deletedStat: 'syncTasksDeleted',
    lifecycle: {
      idField: 'sync_task_id',
      bareDigitIds: false,
      // There is no stop time: the last start is the only activity the listing gives, else the creation.
      sortTime: (item) => timeField(item, 'last_start_time') ?? timeField(item, 'create_time') ?? 0,
      readStatus: (value) => (typeof value === 'string' ? value : undefined),
      // StopSyncTask stops a synchronizing sync task; DeleteSyncTask refuses one until it is stopped.
      stoppable: [SYNC_STATUS.synchronizing],
      deleteRefused: [SYNC_STATUS.synchronizing],
      stopping: SYNC_STATUS.synchronizing,
      stopped: SYNC_STATUS.stopped,
    },
    idPattern: ANY_ID,
    invalidIdMsg: 'Invalid sync task ID.',
    notFoundStatus: 404,
    notFoundMsg: 'No resources found: the sync task does not exist.',
    inProgressMsg: 'The sync task is synchronizing. Stop it before deleting it.',
    notStoppableMsg: 'Stop failed: the sync task is not synchronizing.',
    maxOffset: 10_000,
    parseStatusParam: (text) => (text === SYNC_STATUS.synchronizing || text === SYNC_STATUS.stopped ? text : null),
    filtersByGroupId: false,
    showRequires: ['query_time'],
    ownsMembers: false,
  },
};

/** The stats.calls key of a route of a kind ('list', 'taskGroup.stop', ...). */
export function callKey(kind: Kind, route: string): string {
  return `${kind.callPrefix}${route}`;
}
