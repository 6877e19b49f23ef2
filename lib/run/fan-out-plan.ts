/**
 * `limits.maxDeletesPerRun` over a fanned-out run. Without fan-out one invocation sees every target's selection and
 * takes the oldest items over all of them up to the cap (lib/policy/run-cap.ts). With fan-out each target runs in its
 * own invocations, so the state machine first plans: each target's invocation selects as a dry run would and writes
 * the age and id of what it would act on (at most the cap) to the archive root. Each target's later invocations
 * read every target's plan and take their share of the cap, the same split applyRunCap makes over one run: so an
 * execution never acts on more than the cap over all its targets and rounds, and the oldest go first over all of them.
 */
import { createHash } from 'node:crypto';
import type { ArchiveStore } from '../archive/store.js';
import { applyRunCap } from '../policy/run-cap.js';
import type { Candidate, TargetSelection } from '../policy/types.js';

/** What one target would act on, oldest first: each item's last activity and id (ages and ids only). */
export interface TargetPlan {
  target: string;
  lastActivityMs: number[];
  ids: string[];
}

/** Where an execution's plan for a target is kept (`state/fan-out/<execution>/<target>.json`). */
export function planKey(executionId: string, target: string): string {
  const execution = createHash('sha256').update(executionId).digest('hex').slice(0, 24);
  return `state/fan-out/${execution}/${encodeURIComponent(target)}.json`;
}

export async function writePlan(store: ArchiveStore, executionId: string, plan: TargetPlan): Promise<void> {
  await store.put(planKey(executionId, plan.target), Buffer.from(`${JSON.stringify({ executionId, ...plan })}\n`), 'application/json');
}

/**
 * The target's share of `cap` in this execution, from every target's plan: how many of the oldest `cap` items over
 * all targets are its own (ties as applyRunCap breaks them: smaller id, then target order). A target whose plan is
 * missing (its planning failed) contributes nothing; a plan that cannot be read as written gives the target 0.
 */
export async function shareOfCap(store: ArchiveStore, executionId: string, targets: readonly string[], target: string, cap: number): Promise<number> {
  const at = targets.indexOf(target);
  if (at < 0) return 0;
  const plans = await Promise.all(targets.map((name) => readPlan(store, executionId, name)));
  if (plans[at] === undefined) return 0;
  const selections = plans.map((plan): TargetSelection => ({ listed: 0, selected: plan ? candidates(plan) : [], protected: 0, kept: 0, skipped: [], refused: false }));
  return applyRunCap(selections, cap).run[at]!.length;
}

async function readPlan(store: ArchiveStore, executionId: string, target: string): Promise<TargetPlan | undefined> {
  const body = await store.get(planKey(executionId, target));
  if (body === undefined) return undefined;
  const plan = JSON.parse(body.toString('utf8')) as Partial<TargetPlan> & { executionId?: string };
  const valid =
    plan.executionId === executionId &&
    plan.target === target &&
    Array.isArray(plan.lastActivityMs) &&
    Array.isArray(plan.ids) &&
    plan.ids.length === plan.lastActivityMs.length &&
    plan.lastActivityMs.every((ms) => Number.isSafeInteger(ms)) &&
    plan.ids.every((id) => typeof id === 'string');
  return valid ? (plan as TargetPlan) : undefined;
}

/** Just enough of a candidate for applyRunCap's order (last activity, then id). */
function candidates(plan: TargetPlan): Candidate[] {
  return plan.ids.map((id, i) => ({ item: { id } as Candidate['item'], rule: 'plan', lastActivityMs: plan.lastActivityMs[i]! }));
}
