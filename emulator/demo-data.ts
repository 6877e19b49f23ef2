import { demoGroupMembers } from './demo-kinds.js';
import { DAY_MS, DEMO_PROJECTS, HOUR_MS, MINUTE_MS, demoSite } from './demo-projects.js';
import { mulberry32 } from './prng.js';
import type { EmuTask } from './types.js';

export { DEMO_PROJECTS } from './demo-projects.js';

interface ProjectShape {
  region: string;
  seed: number;
  count: number;
  firstId: bigint;
  /** Ids past 2^53: the demo shows they survive the round trip. */
  bigIds: bigint[];
  srcBuckets: string[];
  dstBucket: string;
}

const SHAPES: Record<string, ProjectShape> = {
  [DEMO_PROJECTS.beijing4]: {
    ...demoSite(DEMO_PROJECTS.beijing4),
    seed: 4,
    count: 64,
    firstId: 191297407830872n,
    bigIds: [9007199254740993n, 9007199254741001n],
    srcBuckets: ['acme-prod-logs', 'acme-media-assets', 'acme-data-lake'],
  },
  [DEMO_PROJECTS.shanghai1]: {
    ...demoSite(DEMO_PROJECTS.shanghai1),
    seed: 1,
    count: 48,
    firstId: 208815503297114n,
    bigIds: [9223372036854775001n],
    srcBuckets: ['acme-backups', 'acme-analytics-exports'],
  },
};

type Kind = 'nightly' | 'adhoc' | 'weekly' | 'keep' | 'backfill';

/**
 * Realistic demo data: ~1 KB task objects like the real API's, a mix of statuses and ages from minutes to 60 days,
 * a few task-group and sync tasks, stuck tasks older than two days per project (two migrating, one waiting, one
 * retrying: paused first, or deleted as they are), and the member tasks of the
 * demo's task groups (demoTaskGroups) that have them. Deterministic for a given nowMs, and free of malformed entries
 * (those belong in tests, not in a demo).
 */
export function demoProjects(nowMs: number): Record<string, EmuTask[]> {
  const out: Record<string, EmuTask[]> = {};
  for (const [projectId, shape] of Object.entries(SHAPES)) {
    out[projectId] = [...demoTasks(shape, nowMs), ...memberTasks(projectId, shape, nowMs)];
  }
  return out;
}

/** Succeeded GROUP_TASK tasks of the demo groups. Their own PRNG stream leaves every other demo task as it was. */
function memberTasks(projectId: string, shape: ProjectShape, nowMs: number): EmuTask[] {
  const random = mulberry32(shape.seed + 1000);
  return demoGroupMembers(projectId, nowMs).map((m, k) => {
    const task = buildTask(shape, m.id, 5, 'adhoc', 'GROUP_TASK', m.startMs, nowMs, random);
    const src = task.src_node as Record<string, unknown>;
    return { ...task, name: `group-part-${k + 1}`, group_id: m.groupId, src_node: { ...src, bucket: m.srcBucket } };
  });
}

function demoTasks(shape: ProjectShape, nowMs: number): EmuTask[] {
  const random = mulberry32(shape.seed);
  const tasks: EmuTask[] = [];
  let id = shape.firstId;
  for (let i = 0; i < shape.count; i++) {
    id += BigInt(1000 + Math.floor(random() * 900_000));
    const taskId = i < shape.bigIds.length ? (shape.bigIds[i] as bigint) : id;
    // Ages spread over 60 days, denser in recent days as in a live account.
    const ageMs = Math.floor(random() ** 1.6 * 60 * DAY_MS) + 5 * MINUTE_MS;
    const status = statusFor(i, random);
    const kind: Kind = i === 3 ? 'keep' : pickOne(random, ['nightly', 'nightly', 'nightly', 'adhoc', 'weekly', 'backfill'] as const);
    const group = i % 11 === 5 ? 'GROUP_TASK' : i % 13 === 7 ? 'SYNC_TASK' : undefined;
    // Stuck tasks started days ago (two migrating, one waiting, one retrying); other running tasks started within
    // the last day.
    const running = status === 1 || status === 2 || status === 6;
    const start = nowMs - (STUCK.has(i) ? (3 + i) * DAY_MS : running ? Math.floor(ageMs % (20 * HOUR_MS)) + MINUTE_MS : ageMs);
    tasks.push(buildTask(shape, String(taskId), status, kind, group, start, nowMs, random));
  }
  return tasks;
}

/** Indices of the stuck tasks of each project, and their status: migrating (paused first), waiting, retrying. */
const STUCK = new Map([
  [1, 2],
  [2, 2],
  [4, 1],
  [6, 6],
]);

function statusFor(i: number, random: () => number): number {
  const stuck = STUCK.get(i);
  if (stuck !== undefined) return stuck; // for days
  const r = random();
  if (r < 0.55) return 5;
  if (r < 0.72) return 4;
  if (r < 0.84) return 3;
  if (r < 0.91) return 2;
  if (r < 0.96) return 1;
  return 6;
}

function nameFor(kind: Kind, start: number, random: () => number): string {
  const day = new Date(start).toISOString().slice(0, 10);
  switch (kind) {
    case 'nightly':
      return `nightly-sync-${day}`;
    case 'weekly':
      return `weekly-archive-${day}`;
    case 'keep':
      return 'keep-golden-copy';
    case 'backfill':
      return `backfill-2025-q${1 + Math.floor(random() * 4)}`;
    case 'adhoc':
      return 'adhoc-migrate-logs';
  }
}

function buildTask(
  shape: ProjectShape,
  id: string,
  status: number,
  kind: Kind,
  groupType: string | undefined,
  start: number,
  nowMs: number,
  random: () => number,
): EmuTask {
  const totalNum = 200 + Math.floor(random() * 250_000);
  const objectSize = 4096 + Math.floor(random() * 8_000_000);
  const running = status === 1 || status === 2 || status === 6;
  const progress = status === 5 ? 1 : running ? Math.round(random() * 90) / 100 : Math.round(random() * 100) / 100;
  const successful = Math.floor(totalNum * progress);
  const failedNum = status === 4 ? Math.max(1, Math.floor(random() * 50)) : 0;
  // A stuck migration (started days ago) stopped accumulating total_time two hours in: its last activity is old.
  const stuck = running && nowMs - start > 2 * DAY_MS;
  const totalTime = stuck ? 2 * HOUR_MS : running ? nowMs - start : Math.floor(random() * 6 * HOUR_MS) + MINUTE_MS;
  const srcBucket = shape.srcBuckets[Math.floor(random() * shape.srcBuckets.length)] ?? 'acme-bucket';
  const task: EmuTask = {
    id,
    name: nameFor(kind, start, random),
    description: kind === 'keep' ? 'Golden copy of the catalogue, kept on purpose' : '',
    status,
    task_type: kind === 'adhoc' ? 'list' : 'prefix',
    start_time: start,
    total_time: totalTime,
    left_time: running ? Math.floor(random() * 4 * HOUR_MS) : 0,
    progress,
    speed: running ? Math.floor(random() * 50_000_000) : 0,
    total_num: totalNum,
    successful_num: successful,
    failed_num: failedNum,
    skipped_num: Math.floor(random() * 20),
    complete_num: successful + failedNum,
    total_size: totalNum * objectSize,
    complete_size: successful * objectSize,
    src_node: {
      region: 'ap-southeast-1',
      bucket: srcBucket,
      cloud_type: 'AWS',
      object_key: kind === 'adhoc' ? [] : [`logs/${new Date(start).toISOString().slice(0, 7)}/`],
      list_file: kind === 'adhoc' ? { list_file_key: 'lists/adhoc.txt', obs_bucket: shape.dstBucket } : null,
    },
    dst_node: { region: shape.region, bucket: shape.dstBucket, save_prefix: `migrated/${srcBucket}/` },
    bandwidth_policy: [{ start: '00:00', end: '06:00', max_bandwidth: 104_857_600 }],
    enable_kms: false,
    enable_restore: false,
    enable_failed_object_recording: true,
    enable_metadata_migration: true,
    migrate_since: 0,
    object_overwrite_mode: 'SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE',
    consistency_check: 'size_last_modified',
    task_priority: 'MEDIUM',
    smn_info: null,
    source_cdn: null,
    success_record_error_reason: '',
    skip_record_error_reason: '',
  };
  if (groupType !== undefined) {
    task.group_type = groupType;
    task.group_id = `grp-${id.slice(-6)}`;
  } else if (random() < 0.4) {
    task.group_type = 'NORMAL_TASK'; // sometimes explicit, sometimes absent, as in real listings
  }
  if (status === 4) {
    task.error_reason = pickOne(random, [
      { error_code: 'TRF.0001', error_msg: 'Failed to list objects at the source: access denied.' },
      { error_code: 'TRF.0201', error_msg: 'The destination bucket does not exist.' },
      { error_code: 'TRF.0105', error_msg: 'Source object changed during migration.' },
    ]);
  }
  return task;
}

function pickOne<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}
