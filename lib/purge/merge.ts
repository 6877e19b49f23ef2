/**
 * One run summary from the per-target invocations of a fanned-out run (issue 18: Step Functions runs one invocation
 * per target, again while a target has work left). Pure: the state machine's last step calls it with what each
 * invocation returned, or the error it failed with.
 */
import { BLOCK_KEYS, addTotals, emptyTotals, type KindSummary, type RunSummary, type TargetSummary, type Totals } from './summary.js';

/** What one target's invocations gave: their summaries, round by round, or the error that ended the target. */
export interface TargetRounds {
  target: string;
  summaries: RunSummary[];
  /** The last invocation failed (credentials, a refused event): the target is reported stopped with this. */
  error?: string;
}

/** Whether a target's invocation stopped at its deadline with work left: invoked again, while rounds remain. */
export function hasWorkLeft(summary: RunSummary): boolean {
  return summary.targets.some((t) => [t.deferredItems ?? [], t.taskGroups?.deferredItems ?? [], t.syncTasks?.deferredItems ?? []].some((items) => items.some((d) => d.reason === 'time-budget')));
}

export function mergeSummaries(runId: string, rounds: readonly TargetRounds[]): RunSummary {
  const all = rounds.flatMap((r) => r.summaries);
  const first = all[0];
  const merged: RunSummary = {
    runId,
    dryRun: all.length > 0 && all.every((s) => s.dryRun),
    startedAt: all.map((s) => s.startedAt).sort()[0] ?? new Date().toISOString(),
    finishedAt: all.map((s) => s.finishedAt).sort().at(-1) ?? new Date().toISOString(),
    totals: emptyTotals(),
    targets: [],
  };
  for (const key of Object.values(BLOCK_KEYS)) if (all.some((s) => s[key] !== undefined)) merged[key] = emptyTotals();
  for (const { target, summaries, error } of rounds) {
    const own = summaries.map((s) => s.targets.find((t) => t.name === target)).filter((t): t is TargetSummary => t !== undefined);
    const combined = combineRounds(own) ?? { ...emptyTarget(target, first) };
    if (error !== undefined) Object.assign(combined, { error: `stopped: ${error}`, truncated: true });
    merged.targets.push(combined);
    // Totals over the target's rounds: what was done adds up; what was listed and selected is the first round's.
    const totals = roundTotals(summaries, (s) => s.totals);
    addTotals(merged.totals, totals);
    for (const key of Object.values(BLOCK_KEYS)) if (merged[key]) addTotals(merged[key]!, roundTotals(summaries, (s) => s[key] ?? emptyTotals()));
  }
  for (const field of ['notFound', 'notSelected', 'alreadyGone', 'changedSincePlan', 'noRuleNow'] as const) {
    const ids = [...new Set(all.flatMap((s) => s[field] ?? []))];
    if (ids.length > 0) merged[field] = ids;
  }
  return merged;
}

/** Listed, selected, protected, kept and skipped from the first round; deleted and failed summed; deferred the last's. */
function roundTotals(summaries: readonly RunSummary[], pick: (s: RunSummary) => Totals): Totals {
  const out = emptyTotals();
  if (summaries.length === 0) return out;
  const firstRound = pick(summaries[0]!);
  for (const key of ['listed', 'selected', 'protected', 'kept', 'skipped'] as const) out[key] = firstRound[key];
  for (const s of summaries) {
    out.deleted += pick(s).deleted;
    out.failed += pick(s).failed;
  }
  out.deferred = pick(summaries.at(-1)!).deferred;
  return out;
}

/** A target's summary over its rounds, the same way, and each of its kinds' blocks. */
function combineRounds(rounds: readonly TargetSummary[]): TargetSummary | undefined {
  if (rounds.length === 0) return undefined;
  const target = combine(rounds);
  for (const key of Object.values(BLOCK_KEYS)) {
    const blocks = rounds.map((t) => t[key]).filter((b): b is KindSummary => b !== undefined);
    if (blocks.length > 0) target[key] = combine(blocks);
  }
  return target;
}

type RoundCounters = Pick<KindSummary, 'deleted' | 'failed' | 'deferred' | 'refused' | 'truncated' | 'failuresOmitted' | 'deferredOmitted' | 'error'> & {
  failures: unknown[];
  deferredItems?: unknown[];
};

/**
 * Rounds of one lane (a target's tasks, or one block): what was listed and selected is the first round's; deleted,
 * failed and the failures add up; what is left (deferred, truncated, the deferred items, an error) is the last's.
 */
function combine<T extends RoundCounters>(rounds: readonly T[]): T {
  const last = rounds.at(-1)!;
  const out: T = {
    ...rounds[0]!,
    deleted: sum(rounds, (r) => r.deleted),
    failed: sum(rounds, (r) => r.failed),
    deferred: last.deferred,
    refused: rounds.some((r) => r.refused),
    truncated: last.truncated,
    failures: rounds.flatMap((r) => r.failures) as T['failures'],
  };
  const omitted = sum(rounds, (r) => r.failuresOmitted ?? 0);
  if (omitted > 0) out.failuresOmitted = omitted;
  else delete out.failuresOmitted;
  for (const field of ['deferredItems', 'deferredOmitted', 'error'] as const) {
    if (last[field] === undefined) delete out[field];
    else (out as Record<string, unknown>)[field] = last[field];
  }
  return out;
}

function emptyTarget(name: string, like: RunSummary | undefined): TargetSummary {
  const base: TargetSummary = { name, projectId: '', listed: 0, selected: 0, deleted: 0, failed: 0, deferred: 0, refused: false, truncated: true, failures: [] };
  for (const key of Object.values(BLOCK_KEYS)) if (like?.[key]) base[key] = { ...emptyTotals(), refused: false, truncated: true, failures: [] };
  return base;
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((n, item) => n + value(item), 0);
}

/** Failures and deferred items a fanned-out target passes on, per kind (the rest are counted, and all are in the logs). */
export const FAN_OUT_ITEMS_LISTED = 10;

/**
 * A summary kept small (a target's ledger, a state machine's output, 256 KB per state): its lists cut to `listed`
 * items per kind, the rest counted.
 */
export function compactForFanOut(summary: RunSummary, listed = FAN_OUT_ITEMS_LISTED): RunSummary {
  const cut = <T>(items: T[] | undefined, omitted: number | undefined) =>
    items === undefined ? {} : { items: items.slice(0, listed), omitted: (omitted ?? 0) + Math.max(0, items.length - listed) };
  const targets = summary.targets.map((t) => {
    const failures = cut(t.failures, t.failuresOmitted);
    const deferred = cut(t.deferredItems, t.deferredOmitted);
    const out: TargetSummary = { ...t, failures: failures.items ?? [], ...(failures.omitted ? { failuresOmitted: failures.omitted } : {}) };
    if (deferred.items) Object.assign(out, { deferredItems: deferred.items, ...(deferred.omitted ? { deferredOmitted: deferred.omitted } : {}) });
    for (const key of Object.values(BLOCK_KEYS)) {
      const block = t[key];
      if (!block) continue;
      const f = cut(block.failures, block.failuresOmitted);
      const d = cut(block.deferredItems, block.deferredOmitted);
      out[key] = { ...block, failures: f.items ?? [], ...(f.omitted ? { failuresOmitted: f.omitted } : {}), ...(d.items ? { deferredItems: d.items, ...(d.omitted ? { deferredOmitted: d.omitted } : {}) } : {}) };
    }
    return out;
  });
  return { ...summary, targets };
}
