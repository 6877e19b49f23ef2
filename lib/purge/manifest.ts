/**
 * The frozen plan: `plan --out` writes what a run would delete, an operator reviews it, and `apply` deletes exactly
 * those tasks that are still there and unchanged (docs/behaviour.md "Plan, review, apply"). This module owns the
 * manifest's format, its validation and the checks made before an apply touches anything; selection
 * (lib/policy/select.ts, `planned`) decides per task.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isValidId } from '../oms/item.js';
import { KIND_MODELS, KINDS, handlingOf, statusName, type Kind, type RawStatus } from '../oms/kinds.js';
import { formatPath } from '../policy/issues.js';
import type { Candidate, PlannedItems, PlannedTask, Policy } from '../policy/types.js';
import type { RunChoices } from './request.js';
import { InvalidInput } from '../errors.js';

export const MANIFEST_KIND = 'oms-task-janitor/manifest';
export const MANIFEST_VERSION = 1;
/** The default of `apply --max-age`: a week-old review says little about today's tasks. */
export const DEFAULT_MANIFEST_MAX_AGE_MS = 7 * 86_400_000;
/** How far in the future `createdAt` may be (clock skew between the machine that planned and the one that applies). */
const FUTURE_SKEW_MS = 5 * 60_000;

/**
 * What the run sends in the planned state (the kind's handling, lib/oms/kinds.ts): informative, for the reviewer.
 * Which in-progress items may be interrupted is decided by the current policy's rules, not by this field.
 */
export type PlannedAction = 'delete' | 'pause-then-delete' | 'wait-then-delete';
const PLANNED_ACTIONS = ['delete', 'pause-then-delete', 'wait-then-delete'] as const satisfies readonly PlannedAction[];

/**
 * One planned item. A migration task is written as it always was (`taskId`, `name`, no `kind`); a task group or a
 * sync task says its `kind`, its `id`, and what rules match it on (description and buckets) instead of a name.
 */
export interface ManifestTask {
  target: string;
  /** Absent for tasks. */
  kind?: Kind;
  /** Tasks. */
  taskId?: string;
  name?: string;
  /** Task groups and sync tasks. */
  id?: string;
  description?: string;
  sourceBucket?: string;
  destinationBucket?: string;
  /** A status name of the item's kind. */
  status: string;
  /** ISO 8601 UTC with milliseconds: the item's last activity (lib/oms/item.ts), exactly. */
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
  /**
   * What the plan selected but left out of `tasks`, per target and kind, and why (`refused`: over
   * limits.maxDeletePercent; `run-cap`: over limits.maxDeletesPerRun), so that a reviewer sees what is missing.
   */
  leftOut?: LeftOut[];
  /**
   * Selections over limits.maxDeletePercent that a reviewer accepted (`plan --accept-over-limit`), per target and
   * kind: `apply` lets exactly these planned items past the limit, and nothing else.
   */
  acceptedOverLimit?: OverLimitAcceptance[];
}

/** One reviewed acceptance of a selection over limits.maxDeletePercent. */
export interface OverLimitAcceptance {
  target: string;
  kind: Kind;
  /** How many entries of `tasks` (this target and kind) it covers: all of them, exactly. */
  items: number;
  /**
   * SHA-256 (hex) of those entries' ids, sorted and joined by newlines: an entry added, removed or swapped after the
   * review no longer matches. A guard against mistakes and mix-ups, not against someone who edits the file on
   * purpose (who could as well plan with the acceptance).
   */
  itemsSha256: string;
  /** The plan's selection and listing of that kind in that target, as they were judged. */
  selected: number;
  listed: number;
  /** Who accepted it (user@host, or OMS_JANITOR_OPERATOR) and when (ISO 8601 UTC). */
  acceptedBy: string;
  acceptedAt: string;
}

export interface LeftOut {
  target: string;
  kind: Kind;
  count: number;
  reason: 'refused' | 'run-cap';
}

/** A manifest that cannot be applied: invalid, too old, or for other targets. Nothing was done (CLI exit 2). */
export class ManifestError extends InvalidInput {
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

const schema = z.strictObject({
  kind: z.literal(MANIFEST_KIND),
  version: z.literal(MANIFEST_VERSION),
  createdAt: isoMs,
  policySha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
  targets: z.array(z.strictObject({ name: z.string().min(1), projectId: z.string().min(1), endpoint: z.string().min(1) })).min(1),
  tasks: z.array(
    z
      .strictObject({
        target: z.string().min(1),
        kind: z.enum(KINDS).optional(),
        taskId: z.string().optional(),
        name: z.string().optional(),
        id: z.string().optional(),
        description: z.string().optional(),
        sourceBucket: z.string().optional(),
        destinationBucket: z.string().optional(),
        status: z.string(),
        lastActivity: isoMs,
        rule: z.string().min(1),
        action: z.enum(PLANNED_ACTIONS),
      })
      .superRefine(entryOfKind),
  ),
  leftOut: z
    .array(z.strictObject({ target: z.string().min(1), kind: z.enum(KINDS), count: z.number().int().positive(), reason: z.enum(['refused', 'run-cap']) }))
    .optional(),
  acceptedOverLimit: z
    .array(
      z.strictObject({
        target: z.string().min(1),
        kind: z.enum(KINDS),
        items: z.number().int().positive(),
        itemsSha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
        selected: z.number().int().positive(),
        listed: z.number().int().positive(),
        acceptedBy: z.string().min(1),
        acceptedAt: isoMs,
      }),
    )
    .optional(),
});

/** The fields of an entry must be its kind's: a task's id and name, or another kind's id, description and buckets. */
function entryOfKind(entry: { kind?: Kind; taskId?: string; name?: string; id?: string; status: string } & Record<string, unknown>, ctx: z.RefinementCtx): void {
  const kind = entry.kind ?? 'task';
  const model = KIND_MODELS[kind];
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  const [idField, ownFields, otherFields] =
    kind === 'task' ? ['taskId', ['name'], ['id', 'description', 'sourceBucket', 'destinationBucket']] : ['id', ['description', 'sourceBucket', 'destinationBucket'], ['taskId', 'name']];
  const id = entry[idField];
  if (typeof id !== 'string' || !isValidId(kind, id)) {
    issue(idField, kind === 'task' ? 'expected a task id of 1 to 19 decimal digits without leading zeros, as a string' : `expected a ${model.noun} id (letters, digits, _, - and .), as a string`);
  }
  for (const field of ownFields) if (entry[field] === undefined) issue(field, 'required');
  for (const field of otherFields) if (entry[field] !== undefined) issue(field, `is not a field of a ${model.noun} entry`);
  if (!model.ruleStatuses.includes(entry.status)) issue('status', `expected a ${model.noun} status (${model.ruleStatuses.join(', ')}), got ${JSON.stringify(entry.status)}`);
}

/** The id of an entry, whatever its kind. */
function entryId(task: ManifestTask): string {
  return (task.kind ?? 'task') === 'task' ? task.taskId! : task.id!;
}

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
    const kind = task.kind ?? 'task';
    const key = `${task.target}\u0000${kind}\u0000${entryId(task)}`;
    if (seen.has(key)) {
      throw new ManifestError(where, `tasks[${i}].${kind === 'task' ? 'taskId' : 'id'}`, `${KIND_MODELS[kind].noun} ${entryId(task)} of ${task.target} appears twice`);
    }
    seen.add(key);
  });
  // An acceptance covers exactly the items reviewed with it: an entry added to the file afterwards is not accepted.
  const accepted = new Set<string>();
  manifest.acceptedOverLimit?.forEach((a, i) => {
    if (!targets.has(a.target)) throw new ManifestError(where, `acceptedOverLimit[${i}].target`, `${JSON.stringify(a.target)} is not one of the manifest's targets`);
    const key = `${a.target}\u0000${a.kind}`;
    if (accepted.has(key)) throw new ManifestError(where, `acceptedOverLimit[${i}]`, `${a.target} (${a.kind}) is accepted twice`);
    accepted.add(key);
    const entries = manifest.tasks.filter((t) => t.target === a.target && (t.kind ?? 'task') === a.kind);
    const planned = entries.length;
    if (planned !== a.items || a.items > a.selected || a.selected > a.listed || idsDigest(entries.map(entryId)) !== a.itemsSha256) {
      throw new ManifestError(
        where,
        `acceptedOverLimit[${i}].items`,
        `the acceptance of ${a.target} (${a.kind}) covers ${a.items} item(s) (${a.selected} selected of ${a.listed} listed), but the manifest plans ${planned} ` +
          `of them${planned === a.items ? ', not the same ones' : ''}: an acceptance covers exactly the items reviewed with it; plan again`,
      );
    }
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

/**
 * The warning when the policy file changed since the plan, with what truly follows (the CLI and the Lambda handler
 * log the same): the current policy decides, item by item, so a change can only leave planned items alone.
 */
export function policyChangeNotice(manifest: Manifest, policySha256: string): Record<string, string> | undefined {
  if (manifest.policySha256 === policySha256) return undefined;
  return {
    plannedWith: manifest.policySha256,
    now: policySha256,
    effect:
      'the current policy decides: a planned item goes only if one of its rules selects it as it is now; planned items ' +
      'no rule selects now are left alone (no-rule-now), and nothing the plan did not name is added',
  };
}

/**
 * What a manifest asks of a run (the CLI's `apply` and the Lambda's `{"manifest": …}` build the run from this): its
 * items by target and kind, and the reviewed acceptances that let exactly those items past limits.maxDeletePercent.
 */
export function manifestChoices(manifest: Manifest): Pick<RunChoices, 'plannedByTarget' | 'acceptedOverLimit'> {
  return {
    plannedByTarget: plannedByTarget(manifest),
    ...(manifest.acceptedOverLimit?.length
      ? { acceptedOverLimit: manifest.acceptedOverLimit.map(({ target, kind, acceptedBy, acceptedAt }) => ({ target, kind, acceptedBy, acceptedAt })) }
      : {}),
  };
}

/** The manifest's items by target name, then kind, then id, as selection reads them. */
export function plannedByTarget(manifest: Manifest): Map<string, PlannedItems> {
  const out = new Map<string, Map<Kind, Map<string, PlannedTask>>>(manifest.targets.map((t) => [t.name, new Map()]));
  for (const task of manifest.tasks) {
    const kind = task.kind ?? 'task';
    const byKind = out.get(task.target)!;
    if (!byKind.has(kind)) byKind.set(kind, new Map());
    byKind.get(kind)!.set(entryId(task), {
      name: task.name ?? '',
      ...(kind === 'task' ? {} : { description: task.description ?? '', srcBucket: task.sourceBucket ?? '', dstBucket: task.destinationBucket ?? '' }),
      status: task.status,
      lastActivityMs: Date.parse(task.lastActivity),
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
  notes: { leftOut?: readonly LeftOut[]; acceptedOverLimit?: readonly Omit<OverLimitAcceptance, 'itemsSha256'>[] } = {},
): Manifest {
  const { leftOut = [] } = notes;
  const tasks = rows.map(({ target, candidate }): ManifestTask => {
    const { item } = candidate;
    const status = statusName(item.kind, item.status);
    if (status === undefined || item.lastActivityMs === null) {
      // Selection never picks such an item by a rule; if it ever did, the manifest must not freeze it.
      throw new TypeError(`${KIND_MODELS[item.kind].noun} ${item.id} has no known status or age and cannot be planned`);
    }
    const about =
      item.kind === 'task'
        ? { taskId: item.id, name: item.name }
        : { kind: item.kind, id: item.id, description: item.description ?? '', sourceBucket: item.srcBucket ?? '', destinationBucket: item.dstBucket ?? '' };
    return {
      target,
      ...about,
      status,
      lastActivity: new Date(item.lastActivityMs).toISOString(),
      rule: candidate.rule,
      action: plannedAction(item.kind, item.status),
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
    ...(leftOut.length > 0 ? { leftOut: [...leftOut] } : {}),
    ...(notes.acceptedOverLimit?.length
      ? {
          acceptedOverLimit: notes.acceptedOverLimit.map((a) => ({
            ...a,
            itemsSha256: idsDigest(tasks.filter((t) => t.target === a.target && (t.kind ?? 'task') === a.kind).map(entryId)),
          })),
        }
      : {}),
  };
}

/** The digest of an acceptance's entries (OverLimitAcceptance.itemsSha256). */
function idsDigest(ids: readonly string[]): string {
  return createHash('sha256').update([...ids].sort().join('\n')).digest('hex');
}

/** What a manifest left out, in words: `main (task): 30 refused (over limits.maxDeletePercent)`. */
export function leftOutText(leftOut: readonly LeftOut[]): string {
  const why = { refused: 'refused (over limits.maxDeletePercent)', 'run-cap': 'deferred (over limits.maxDeletesPerRun)' } as const;
  return leftOut.map((l) => `${l.target} (${l.kind}): ${l.count} ${why[l.reason]}`).join('; ');
}

/** What the engine sends in this state (lib/purge/item-purge.ts reads the same handling). */
export function plannedAction(kind: Kind, status: RawStatus | null): PlannedAction {
  const handling = handlingOf(kind, status);
  return handling === 'pause' ? 'pause-then-delete' : handling === 'wait' ? 'wait-then-delete' : 'delete';
}

function formatDays(ms: number): string {
  const days = ms / 86_400_000;
  return Number.isInteger(days) ? `${days}d` : `${(ms / 3_600_000).toFixed(1)}h`;
}
