import type { RunSummary } from '../purge/summary.js';
import type { ReportMode } from './settings.js';

/**
 * The report's `outcome` message attribute, for subscription filter policies; the first that applies wins:
 * - `failures`: a task failed, or a target stopped (listing failed, a 401, 5 403s or 5 throttled requests in a row);
 * - `refused`: a target was refused (selection above maxDeletePercent);
 * - `changes`: a real run deleted or deferred tasks (a dry run changes nothing, so it is never `changes`);
 * - `clean`: nothing of the above (only reported with `report: always`).
 */
export const RUN_OUTCOMES = ['failures', 'refused', 'changes', 'clean'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export function runOutcome(summary: RunSummary): RunOutcome {
  const { totals, targets } = summary;
  if (totals.failed > 0 || targets.some((t) => t.error !== undefined)) return 'failures';
  if (targets.some((t) => t.refused)) return 'refused';
  if (!summary.dryRun && (totals.deleted > 0 || totals.deferred > 0)) return 'changes';
  return 'clean';
}

/** `changes` reports real runs whose outcome is not `clean`; dry runs only with `always`. */
export function shouldReport(mode: ReportMode, summary: RunSummary): boolean {
  if (mode === 'off') return false;
  if (mode === 'always') return true;
  return !summary.dryRun && runOutcome(summary) !== 'clean';
}
