import { TASK_ID_DIGITS, canonicalTaskId } from '../policy/task-id.js';
import type { Kind } from '../oms/kinds.js';
import type { PlannedItems, Policy } from '../policy/types.js';
import type { ForceGrant, PurgeRequest } from './engine.js';
import { InvalidInput } from '../errors.js';

/** Bad run input (an unknown target, a malformed task id), found before anything is listed or changed. */
export class InputError extends InvalidInput {
  override name = 'InputError';
  /** Where the bad value is: `--target`, `taskIds[2]`, … */
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

export interface RunChoices {
  /** true: a dry run. false or undefined: the policy decides (its dryRun, default false); a policy with
   * `dryRun: true` is never made real by a flag or an event. Callers choose the default (CLI and manual events: true). */
  dryRun?: boolean;
  targets?: string[];
  taskIds?: string[];
  stopFirst?: boolean;
  /** Let a target through that limits.maxDeletePercent would refuse: every kind (true), or only these kinds. */
  force?: boolean | readonly Kind[];
  /** Applying a manifest (lib/purge/manifest.ts): its items by target and kind; exclusive of targets, taskIds and stopFirst. */
  plannedByTarget?: ReadonlyMap<string, PlannedItems>;
  /**
   * A reviewer's acceptance of a selection over limits.maxDeletePercent, per target (and kind; absent: every kind):
   * `plan --accept-over-limit`, and a manifest's `acceptedOverLimit` when it is applied (only its planned items).
   */
  acceptedOverLimit?: readonly { target: string; kind?: Kind; acceptedBy?: string; acceptedAt?: string }[];
}

/**
 * The one place where run choices (CLI flags or a manual Lambda event) meet the policy. `fieldNames` says how the
 * caller calls each choice, so errors point at what the user typed (`--task-id` vs `taskIds`).
 */
export function buildRequest(
  policy: Policy,
  choices: RunChoices,
  fieldNames: { targets: string; taskIds: string; stopFirst: string; acceptedOverLimit?: string },
): PurgeRequest {
  const known = new Set(policy.targets.map((t) => t.name));
  choices.acceptedOverLimit?.forEach(({ target }, i) => {
    if (!known.has(target)) {
      throw new InputError(`${fieldNames.acceptedOverLimit ?? 'acceptedOverLimit'}[${i}]`, `unknown target ${JSON.stringify(target)}; the policy has ${[...known].join(', ')}`);
    }
    if (choices.targets && !choices.targets.includes(target)) {
      throw new InputError(`${fieldNames.acceptedOverLimit ?? 'acceptedOverLimit'}[${i}]`, `target ${JSON.stringify(target)} is not one of this run's targets (${fieldNames.targets})`);
    }
  });
  choices.targets?.forEach((name, i) => {
    if (!known.has(name)) {
      throw new InputError(`${fieldNames.targets}[${i}]`, `unknown target ${JSON.stringify(name)}; the policy has ${[...known].join(', ')}`);
    }
  });
  const taskIds = choices.taskIds?.map((id, i) => {
    // Exact ids only: `0042` is refused rather than read as 42, so a purge never reaches a task nobody named.
    if (typeof id !== 'string' || !TASK_ID_DIGITS.test(id) || canonicalTaskId(id) !== id) {
      throw new InputError(`${fieldNames.taskIds}[${i}]`, `expected a task id of 1 to 19 decimal digits without leading zeros, got ${JSON.stringify(id)}`);
    }
    return id;
  });
  if (choices.taskIds && choices.taskIds.length === 0) throw new InputError(fieldNames.taskIds, 'is empty');
  // An empty list must not mean "all": that reading turns a typo into the widest possible run.
  if (choices.targets && choices.targets.length === 0) throw new InputError(fieldNames.targets, 'is empty; leave it out to run every target');
  if (choices.stopFirst && !choices.taskIds) throw new InputError(fieldNames.stopFirst, `applies only with ${fieldNames.taskIds}; rules say stopFirst in the policy`);
  if (choices.plannedByTarget && (choices.taskIds || choices.targets)) {
    throw new InputError(choices.taskIds ? fieldNames.taskIds : fieldNames.targets, 'cannot be combined with a manifest: the manifest says which tasks');
  }
  return {
    policy,
    dryRun: policy.dryRun || choices.dryRun === true,
    ...(choices.targets ? { targets: [...new Set(choices.targets)] } : {}),
    ...(taskIds ? { taskIds: [...new Set(taskIds)] } : {}),
    ...(choices.stopFirst ? { stopFirst: true } : {}),
    ...forceGrants(choices),
    ...(choices.plannedByTarget ? { plannedByTarget: choices.plannedByTarget } : {}),
  };
}

/** `force` (every kind, or some kinds, in every target) and reviewed acceptances (one target, one kind or all) as grants. */
function forceGrants(choices: RunChoices): { force?: ForceGrant[] } {
  const grants: ForceGrant[] =
    choices.force === true ? [{}] : choices.force ? [...new Set(choices.force)].map((kind) => ({ kind })) : [];
  for (const a of choices.acceptedOverLimit ?? []) grants.push({ ...a });
  return grants.length > 0 ? { force: grants } : {};
}
