import { DAY_MS, DEMO_PROJECTS, HOUR_MS, MINUTE_MS, demoSite } from './demo-projects.js';
import type { EmuSyncTask, EmuTaskGroup } from './types.js';

/** A demo task group, its times given as ages so the data is deterministic for a given clock. */
interface GroupSpec {
  id: string;
  status: number;
  startAgeMs: number;
  /** Undefined while executing: then it has run since it started. */
  totalTimeMs?: number;
  description: string;
  srcBucket: string;
  taskNum: number;
  /** Its GROUP_TASK tasks listed among the project's tasks (the first id; consecutive). Only a finished group has them. */
  firstMemberId?: bigint;
}

interface SyncSpec {
  id: string;
  status: 'SYNCHRONIZING' | 'STOPPED';
  createAgeMs: number;
  lastStartAgeMs: number;
  description: string;
  srcBucket: string;
}

const GROUPS: Record<string, GroupSpec[]> = {
  [DEMO_PROJECTS.beijing4]: [
    {
      id: '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e01', status: 6, startAgeMs: 40 * DAY_MS, totalTimeMs: 5 * HOUR_MS,
      description: 'catalogue import, spring lists', srcBucket: 'acme-media-assets', taskNum: 3, firstMemberId: 191296000000101n,
    },
    {
      id: '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e02', status: 5, startAgeMs: 33 * DAY_MS, totalTimeMs: 2 * HOUR_MS,
      description: 'log backfill by prefix', srcBucket: 'acme-prod-logs', taskNum: 8,
    },
    {
      id: '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e03', status: 1, startAgeMs: 3 * HOUR_MS,
      description: 'data lake url list', srcBucket: 'acme-data-lake', taskNum: 12,
    },
    {
      id: '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e04', status: 3, startAgeMs: 20 * DAY_MS, totalTimeMs: HOUR_MS,
      description: 'media re-import, paused by an operator', srcBucket: 'acme-media-assets', taskNum: 6,
    },
    {
      id: '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e05', status: 9, startAgeMs: 12 * DAY_MS, totalTimeMs: 3 * HOUR_MS,
      description: 'trial group, being deleted', srcBucket: 'acme-prod-logs', taskNum: 2,
    },
    {
      id: '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e06', status: 6, startAgeMs: 2 * DAY_MS, totalTimeMs: 4 * HOUR_MS,
      description: 'catalogue import, autumn lists', srcBucket: 'acme-media-assets', taskNum: 4,
    },
    // Stuck groups: waiting for days (deleted as it is), monitoring for days (stopped, then deleted), and one still
    // being created (waited out; the demo emulator moves it on to monitoring after createDelayMs).
    {
      id: '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e07', status: 0, startAgeMs: 5 * DAY_MS, totalTimeMs: 0,
      description: 'prefix copy, queued and never started', srcBucket: 'acme-prod-logs', taskNum: 0,
    },
    {
      id: '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e08', status: 2, startAgeMs: 4 * DAY_MS, totalTimeMs: 3 * HOUR_MS,
      description: 'url list copy, monitoring for days', srcBucket: 'acme-data-lake', taskNum: 7,
    },
    {
      id: '6f0c2a9e-4b1d-4e7a-9c3f-1a2b3c4d5e09', status: 1, startAgeMs: 3 * DAY_MS, totalTimeMs: 20 * MINUTE_MS,
      description: 'huge url list, still creating', srcBucket: 'acme-data-lake', taskNum: 0,
    },
  ],
  [DEMO_PROJECTS.shanghai1]: [
    {
      id: '9d4e7b1c-2a3f-4c5d-8e6f-7a8b9c0d1e01', status: 6, startAgeMs: 50 * DAY_MS, totalTimeMs: 6 * HOUR_MS,
      description: 'backup consolidation', srcBucket: 'acme-backups', taskNum: 5,
    },
    {
      id: '9d4e7b1c-2a3f-4c5d-8e6f-7a8b9c0d1e02', status: 4, startAgeMs: 9 * DAY_MS, totalTimeMs: 10 * MINUTE_MS,
      description: 'exports by url list, list file missing', srcBucket: 'acme-analytics-exports', taskNum: 0,
    },
  ],
};

const SYNC_TASKS: Record<string, SyncSpec[]> = {
  [DEMO_PROJECTS.beijing4]: [
    {
      id: '3b8e1f6a-7c2d-4a9e-b5f0-2c4d6e8fa001', status: 'STOPPED', createAgeMs: 58 * DAY_MS, lastStartAgeMs: 45 * DAY_MS,
      description: 'logs mirror, retired', srcBucket: 'acme-prod-logs',
    },
    {
      id: '3b8e1f6a-7c2d-4a9e-b5f0-2c4d6e8fa002', status: 'STOPPED', createAgeMs: 30 * DAY_MS, lastStartAgeMs: DAY_MS,
      description: 'media mirror, stopped for maintenance', srcBucket: 'acme-media-assets',
    },
    {
      id: '3b8e1f6a-7c2d-4a9e-b5f0-2c4d6e8fa003', status: 'SYNCHRONIZING', createAgeMs: 40 * DAY_MS, lastStartAgeMs: 40 * DAY_MS,
      description: 'data lake mirror', srcBucket: 'acme-data-lake',
    },
  ],
  [DEMO_PROJECTS.shanghai1]: [
    {
      id: '5a7c9e1b-3d5f-4b7a-9c1e-3f5a7c9e1b01', status: 'STOPPED', createAgeMs: 52 * DAY_MS, lastStartAgeMs: 38 * DAY_MS,
      description: 'backups mirror, retired', srcBucket: 'acme-backups',
    },
  ],
};

/**
 * Demo task groups per project: succeeded (one 40 days old whose member tasks are in the task list, one 2 days old),
 * migration failed, executing, paused, deleting (9), and stuck ones days old (waiting, monitoring, creating);
 * creation failed in the second project. Deterministic for nowMs.
 */
export function demoTaskGroups(nowMs: number): Record<string, EmuTaskGroup[]> {
  const built = Object.entries(GROUPS).map(([projectId, specs]) => [projectId, specs.map((s) => buildGroup(projectId, s, nowMs))] as const);
  return Object.fromEntries(built);
}

/** Demo sync tasks per project: an old and a recent STOPPED one, an old SYNCHRONIZING one. Deterministic for nowMs. */
export function demoSyncTasks(nowMs: number): Record<string, EmuSyncTask[]> {
  const built = Object.entries(SYNC_TASKS).map(([projectId, specs]) => [projectId, specs.map((s) => buildSyncTask(projectId, s, nowMs))] as const);
  return Object.fromEntries(built);
}

/** A member task of a demo group, for demo-data to build among the project's tasks. */
export interface DemoMember {
  groupId: string;
  id: string;
  startMs: number;
  srcBucket: string;
}

/** The member tasks the project's demo groups have in its task list: succeeded, started five minutes apart. */
export function demoGroupMembers(projectId: string, nowMs: number): DemoMember[] {
  return (GROUPS[projectId] ?? []).flatMap(({ id, firstMemberId, taskNum, startAgeMs, srcBucket }) =>
    firstMemberId === undefined
      ? []
      : Array.from({ length: taskNum }, (_, k) => ({
          groupId: id,
          id: String(firstMemberId + BigInt(k)),
          startMs: nowMs - startAgeMs + k * 5 * MINUTE_MS,
          srcBucket,
        })),
  );
}

function buildGroup(projectId: string, s: GroupSpec, nowMs: number): EmuTaskGroup {
  const site = demoSite(projectId);
  const start = nowMs - s.startAgeMs;
  const done = s.status === 6 ? s.taskNum : 0;
  const failed = s.status === 5 ? Math.ceil(s.taskNum / 4) : 0;
  const group: EmuTaskGroup = {
    group_id: s.id,
    status: s.status,
    description: s.description,
    task_type: 'LIST',
    start_time: start,
    total_time: s.totalTimeMs ?? nowMs - start,
    src_node: {
      cloud_type: 'AWS',
      region: 'ap-southeast-1',
      bucket: s.srcBucket,
      object_key: [],
      list_file: { list_file_key: `lists/${s.id}.txt`, obs_bucket: site.dstBucket },
    },
    dst_node: { region: site.region, bucket: site.dstBucket, save_prefix: `groups/${s.srcBucket}/` },
    total_task_num: s.taskNum,
    create_task_num: s.taskNum,
    complete_task_num: done + failed,
    failed_task_num: failed,
    executing_task_num: s.status === 1 ? Math.ceil(s.taskNum / 2) : 0,
    paused_task_num: s.status === 3 ? s.taskNum : 0,
    waiting_task_num: s.status === 1 ? Math.floor(s.taskNum / 2) : 0,
    enable_kms: false,
    enable_restore: false,
    enable_metadata_migration: true,
    enable_failed_object_recording: true,
    migrate_since: 0,
    object_overwrite_mode: 'SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE',
    consistency_check: 'size_last_modified',
    bandwidth_policy: [],
    smn_config: null,
    source_cdn: null,
  };
  if (s.status === 4) group.error_reason = { error_code: 'OMS.1201', error_msg: 'The list file does not exist.' };
  if (s.status === 5) group.error_reason = { error_code: 'TRF.0001', error_msg: 'Failed to list objects at the source: access denied.' };
  return group;
}

function buildSyncTask(projectId: string, s: SyncSpec, nowMs: number): EmuSyncTask {
  const site = demoSite(projectId);
  return {
    sync_task_id: s.id,
    status: s.status,
    description: s.description,
    src_cloud_type: 'AWS',
    src_region: 'ap-southeast-1',
    src_bucket: s.srcBucket,
    dst_region: site.region,
    dst_bucket: site.dstBucket,
    create_time: nowMs - s.createAgeMs,
    last_start_time: nowMs - s.lastStartAgeMs,
    enable_kms: false,
    enable_restore: false,
    enable_metadata_migration: true,
    consistency_check: 'size_last_modified',
    object_overwrite_mode: 'SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE',
    dst_storage_policy: 'STANDARD',
    app_id: null,
    source_cdn: null,
  };
}
