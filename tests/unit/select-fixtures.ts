/** Plain data for select tests: Item literals and policies built directly, no parsing involved. */
import type { Item } from '../../lib/oms/item.js';
import { statusValue, type Kind, type RawStatus } from '../../lib/oms/kinds.js';
import type { Limits, Policy, Protect, Rule } from '../../lib/policy/types.js';

export const MINUTE = 60_000;
export const DAY = 86_400_000;
export const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

export interface TaskSpec {
  id?: string | null;
  idText?: string;
  name?: string;
  /** Default task. */
  kind?: Kind;
  /** A status name of the kind, or a raw value (0, 42, "RUNNING") or null for unknown ones. */
  status?: string | number | null;
  /** Age of the last activity at NOW; null = unknown age. Ignored when lastActivityMs is given. */
  ageMs?: number | null;
  lastActivityMs?: number | null;
  groupType?: string | null;
  description?: string;
  srcBucket?: string;
  dstBucket?: string;
}

export function task(spec: TaskSpec = {}): Item {
  const kind = spec.kind ?? 'task';
  const id = spec.id === undefined ? '1' : spec.id;
  const ageMs = spec.ageMs === undefined ? 30 * DAY : spec.ageMs;
  const lastActivityMs = spec.lastActivityMs !== undefined ? spec.lastActivityMs : ageMs === null ? null : NOW - ageMs;
  const status = spec.status === undefined ? (kind === 'syncTask' ? 'stopped' : 'succeeded') : spec.status;
  const item: Item = {
    kind,
    id,
    idText: spec.idText ?? id ?? '(missing)',
    name: kind === 'task' ? (spec.name ?? `task-${id ?? 'x'}`) : '',
    status: typeof status === 'string' ? (statusValue(kind, status) ?? (status as RawStatus)) : status,
    lastActivityMs,
    groupType: spec.groupType ?? null,
  };
  if (kind !== 'task') Object.assign(item, { description: spec.description ?? '', srcBucket: spec.srcBucket ?? '', dstBucket: spec.dstBucket ?? '' });
  return item;
}

/** A task group (statuses by group names: succeeded is 6). */
export function group(spec: Omit<TaskSpec, 'kind'> = {}): Item {
  return task({ ...spec, kind: 'taskGroup' });
}

/** A sync task (statuses by name: stopped, synchronizing). */
export function syncTask(spec: Omit<TaskSpec, 'kind'> = {}): Item {
  return task({ ...spec, kind: 'syncTask' });
}

export function rule(spec: Partial<Rule> & { olderThanDays?: number } = {}): Rule {
  const { olderThanDays = 7, ...rest } = spec;
  return {
    name: 'rule',
    kind: 'task',
    statuses: ['succeeded'],
    olderThan: `${olderThanDays}d`,
    olderThanMs: olderThanDays * DAY,
    keepLatest: 0,
    stopFirst: false,
    ...rest,
  };
}

export function policy(
  spec: { rules?: Rule[]; protect?: Partial<Protect>; limits?: Partial<Limits> } = {},
): Pick<Policy, 'rules' | 'protect' | 'limits'> {
  return {
    rules: spec.rules ?? [rule()],
    protect: { names: [], taskIds: [], groupTasks: true, taskGroupIds: [], syncTaskIds: [], descriptions: [], buckets: [], ...spec.protect },
    // percentFloor 0: these tests judge the percentage itself; the floor has tests of its own.
    limits: { maxDeletesPerRun: 1000, maxDeletePercent: 100, percentFloor: 0, stopTimeoutMs: 10 * MINUTE, ...spec.limits },
  };
}

/** Ids of the selected candidates, in selection order. */
export function ids(selection: { selected: { item: { id: string } }[] }): string[] {
  return selection.selected.map((candidate) => candidate.item.id);
}
