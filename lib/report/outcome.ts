import { allKindsTotals, kindRows, type RunSummary } from '../purge/summary.js';
import type { ReportMode } from './settings.js';

/**
 * The report's `outcome` message attribute, for subscription filter policies; the first that applies wins:
 * - `failures`: an item (of any kind) failed, or a target stopped or a kind could not be listed (listing failed, a
 *   401, 5 403s or 5 throttled requests in a row);
 * - `refused`: a target (or one kind in it) was refused (selection above maxDeletePercent);
 * - `changes`: a real run deleted or deferred items (a dry run changes nothing, so it is never `changes`);
 * - `clean`: nothing of the above (only reported with `report: always`).
 */
export const RUN_OUTCOMES = ['failures', 'refused', 'changes', 'clean'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export function runOutcome(summary: RunSummary): RunOutcome {
  const totals = allKindsTotals(summary);
  const rows = summary.targets.flatMap(kindRows);
  if (totals.failed > 0 || rows.some((r) => r.error !== undefined)) return 'failures';
  if (rows.some((r) => r.refused)) return 'refused';
  // Under a notice window, items announced for the first time are news: people must hear of them in time.
  if (!summary.dryRun && (totals.deleted > 0 || totals.deferred > 0 || (summary.notice?.added ?? 0) > 0)) return 'changes';
  return 'clean';
}

/** `changes` reports real runs whose outcome is not `clean`; dry runs only with `always`. */
export function shouldReport(mode: ReportMode, summary: RunSummary): boolean {
  if (mode === 'off') return false;
  if (mode === 'always') return true;
  return !summary.dryRun && runOutcome(summary) !== 'clean';
}
