/**
 * `limits.maxDeletesPerRun` over a fanned-out run. Without fan-out one invocation sees every target's selection and
 * takes the oldest items over all of them up to the cap (lib/policy/run-cap.ts). With fan-out each target runs in its
 * own invocations, so the execution keeps its accounts in the archive root, under `state/fan-out/<execution>/`:
 * - `plans/<target>.json`: what the target would act on, oldest first (ages and ids), from its plan step, a dry-run
 *   selection; written once (a retried step keeps the first);
 * - `shares.json`: every target's share of the cap, the split applyRunCap makes over one run, fixed once by the first
 *   target round from the plans there are then (a plan that lands later changes nothing);
 * - `targets/<target>.json`: the target's ledger: how much of its share its rounds have used (a round reserves what
 *   it may use before it starts and gives back what it did not use when it ends, both by conditional writes, so a
 *   retried or overlapping round never takes the same share twice), and its summary over its rounds so far.
 * The state machine carries none of this: what an invocation is told cannot raise a cap.
 */
import { createHash } from 'node:crypto';
import { PreconditionFailed, type ArchiveStore } from '../archive/store.js';
import { applyRunCap } from '../policy/run-cap.js';
import type { Candidate, TargetSelection } from '../policy/types.js';
import type { RunSummary } from '../purge/summary.js';

/** What one target would act on, oldest first: each item's last activity and id (ages and ids only). */
export interface TargetPlan {
  target: string;
  lastActivityMs: number[];
  ids: string[];
}

/** A target's ledger: its share, what its rounds have used or reserved of it, its summary over its rounds. */
export interface TargetLedger {
  executionId: string;
  target: string;
  share: number;
  used: number;
  rounds: number;
  /** Rounds reserved and not yet settled (overlapping ones: a step retried while its first invocation ran). */
  inFlight?: number;
  /** While any round runs: when the last of them ends at the latest (ISO 8601). */
  inFlightUntil?: string;
  summary?: RunSummary;
}

const folder = (executionId: string) => `state/fan-out/${createHash('sha256').update(executionId).digest('hex').slice(0, 24)}`;
export const planKey = (executionId: string, target: string) => `${folder(executionId)}/plans/${encodeURIComponent(target)}.json`;
const sharesKey = (executionId: string) => `${folder(executionId)}/shares.json`;
const ledgerKey = (executionId: string, target: string) => `${folder(executionId)}/targets/${encodeURIComponent(target)}.json`;
const json = (value: unknown) => Buffer.from(`${JSON.stringify(value)}\n`);

/** Keeps the target's plan, unless the execution has one for it already (a retried plan step keeps the first). */
export async function writePlan(store: ArchiveStore, executionId: string, plan: TargetPlan): Promise<void> {
  await store.putIf(planKey(executionId, plan.target), json({ executionId, ...plan }), 'application/json', { ifNoneMatch: true }).catch((error: unknown) => {
    if (!(error instanceof PreconditionFailed)) throw error;
  });
}

/**
 * Every target's share of `cap` in this execution: how many of the oldest `cap` items over all targets' plans are
 * its own (ties as applyRunCap breaks them: smaller id, then target order). Fixed by the first caller from the plans
 * there are then; later callers read those shares. A target without a plan (its planning failed) is not in them.
 */
export async function sharesOfCap(store: ArchiveStore, executionId: string, targets: readonly string[], cap: number): Promise<Record<string, number>> {
  const fixed = await readShares(store, executionId);
  if (fixed) return fixed;
  const plans = await Promise.all(targets.map((name) => readPlan(store, executionId, name)));
  const selections = plans.map((plan): TargetSelection => ({ listed: 0, selected: plan ? candidates(plan) : [], protected: 0, kept: 0, skipped: [], refused: false }));
  const split = applyRunCap(selections, cap);
  const shares: Record<string, number> = {};
  targets.forEach((name, i) => {
    if (plans[i] !== undefined) shares[name] = split.run[i]!.length;
  });
  try {
    await store.putIf(sharesKey(executionId), json({ executionId, cap, shares }), 'application/json', { ifNoneMatch: true });
    return shares;
  } catch (error) {
    if (!(error instanceof PreconditionFailed)) throw error;
    // Another target fixed them first: theirs count.
    const theirs = await readShares(store, executionId);
    if (!theirs) throw new Error(`${sharesKey(executionId)}: written by another round, but unreadable`);
    return theirs;
  }
}

/**
 * Reserves what the target's round may act on: its share less what its earlier rounds used or still hold reserved.
 * Returns the reservation (possibly 0) and the ledger as it was.
 */
export async function reserveRound(store: ArchiveStore, executionId: string, target: string, share: number, endsByMs: number): Promise<{ reserved: number; before: TargetLedger }> {
  return update(store, executionId, target, share, (before) => {
    const reserved = Math.max(0, before.share - before.used);
    const inFlightUntil = new Date(Math.max(endsByMs, Date.parse(before.inFlightUntil ?? '') || 0)).toISOString();
    return { next: { ...before, used: before.used + reserved, rounds: before.rounds + 1, inFlight: (before.inFlight ?? 0) + 1, inFlightUntil }, result: { reserved, before } };
  });
}

/**
 * Ends a round: what it reserved but did not act on goes back to the share, and its summary joins the ledger's
 * (`combine` merges the summary so far, if any, with this round's). A round that failed settles with no summary and
 * `acted` = `reserved` (what it did is not known: its reservation stays used).
 */
export async function settleRound(
  store: ArchiveStore,
  executionId: string,
  target: string,
  round: { reserved: number; acted: number; summary?: RunSummary },
  combine: (sofar: RunSummary | undefined, round: RunSummary) => RunSummary,
): Promise<TargetLedger> {
  return update(store, executionId, target, 0, (before) => {
    const { inFlight = 1, inFlightUntil, summary: sofar, ...rest } = before;
    const summary = round.summary ? combine(sofar, round.summary) : sofar;
    const running = inFlight > 1 ? { inFlight: inFlight - 1, ...(inFlightUntil ? { inFlightUntil } : {}) } : {};
    const next: TargetLedger = { ...rest, ...running, used: before.used - round.reserved + Math.min(round.acted, round.reserved), ...(summary ? { summary } : {}) };
    return { next, result: next };
  });
}

/** The target's ledger, if any of its rounds ran. */
export async function readLedger(store: ArchiveStore, executionId: string, target: string): Promise<TargetLedger | undefined> {
  const body = await store.get(ledgerKey(executionId, target));
  return body === undefined ? undefined : ledgerFrom(body, executionId, target);
}

/** A conditional read-modify-write of the ledger, again from the top when another writer came first. */
async function update<T>(store: ArchiveStore, executionId: string, target: string, share: number, change: (before: TargetLedger) => { next: TargetLedger; result: T }): Promise<T> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const current = await store.getTagged(ledgerKey(executionId, target));
    const before = current ? ledgerFrom(current.body, executionId, target) : { executionId, target, share, used: 0, rounds: 0 };
    const { next, result } = change(before);
    try {
      await store.putIf(ledgerKey(executionId, target), json(next), 'application/json', current ? { ifMatch: current.etag } : { ifNoneMatch: true });
      return result;
    } catch (error) {
      if (!(error instanceof PreconditionFailed)) throw error;
    }
  }
  throw new Error(`${ledgerKey(executionId, target)}: could not be updated (other writers kept coming first)`);
}

function ledgerFrom(body: Buffer, executionId: string, target: string): TargetLedger {
  const ledger = JSON.parse(body.toString('utf8')) as Partial<TargetLedger>;
  const whole = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  if (ledger.executionId !== executionId || ledger.target !== target || !whole(ledger.share) || !whole(ledger.used) || !whole(ledger.rounds) || !whole(ledger.inFlight ?? 0)) {
    throw new Error(`${ledgerKey(executionId, target)}: not a ledger of this execution and target`);
  }
  return ledger as TargetLedger;
}

async function readShares(store: ArchiveStore, executionId: string): Promise<Record<string, number> | undefined> {
  const body = await store.get(sharesKey(executionId));
  if (body === undefined) return undefined;
  const parsed = JSON.parse(body.toString('utf8')) as { executionId?: string; shares?: Record<string, unknown> };
  const shares = parsed.shares ?? {};
  if (parsed.executionId !== executionId || Object.values(shares).some((n) => !Number.isSafeInteger(n) || (n as number) < 0)) {
    throw new Error(`${sharesKey(executionId)}: not the shares of this execution`);
  }
  return shares as Record<string, number>;
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
