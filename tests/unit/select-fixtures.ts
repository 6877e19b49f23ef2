/** Plain data for select tests: Task literals and policies built directly, no parsing involved. */
import { STATUS_CODES } from '../../lib/oms/status.js';
import type { StatusName } from '../../lib/oms/status.js';
import type { Task } from '../../lib/oms/task.js';
import type { Limits, Policy, Protect, Rule } from '../../lib/policy/types.js';

export const MINUTE = 60_000;
export const DAY = 86_400_000;
export const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

export interface TaskSpec {
  id?: string | null;
  idText?: string;
  name?: string;
  /** A status name, or a raw code (0, 42) or null for unknown ones. */
  status?: StatusName | number | null;
  /** Age of the last activity at NOW; null = unknown age. Ignored when lastActivityMs is given. */
  ageMs?: number | null;
  startTimeMs?: number | null;
  lastActivityMs?: number | null;
  groupType?: string | null;
}

export function task(spec: TaskSpec = {}): Task {
  const id = spec.id === undefined ? '1' : spec.id;
  const ageMs = spec.ageMs === undefined ? 30 * DAY : spec.ageMs;
  const lastActivityMs = spec.lastActivityMs !== undefined ? spec.lastActivityMs : ageMs === null ? null : NOW - ageMs;
  const status = spec.status === undefined ? 'succeeded' : spec.status;
  return {
    id,
    idText: spec.idText ?? id ?? '(missing)',
    name: spec.name ?? `task-${id ?? 'x'}`,
    status: typeof status === 'string' ? STATUS_CODES[status] : status,
    startTimeMs: spec.startTimeMs !== undefined ? spec.startTimeMs : lastActivityMs,
    lastActivityMs,
    groupType: spec.groupType ?? null,
  };
}

export function rule(spec: Partial<Rule> & { olderThanDays?: number } = {}): Rule {
  const { olderThanDays = 7, ...rest } = spec;
  return {
    name: 'rule',
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
    protect: { names: [], taskIds: [], groupTasks: true, ...spec.protect },
    limits: { maxDeletesPerRun: 1000, maxDeletePercent: 100, stopTimeoutMs: 10 * MINUTE, ...spec.limits },
  };
}

/** Ids of the selected candidates, in selection order. */
export function ids(selection: { selected: { task: { id: string } }[] }): string[] {
  return selection.selected.map((candidate) => candidate.task.id);
}
