import type { S3Fault, S3Object } from './s3.js';
/** A task as the emulator holds it. Every field but `id` is optional, as in the real API's SDK models. */
export interface EmuTask {
  /**
   * A canonical digit string (no leading zeros) is emitted as a BARE JSON number, even above 2^53, so
   * 9007199254740993 appears in the body exactly as those digits. Anything else is emitted as a JSON string.
   */
  id: string;
  name?: string;
  status?: number;
  start_time?: number;
  total_time?: number;
  group_type?: string;
  [k: string]: unknown;
}

/** A task given as raw JSON text, spliced into list answers verbatim (hostile ids like 1.5e3, -1, objects, no id). */
export interface RawTask {
  rawJson: string;
}

export type TaskInput = EmuTask | RawTask;

/** A task group as the emulator holds it (no `name`: groups have none). `group_id` is always emitted as a JSON string. */
export interface EmuTaskGroup {
  group_id: string;
  /** 0 waiting, 1 executing, 2 monitoring, 3 paused, 4 creation failed, 5 migration failed, 6 succeeded, 7 pausing, 8/9 deleting. */
  status?: number;
  description?: string;
  start_time?: number;
  total_time?: number;
  src_node?: { bucket?: string; region?: string; cloud_type?: string; [k: string]: unknown };
  dst_node?: { bucket?: string; region?: string; [k: string]: unknown };
  total_task_num?: number;
  [k: string]: unknown;
}

/** A sync task as the emulator holds it. `sync_task_id` is always emitted as a JSON string. */
export interface EmuSyncTask {
  sync_task_id: string;
  /** 'SYNCHRONIZING' or 'STOPPED'. */
  status?: string;
  description?: string;
  src_cloud_type?: string;
  src_region?: string;
  src_bucket?: string;
  dst_region?: string;
  dst_bucket?: string;
  create_time?: number;
  last_start_time?: number;
  [k: string]: unknown;
}

/** Raw entries of these kinds are addressed by the `group_id` / `sync_task_id` read from their text. */
export type TaskGroupInput = EmuTaskGroup | RawTask;
export type SyncTaskInput = EmuSyncTask | RawTask;

export interface AkSkCredential {
  ak: string;
  sk: string;
  /** When set, requests must send it as X-Security-Token and sign it. */
  securityToken?: string;
}

export interface EmuAccount {
  name: string;
  projects: string[];
  /** Static X-Auth-Token values of this account (also list them in `tokens`). */
  tokens?: string[];
  /** AKs of this account (also list them in `akskCredentials`). */
  aks?: string[];
}

export interface IamUser {
  domain: string;
  username: string;
  password: string;
}

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a random free port. */
  port?: number;
  /** Tasks per project id. An unknown project lists as empty. */
  projects?: Record<string, TaskInput[]>;
  /** Task groups per project id (GET/PUT/DELETE /v2/{project}/taskgroups...). */
  taskGroups?: Record<string, TaskGroupInput[]>;
  /** Sync tasks per project id (/v2/{project}/sync-tasks...). */
  syncTasks?: Record<string, SyncTaskInput[]>;
  /**
   * Deleting a task group also removes every task of the project whose group_id is the group's (stats.membersRemoved).
   * Default false: Huawei does not say which it does, so a client must be tested against both.
   */
  groupDeleteRemovesMembers?: boolean;
  /**
   * POST /v2/{project}/sync-tasks/{id}/stop answers 404 APIGW.0101 (counted as 'unknown-route'), as in the regions
   * that do not publish that API. Default false.
   */
  syncStopUnsupported?: boolean;
  /** Valid static X-Auth-Token values. */
  tokens?: string[];
  akskCredentials?: AkSkCredential[];
  /** IAM password users (POST /v3/auth/tokens). */
  users?: IamUser[];
  /** IAM-issued tokens answer 401 APIGW.0307 after this many OMS calls. Default: unlimited. */
  iamTokenMaxUses?: number;
  /** expires_at = now + this. Default 24 h. */
  iamTokenTtlMs?: number;
  /** Default true: OMS calls without valid credentials get 401 APIGW.0301. */
  requireAuth?: boolean;
  /**
   * Several Huawei accounts: each owns some projects, and its static tokens and AKs are valid for those projects
   * only (401 APIGW.0301 elsewhere, counted in stats.crossAccount). Credentials and projects in no account are not
   * bound (as without this option).
   */
  accounts?: EmuAccount[];
  /** List offsets above this answer 400 OMS.0064 (every kind; sync tasks also refuse offsets above 10000). Default: no cap. */
  offsetCap?: number;
  /**
   * After a stop (accepted only for a migrating task, a monitoring group, a synchronizing sync task): pausing (7) -> paused (3)
   * after this delay; a sync task stays SYNCHRONIZING for it, then reads STOPPED. Default 200.
   */
  stopDelayMs?: number;
  /**
   * A task group given as creating (1) reads monitoring (2) this long after it was set, as OMS moves a group on once
   * its member tasks exist. Default: never (it stays creating, so a client's wait can be tested to its end).
   */
  createDelayMs?: number;
  /** For this long after a task, group or sync task became paused or stopped (by a stop), DELETE still answers 400 OMS.0063. Default 0. */
  pauseSettleMs?: number;
  /** Secrets Manager: SecretId (name or ARN) -> SecretString. */
  secrets?: Record<string, string>;
  /** SecretIds (name or ARN) that answer 400 AccessDeniedException. */
  deniedSecrets?: string[];
  /** SNS topics (name or ARN) whose Publish answers 403 AuthorizationError. */
  deniedTopics?: string[];
  /** S3 buckets served (path style), empty at start. */
  buckets?: string[];
  /** S3 buckets that answer 403 AccessDenied to every call. */
  deniedBuckets?: string[];
  faults?: FaultOptions;
  /** Seed of the PRNG that picks faults, so fault patterns are reproducible. Default 1. */
  seed?: number;
  /** Clock for X-Sdk-Date checks, token expiry and the stop lifecycle. Default Date.now. */
  now?: () => number;
}

export const FAULT_ROUTES = ['list', 'show', 'stop', 'delete'] as const;
export type FaultRoute = (typeof FAULT_ROUTES)[number];

export interface FaultOptions {
  /** Added to every OMS answer (also counted in inFlight). Default 0. */
  latencyMs?: number;
  /** 0..1 share of OMS requests answered 429 APIGW.0308. */
  rate429?: number;
  /** How a 429/503 carries Retry-After. Default 'mixed' (seconds, http-date or none, picked by the PRNG). */
  retryAfter?: 'seconds' | 'http-date' | 'none' | 'mixed';
  /** Default 1. */
  retryAfterSeconds?: number;
  rate503?: number;
  rate500?: number;
  /** Share of requests whose socket is destroyed without an answer. */
  rateReset?: number;
  /** Share of requests that hang for stallMs (default 30000), then get their socket destroyed. */
  rateStall?: number;
  stallMs?: number;
  /** Share answered 200 text/html (a proxy error page) instead of JSON. */
  rateHtml?: number;
  /**
   * Share of list and show requests answered 200 application/json with a body that is not what the call expects
   * (cut off, not an object, `tasks` not an array, `count` a string, no tasks); picked from BAD_JSON_BODIES.
   */
  rateBadJson?: number;
  /** The body of every bad-json answer, instead of one picked from BAD_JSON_BODIES. */
  badJsonBody?: string;
  /** Routes the faults apply to, for every kind (tasks, task groups, sync tasks). Default: all four. */
  routes?: FaultRoute[];
}

export interface TaskFault {
  /** Default: any method. */
  method?: 'DELETE' | 'POST' | 'PUT' | 'GET';
  status: number;
  errorCode: string;
  errorMsg: string;
  /** Extra response headers (a `Location` for a 3xx, a `Retry-After`). */
  headers?: Record<string, string>;
  /** How many requests it answers. Default: all of them. */
  times?: number;
}

export interface EmulatorStats {
  /** Every request, OMS, IAM, Secrets Manager and unknown. */
  total: number;
  /**
   * By route, counted on arrival: tasks 'list','show','stop','delete'; task groups 'taskGroup.list' … 'taskGroup.delete';
   * sync tasks 'syncTask.list' … 'syncTask.delete'; 'iam-token','secrets-get','sns-publish','unknown-route'; plus
   * 'unauthorized' and 'delete-in-progress' (DELETEs of any kind sent while it was in progress).
   */
  calls: Record<string, number>;
  /** By HTTP status answered (resets and stalls answer nothing and are not counted here). */
  byStatus: Record<string, number>;
  /** Concurrent OMS requests (started, not yet answered or reset), latency included. */
  inFlight: number;
  maxInFlight: number;
  /** project -> ids actually deleted, in order. */
  deleted: Record<string, string[]>;
  /** project -> ids stopped (moved to pausing), in order. */
  stopped: Record<string, string[]>;
  /** project -> task group ids actually deleted, in order. */
  groupsDeleted: Record<string, string[]>;
  /** project -> task group ids stopped (moved to pausing), in order. */
  groupsStopped: Record<string, string[]>;
  /** project -> sync task ids actually deleted, in order. */
  syncTasksDeleted: Record<string, string[]>;
  /** project -> sync task ids stopped, in order. */
  syncTasksStopped: Record<string, string[]>;
  /** project -> task ids removed along with their group (`groupDeleteRemovesMembers`), in order. */
  membersRemoved: Record<string, string[]>;
  signatureFailures: number;
  signedRequests: number;
  signedVerified: number;
  /** AKs locked now (after 5 consecutive signature failures, for 5 minutes). */
  lockedAks: string[];
  /** OMS requests that carried one account's token or AK to another account's project (`accounts`). */
  crossAccount: number;
  /** project -> the accounts whose credentials were accepted for it (`accounts`). */
  accountsSeen: Record<string, string[]>;
  /** By kind: '429', '503', '500', 'reset', 'stall', 'html', 'latency', 'task-fault'. */
  faultsInjected: Record<string, number>;
  /** OMS requests by the wall-clock second (Unix seconds) they arrived in: what a rate budget really achieved. */
  perSecond: Record<string, number>;
  /** SNS: every message Publish accepted, in order (what a subscriber of the topic would receive). */
  published: PublishedMessage[];
}

/** One SNS message, as the emulator received it. */
export interface PublishedMessage {
  topicArn: string;
  subject?: string;
  /** The Message parameter as sent (with MessageStructure json: the JSON document). */
  message: string;
  messageStructure?: string;
  /** MessageStructure json: the message per protocol (`default`, `https`, …), parsed. */
  byProtocol?: Record<string, string>;
  attributes: Record<string, { DataType: string; StringValue: string }>;
  messageId: string;
}

/** What SNS Publish answers instead of accepting the message: an error (after the SDK's retries), or nothing. */
export type SnsFault = { kind: 'error'; status: number; code: string; message: string } | { kind: 'hang' };

export interface Emulator {
  /** http://127.0.0.1:PORT: OMS, IAM, Secrets Manager and SNS all on this one server. */
  readonly url: string;
  /** Live: the same object for the emulator's whole life (resetStats clears it in place). */
  readonly stats: EmulatorStats;
  resetStats(): void;
  /** Replaces the fault options (not merged). */
  setFaults(faults: FaultOptions): void;
  setTasks(projectId: string, tasks: TaskInput[]): void;
  /** Current (not deleted) tasks, with the status as a client would read it now; raw entries best effort. */
  tasks(projectId: string): EmuTask[];
  /** Replaces a project's task groups. */
  setTaskGroups(projectId: string, groups: TaskGroupInput[]): void;
  /** Current task groups, with the status a client would read now; raw entries best effort. */
  taskGroups(projectId: string): EmuTaskGroup[];
  /** Replaces a project's sync tasks. */
  setSyncTasks(projectId: string, syncTasks: SyncTaskInput[]): void;
  /** Current sync tasks, with the status a client would read now; raw entries best effort. */
  syncTasks(projectId: string): EmuSyncTask[];
  /** Switches `groupDeleteRemovesMembers` for the deletes that follow. */
  setGroupDeleteRemovesMembers(value: boolean): void;
  /** Answers for one object: a task by default, or a task group or sync task of that id (`kind`). */
  setTaskFault(projectId: string, taskId: string, fault: TaskFault, kind?: 'task' | 'taskGroup' | 'syncTask'): void;
  /** Every IAM token issued so far now answers 401 APIGW.0307. */
  expireIamTokens(): void;
  /** Every IAM token issued so far. */
  issuedIamTokens(): string[];
  /** Adds or replaces a Secrets Manager secret. */
  setSecret(secretId: string, secretString: string): void;
  /** Every SNS Publish from now on gets this answer (an error, or none: `hang`); undefined ends it. */
  setSnsFault(fault: SnsFault | undefined): void;
  /** Every S3 call from now on gets this answer (an error, or none: `hang`); undefined ends it. */
  setS3Fault(fault: S3Fault | undefined): void;
  /** The objects of an S3 bucket, by key. */
  s3Objects(bucket: string): ReadonlyMap<string, S3Object>;
  /** Stops listening and destroys open sockets (stalled requests included). */
  close(): Promise<void>;
}
