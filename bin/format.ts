import type { Outcome } from '../lib/purge/outcome.js';
import { BLOCK_KEYS, allKindsTotals, kindRows, type RunSummary, type Totals } from '../lib/purge/summary.js';
import type { Candidate } from '../lib/policy/types.js';
import type { Item } from '../lib/oms/item.js';
import { KIND_MODELS, handlingOf, statusName, waitLabelOf, type Kind } from '../lib/oms/kinds.js';
import { alignColumns, forTerminal, shellWord } from '../lib/log/terminal.js';

/** One row of the `plan` table: a task the run would delete, defer, or (its target refused) leave alone. */
export interface PlanRow {
  target: string;
  candidate: Candidate;
  /** `delete`, `deferred (run-cap)`, `refused (over maxDeletePercent)`, … */
  action: string;
}

/**
 * The plan's ACTION for an item's outcome: what the run sends in the state the item was listed in (its kind's
 * handling, lib/oms/kinds.ts): `delete` (as it is, even a waiting task), `pause, then delete` (a sync task: `stop`),
 * or `wait (creating)` / `wait (pausing)` for a state OMS only lets a client wait out.
 */
export function planAction(outcome: Outcome, candidate: Candidate): string {
  if (outcome.kind === 'deferred') return `deferred (${outcome.reason})`;
  const { kind, status } = candidate.item;
  const handling = handlingOf(kind, status);
  if (handling === 'pause') return `${KIND_MODELS[kind].pauseVerb}, then delete`;
  if (handling === 'wait') return `wait (${waitLabelOf(kind, status) ?? 'pausing'})`;
  return 'delete';
}

/** Applying a manifest: the planned items of every kind that were not deleted and why, by id. */
function planLines(summary: RunSummary): string[] {
  const said: Array<[keyof typeof PLAN_LIST_WORDS, string, readonly string[]]> = [];
  for (const key of Object.keys(PLAN_LIST_WORDS) as (keyof typeof PLAN_LIST_WORDS)[]) {
    if (summary[key]?.length) said.push([key, 'tasks', summary[key]!]);
    for (const t of summary.targets) {
      for (const [kind, block] of Object.entries(BLOCK_KEYS) as [Kind, 'taskGroups' | 'syncTasks'][]) {
        const ids = t[block]?.[key];
        if (ids?.length) said.push([key, `${kind === 'taskGroup' ? 'task groups' : 'sync tasks'} of ${t.name}`, ids]);
      }
    }
  }
  return said.flatMap(([key, what, ids]) => ['', forTerminal(`Planned ${what} ${PLAN_LIST_WORDS[key]}: ${ids.join(', ')}`)]);
}

const PLAN_LIST_WORDS = {
  alreadyGone: 'already gone (nothing to do)',
  notFound: 'not seen: the listing is incomplete (nothing was done with them)',
  changedSincePlan: 'changed since the plan (left alone; plan again to review them)',
  noRuleNow: 'that no rule of the current policy selects now (left alone)',
} as const;

/**
 * What the headline must not leave out: targets that stopped (401, 403s, throttling, credentials), were refused (a
 * kind over maxDeletePercent) or could not be listed, so that "0 failed" never reads as "all went well".
 */
function targetNotes(summary: RunSummary): string {
  const count = (n: number, what: string) => (n === 0 ? [] : [`${n} target${n === 1 ? '' : 's'} ${what}`]);
  const rows = summary.targets.map((t) => ({ t, rows: kindRows(t) }));
  const stopped = rows.filter(({ t }) => t.error?.startsWith('stopped') === true).length;
  const refused = rows.filter(({ rows }) => rows.some((r) => r.refused)).length;
  const unlisted = rows.filter(({ t, rows }) => !t.error?.startsWith('stopped') && rows.some((r) => r.error !== undefined)).length;
  const parts = [...count(stopped, 'stopped'), ...count(refused, 'refused'), ...count(unlisted, 'not listed or held back')];
  return parts.length === 0 ? '' : `; ${parts.join(', ')}`;
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

/**
 * What a person recognises an item by: a task's name; a task group's or sync task's description, or its buckets
 * when it has none (neither has a name).
 */
export function itemLabel(item: Item): string {
  if (item.kind === 'task') return item.name;
  if (item.description) return item.description;
  return item.srcBucket || item.dstBucket ? `${item.srcBucket || '?'} -> ${item.dstBucket || '?'}` : '';
}

/**
 * The plan as records, oldest first per target: the table's rows, and `plan --json`'s `plan` array. Every record
 * says its `kind` and `id`; a task's also keeps `taskId`, as before kinds.
 */
export function planRecords(rows: PlanRow[], nowMs: number) {
  return [...rows]
    .sort((a, b) => a.target.localeCompare(b.target) || a.candidate.lastActivityMs - b.candidate.lastActivityMs)
    .map(({ target, candidate, action }) => {
      const { item } = candidate;
      return {
        target,
        kind: item.kind,
        id: item.id,
        ...(item.kind === 'task' ? { taskId: item.id } : {}),
        name: itemLabel(item),
        status: statusName(item.kind, item.status) ?? String(item.status),
        ageMs: item.lastActivityMs === null ? null : nowMs - item.lastActivityMs,
        rule: candidate.rule,
        action,
      };
    });
}

/** `unlisted`: targets whose listing failed, so that an empty plan is not mistaken for "nothing to do". */
export function planTable(rows: PlanRow[], nowMs: number, unlisted: string[] = []): string {
  if (rows.length === 0) return unlisted.length > 0 ? `Nothing selected, but ${unlisted.join(', ')} could not be listed (see NOTES below).` : 'Nothing to delete.';
  return table(
    ['TARGET', 'KIND', 'ID', 'NAME', 'STATUS', 'AGE', 'RULE', 'ACTION'],
    planRecords(rows, nowMs).map((r) => [r.target, r.kind, r.id, truncate(r.name, 40), r.status, r.ageMs === null ? '?' : formatAge(r.ageMs), r.rule, r.action]),
  );
}

/**
 * The readable summary. `howToForce` says, per refused target, how to let it through once its selection has been
 * reviewed (the exact command).
 */
export function summaryText(
  summary: RunSummary,
  command: 'plan' | 'purge' | 'apply' = 'purge',
  howToForce?: (target: string, kind: Kind) => string,
  /** The policy file, then any further words of the run's scope (`--target a`), for the hint after a plan. */
  scope?: readonly string[],
): string {
  // A KIND column only when the run had task groups or sync tasks: a tasks-only run reads as it always did.
  const kinds = summary.taskGroups !== undefined || summary.syncTasks !== undefined;
  const counts = (t: Pick<Totals, 'listed' | 'selected' | 'deleted' | 'failed' | 'deferred'>) => [t.listed, t.selected, t.deleted, t.failed, t.deferred].map(String);
  const rows = summary.targets.flatMap((t) =>
    kindRows(t).map((r) => [
      t.name,
      ...(kinds ? [r.kind] : []),
      ...counts(r),
      // A target that stopped or could not be listed says why; "more next run" is only true of one that was cut short.
      r.error ??
        [
          r.refused ? 'REFUSED (maxDeletePercent)' : '',
          r.limitOverridden ? `over maxDeletePercent, ${command === 'purge' ? 'forced' : 'accepted'}` : '',
          r.truncated ? 'incomplete: more next run' : '',
        ]
          .filter(Boolean)
          .join('; '),
    ]),
  );
  const blockKinds = Object.entries(BLOCK_KEYS) as [Kind, 'taskGroups' | 'syncTasks'][];
  const totalsByKind: [Kind, Totals][] = [['task', summary.totals]];
  for (const [kind, key] of blockKinds) {
    const block = summary[key];
    if (block) totalsByKind.push([kind, block]);
  }
  for (const [kind, tt] of totalsByKind) rows.push(['total', ...(kinds ? [kind] : []), ...counts(tt), `${tt.protected} protected, ${tt.skipped} skipped`]);
  const all = allKindsTotals(summary);
  const [file, ...rest] = scope ?? [];
  const policy = [file === undefined ? 'FILE' : shellWord(file), ...rest.map(shellWord)].join(' ');
  // `apply` takes no --target (the manifest says which targets): its hint keeps the policy and the secret only.
  const withoutTargets = rest.filter((word, i) => word !== '--target' && rest[i - 1] !== '--target');
  const applyScope = [file === undefined ? 'FILE' : shellWord(file), ...withoutTargets.map(shellWord)].join(' ');
  const anyRefused = summary.targets.some((t) => kindRows(t).some((r) => r.refused));
  const next =
    command !== 'plan'
      ? 'Add --no-dry-run to delete.'
      : anyRefused
        ? 'Some of it is refused (over limits.maxDeletePercent): below is how to delete it after review.'
        : `Run \`oms-janitor purge --policy ${policy} --no-dry-run\` to delete, or freeze this list for review: ` +
          `\`oms-janitor plan --policy ${policy} --out plan.json\`, then \`oms-janitor apply --policy ${applyScope} --manifest plan.json --no-dry-run\`.`;
  const notes = targetNotes(summary);
  const head = summary.dryRun
    ? `Dry run ${summary.runId}: nothing was changed${notes}. ${next}`
    : `Run ${summary.runId}: ${all.deleted} deleted, ${all.failed} failed, ${all.deferred} deferred${notes}.`;
  const failures = summary.targets.flatMap((t) => [
    ...t.failures.slice(0, 10).map((f) => ({ kind: 'task', id: f.taskId, f })),
    ...blockKinds.flatMap(([kind, key]) => (t[key]?.failures ?? []).slice(0, 10).map((f) => ({ kind, id: f.id, f }))),
  ].map(({ kind, id, f }) => forTerminal(`  ${t.name} ${kinds ? `${kind} ` : ''}${id}: ${f.httpStatus || f.reason} ${f.errorCode} ${f.errorMsg}`.trimEnd())));
  const refused = summary.targets.flatMap((t) => kindRows(t).filter((r) => r.refused).map((r) => ({ name: t.name, kind: r.kind })));
  const guidance = refused.length
    ? [
        '',
        command === 'apply'
          ? 'Refused: the planned items still there are over limits.maxDeletePercent of the listed ones. Nothing in the target was touched:'
          : command === 'plan'
            ? 'Refused: the selection is over limits.maxDeletePercent of the listed items (it is listed above). To delete it after review, accept it into a manifest and apply that:'
            : `Refused: the selection is over limits.maxDeletePercent of the listed items. Review it (\`oms-janitor plan\` lists it), then force it:`,
        ...refused.map((t) => forTerminal(`  ${howToForce?.(t.name, t.kind) ?? `--force ${t.kind} (target ${t.name})`}`)),
      ]
    : [];
  // An explicit purge names tasks; applying a manifest plans items of every kind.
  const named =
    command === 'apply'
      ? planLines(summary)
      : [
          ...(summary.notFound?.length ? ['', `Named tasks that no listing holds (nothing was done with them): ${forTerminal(summary.notFound.join(', '))}`] : []),
          ...(summary.notSelected?.length ? ['', `Named tasks left alone (protected, or kept by a keepLatest window): ${forTerminal(summary.notSelected.join(', '))}`] : []),
        ];
  const notice = summary.notice
    ? [
        '',
        forTerminal(
          `Notice (window ${formatWindow(summary.notice.windowMs)}): ${summary.notice.pending} item(s) announced and pending, ${summary.notice.added} new this run` +
            (summary.notice.nextDeletion ? `; the first may go after ${summary.notice.nextDeletion}` : '') +
            (summary.notice.written ? '.' : '; the notice could NOT be written (see the log): the next run announces again.'),
        ),
        ...summary.notice.byTarget.map((g) => forTerminal(`  ${g.target} ${g.kind}: ${g.count}, the first after ${g.nextDeletion}`)),
      ]
    : [];
  return [
    head,
    ...notice,
    '',
    table(
      ['TARGET', ...(kinds ? ['KIND'] : []), 'LISTED', 'SELECTED', 'DELETED', 'FAILED', 'DEFERRED', 'NOTES'],
      rows,
      [false, ...(kinds ? [false] : []), true, true, true, true, true, false],
    ),
    ...(failures.length ? ['', 'Failures (first 10 per target; all are in the logs):', ...failures] : []),
    ...guidance,
    ...named,
  ].join('\n');
}

/** A notice window as its policy-style duration: `7d`, `36h`, `90m`. */
function formatWindow(ms: number): string {
  for (const [unit, size] of [['w', 7 * 86_400_000], ['d', 86_400_000], ['h', 3_600_000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 60_000)}m`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
