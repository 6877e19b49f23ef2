import type { Outcome } from '../lib/purge/outcome.js';
import type { RunSummary } from '../lib/purge/summary.js';
import type { Candidate } from '../lib/policy/types.js';
import { isInProgress, statusName } from '../lib/oms/status.js';
import { alignColumns, forTerminal } from '../lib/log/terminal.js';

/** One row of the `plan` table: a task the run would delete, defer, or (its target refused) leave alone. */
export interface PlanRow {
  target: string;
  candidate: Candidate;
  /** `delete`, `deferred (run-cap)`, `refused (over maxDeletePercent)`, … */
  action: string;
}

/** The plan's ACTION for a task's outcome. */
export function planAction(outcome: Outcome, candidate: Candidate): string {
  if (outcome.kind === 'deferred') return `deferred (${outcome.reason})`;
  // An in-progress task (a stopFirst rule) is paused first, as the manifest's `pause-then-delete` says.
  return isInProgress(candidate.task.status) ? 'pause, then delete' : 'delete';
}

/** The ACTION of the tasks of a refused target: listed so that the selection can be reviewed before forcing it. */
export const REFUSED_ACTION = 'refused (over maxDeletePercent)';

/** Left-aligned text columns; numbers right-aligned. Every cell is escaped for the terminal (lib/log/terminal.ts). */
export function table(header: string[], rawRows: string[][], numeric: boolean[] = []): string {
  const rows = rawRows.map((row) => row.map(forTerminal));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return alignColumns([header, widths.map((w) => '-'.repeat(w)), ...rows], numeric).join('\n');
}

/** `3d 4h`, `5h 2m`, `42m`, `17s`: enough precision to judge a retention rule. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.floor(ms / 1000);
  const [d, h, m] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** The plan as records, oldest first per target: the table's rows, and `plan --json`'s `plan` array. */
export function planRecords(rows: PlanRow[], nowMs: number) {
  return [...rows]
    .sort((a, b) => a.target.localeCompare(b.target) || a.candidate.lastActivityMs - b.candidate.lastActivityMs)
    .map(({ target, candidate, action }) => ({
      target,
      taskId: candidate.task.id,
      name: candidate.task.name,
      status: statusName(candidate.task.status) ?? String(candidate.task.status),
      ageMs: candidate.task.lastActivityMs === null ? null : nowMs - candidate.task.lastActivityMs,
      rule: candidate.rule,
      action,
    }));
}

/** `unlisted`: targets whose listing failed, so that an empty plan is not mistaken for "nothing to do". */
export function planTable(rows: PlanRow[], nowMs: number, unlisted: string[] = []): string {
  if (rows.length === 0) return unlisted.length > 0 ? `Nothing selected, but ${unlisted.join(', ')} could not be listed (see NOTES below).` : 'Nothing to delete.';
  return table(
    ['TARGET', 'ID', 'NAME', 'STATUS', 'AGE', 'RULE', 'ACTION'],
    planRecords(rows, nowMs).map((r) => [r.target, r.taskId, truncate(r.name, 40), r.status, r.ageMs === null ? '?' : formatAge(r.ageMs), r.rule, r.action]),
  );
}

/**
 * The readable summary. `howToForce` says, per refused target, how to let it through once its selection has been
 * reviewed (the exact command).
 */
export function summaryText(summary: RunSummary, command: 'plan' | 'purge' | 'apply' = 'purge', howToForce?: (target: string) => string): string {
  const rows = summary.targets.map((t) => [
    t.name,
    String(t.listed),
    String(t.selected),
    String(t.deleted),
    String(t.failed),
    String(t.deferred),
    // A target that stopped or could not be listed says why; "more next run" is only true of one that was cut short.
    t.error ?? [t.refused ? 'REFUSED (maxDeletePercent)' : '', t.truncated ? 'incomplete: more next run' : ''].filter(Boolean).join('; '),
  ]);
  const tt = summary.totals;
  rows.push(['total', String(tt.listed), String(tt.selected), String(tt.deleted), String(tt.failed), String(tt.deferred), `${tt.protected} protected, ${tt.skipped} skipped`]);
  const head = summary.dryRun
    ? `Dry run ${summary.runId}: nothing was changed. ${command === 'plan' ? 'Run `oms-janitor purge --no-dry-run` to delete.' : 'Add --no-dry-run to delete.'}`
    : `Run ${summary.runId}: ${tt.deleted} deleted, ${tt.failed} failed, ${tt.deferred} deferred.`;
  const failures = summary.targets.flatMap((t) =>
    t.failures.slice(0, 10).map((f) => forTerminal(`  ${t.name} ${f.taskId}: ${f.httpStatus || f.reason} ${f.errorCode} ${f.errorMsg}`.trimEnd())),
  );
  const refused = summary.targets.filter((t) => t.refused);
  const guidance = refused.length
    ? [
        '',
        command === 'apply'
          ? 'Refused: the planned tasks still there are over limits.maxDeletePercent of the listed tasks. Nothing in the target was touched:'
          : `Refused: the selection is over limits.maxDeletePercent of the listed tasks. Review it (\`oms-janitor plan\` lists it), then force it:`,
        ...refused.map((t) => forTerminal(`  ${howToForce?.(t.name) ?? `--force (target ${t.name})`}`)),
      ]
    : [];
  const named = [
    ...(summary.notFound?.length ? ['', `Named tasks that no listing holds (nothing was done with them): ${forTerminal(summary.notFound.join(', '))}`] : []),
    ...(summary.notSelected?.length ? ['', `Named tasks left alone (protected, or kept by a keepLatest window): ${forTerminal(summary.notSelected.join(', '))}`] : []),
    ...(summary.alreadyGone?.length ? ['', `Planned tasks already gone (nothing to do): ${forTerminal(summary.alreadyGone.join(', '))}`] : []),
  ];
  return [
    head,
    '',
    table(['TARGET', 'LISTED', 'SELECTED', 'DELETED', 'FAILED', 'DEFERRED', 'NOTES'], rows, [false, true, true, true, true, true, false]),
    ...(failures.length ? ['', 'Failures (first 10 per target; all are in the logs):', ...failures] : []),
    ...guidance,
    ...named,
  ].join('\n');
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
