/**
 * The frozen plan: `plan --out` writes what a run would delete, an operator reviews it, and `apply` deletes exactly
 * those tasks that are still there and unchanged (docs/behaviour.md "Plan, review, apply"). This module owns the
 * manifest's format, its validation and the checks made before an apply touches anything; selection
 * (lib/policy/select.ts, `planned`) decides per task.
 */
import { z } from 'zod';
import { STATUS_NAMES, isInProgress, statusName, type StatusName } from '../oms/status.js';
import { formatPath } from '../policy/issues.js';
import { TASK_ID_DIGITS, canonicalTaskId } from '../policy/task-id.js';
import type { Candidate, PlannedTask, Policy } from '../policy/types.js';

export const MANIFEST_KIND = 'oms-task-janitor/manifest';
export const MANIFEST_VERSION = 1;
/** The default of `apply --max-age`: a week-old review says little about today's tasks. */
export const DEFAULT_MANIFEST_MAX_AGE_MS = 7 * 86_400_000;
/** How far in the future `createdAt` may be (clock skew between the machine that planned and the one that applies). */
const FUTURE_SKEW_MS = 5 * 60_000;

export type PlannedAction = 'delete' | 'pause-then-delete';

export interface ManifestTask {
  target: string;
  taskId: string;
  name: string;
  status: StatusName;
  /** ISO 8601 UTC with milliseconds: the task's last activity (start_time + total_time), exactly. */
  lastActivity: string;
  rule: string;
  action: PlannedAction;
}

export interface Manifest {
  kind: typeof MANIFEST_KIND;
  version: typeof MANIFEST_VERSION;
  createdAt: string;
  /** SHA-256 (hex) of the policy file's bytes that made the plan. */
  policySha256: string;
  targets: { name: string; projectId: string; endpoint: string }[];
  tasks: ManifestTask[];
}

/** A manifest that cannot be applied: invalid, too old, or for other targets. Nothing was done (CLI exit 2). */
export class ManifestError extends Error {
  override name = 'ManifestError';
  /** Where: `tasks[3].taskId`, `createdAt`, `targets`. */
  readonly field: string;

  constructor(where: string, field: string, message: string) {
    super(`${where}: ${field}: ${message}; nothing was done`);
    this.field = field;
  }
}

const isoMs = z.string().refine((text) => {
  const ms = Date.parse(text);
  // Only the exact form toISOString writes: another spelling of a time could be read differently elsewhere.
  return Number.isFinite(ms) && new Date(ms).toISOString() === text;
}, 'expected an ISO 8601 UTC time with milliseconds, such as 2026-11-30T12:00:00.000Z');

const taskId = z
  .string()
  .refine((id) => TASK_ID_DIGITS.test(id) && canonicalTaskId(id) === id, 'expected a task id of 1 to 19 decimal digits without leading zeros, as a string');

const schema = z.strictObject({
  kind: z.literal(MANIFEST_KIND),
  version: z.literal(MANIFEST_VERSION),
  createdAt: isoMs,
  policySha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
  targets: z.array(z.strictObject({ name: z.string().min(1), projectId: z.string().min(1), endpoint: z.string().min(1) })).min(1),
  tasks: z.array(
    z.strictObject({
      target: z.string().min(1),
      taskId,
      name: z.string(),
      status: z.enum(STATUS_NAMES as [StatusName, ...StatusName[]]),
      lastActivity: isoMs,
      rule: z.string().min(1),
      action: z.enum(['delete', 'pause-then-delete']),
    }),
  ),
});

/** Validates a parsed manifest (from a file or a Lambda event). `where` names it in errors (`manifest.json`, `event.manifest`). */
export function parseManifest(value: unknown, where: string): Manifest {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = formatPath(issue.path) || '(the manifest)';
    const message = issue.code === 'unrecognized_keys' ? `unknown field ${JSON.stringify(issue.keys[0])}` : issue.message;
    throw new ManifestError(where, field, message);
  }
  const manifest = result.data as Manifest;
  const targets = new Set<string>();
  manifest.targets.forEach((t, i) => {
    if (targets.has(t.name)) throw new ManifestError(where, `targets[${i}].name`, `target ${JSON.stringify(t.name)} appears twice`);
    targets.add(t.name);
  });
  const seen = new Set<string>();
  manifest.tasks.forEach((task, i) => {
    if (!targets.has(task.target)) throw new ManifestError(where, `tasks[${i}].target`, `${JSON.stringify(task.target)} is not one of the manifest's targets`);
    const key = `${task.target}\u0000${task.taskId}`;
    if (seen.has(key)) throw new ManifestError(where, `tasks[${i}].taskId`, `task ${task.taskId} of ${task.target} appears twice`);
    seen.add(key);
  });
  return manifest;
}

/**
 * Refuses a manifest that may not be applied now with this policy: older than `maxAgeMs` (or from the future), or
 * made for other targets (each target's name, project and endpoint must be the policy's, and the policy's targets
 * the manifest's: a manifest never steers a run at a project it was not reviewed for).
 */
export function checkManifest(manifest: Manifest, policy: Policy, nowMs: number, maxAgeMs: number, where: string): void {
  const createdMs = Date.parse(manifest.createdAt);
  if (createdMs > nowMs + FUTURE_SKEW_MS) throw new ManifestError(where, 'createdAt', `${manifest.createdAt} is in the future`);
  if (nowMs - createdMs > maxAgeMs) {
    const days = ((nowMs - createdMs) / 86_400_000).toFixed(1);
    throw new ManifestError(where, 'createdAt', `the plan is ${days} days old, older than the maximum age (${formatDays(maxAgeMs)}): plan again`);
  }
  const byName = new Map(policy.targets.map((t) => [t.name, t]));
  manifest.targets.forEach((t, i) => {
    const current = byName.get(t.name);
    if (current === undefined) throw new ManifestError(where, `targets[${i}]`, `target ${JSON.stringify(t.name)} is not in the policy`);
    if (current.projectId !== t.projectId || current.endpoint !== t.endpoint) {
      throw new ManifestError(where, `targets[${i}]`, `target ${JSON.stringify(t.name)} was planned for project ${t.projectId} at ${t.endpoint}; the policy now says ${current.projectId} at ${current.endpoint}`);
    }
  });
  const planned = new Set(manifest.targets.map((t) => t.name));
  const missing = policy.targets.filter((t) => !planned.has(t.name)).map((t) => t.name);
  if (missing.length > 0) throw new ManifestError(where, 'targets', `the policy has targets the plan did not cover (${missing.join(', ')}): plan again`);
}

/** The manifest's tasks by target name, then by id, as selection reads them. */
export function plannedByTarget(manifest: Manifest): Map<string, Map<string, PlannedTask>> {
  const out = new Map<string, Map<string, PlannedTask>>(manifest.targets.map((t) => [t.name, new Map()]));
  for (const task of manifest.tasks) {
    out.get(task.target)!.set(task.taskId, {
      name: task.name,
      status: task.status,
      lastActivityMs: Date.parse(task.lastActivity),
      rule: task.rule,
      pauseFirst: task.action === 'pause-then-delete',
    });
  }
  return out;
}

/** The manifest of a plan: `rows` are the tasks the run would delete. */
export function buildManifest(
  createdAtMs: number,
  policySha256: string,
  policy: Policy,
  rows: readonly { target: string; candidate: Candidate }[],
): Manifest {
  const tasks = rows.map(({ target, candidate }): ManifestTask => {
    const { task } = candidate;
    const status = statusName(task.status);
    if (status === undefined || task.lastActivityMs === null) {
      // Selection never picks such a task by a rule; if it ever did, the manifest must not freeze it.
      throw new TypeError(`task ${task.id} has no known status or age and cannot be planned`);
    }
    return {
      target,
      taskId: task.id,
      name: task.name,
      status,
      lastActivity: new Date(task.lastActivityMs).toISOString(),
      rule: candidate.rule,
      // The engine pauses exactly the in-progress tasks first (lib/purge/task-purge.ts).
      action: isInProgress(task.status) ? 'pause-then-delete' : 'delete',
    };
  });
  tasks.sort((a, b) => a.target.localeCompare(b.target) || Date.parse(a.lastActivity) - Date.parse(b.lastActivity));
  return {
    kind: MANIFEST_KIND,
    version: MANIFEST_VERSION,
    createdAt: new Date(createdAtMs).toISOString(),
    policySha256,
    targets: policy.targets.map((t) => ({ name: t.name, projectId: t.projectId, endpoint: t.endpoint })),
    tasks,
  };
}

function formatDays(ms: number): string {
  const days = ms / 86_400_000;
  return Number.isInteger(days) ? `${days}d` : `${(ms / 3_600_000).toFixed(1)}h`;
}
