import { allKindsTotals, kindRows, type KindRow, type RunSummary, type TargetSummary } from '../purge/summary.js';
import type { CollectedOutcomes, ReportFailure } from './collector.js';
import { runOutcome, type RunOutcome } from './outcome.js';
import { alignColumns } from '../log/terminal.js';
import { cell, plural, snsSubject, travellingBytes } from './text.js';

export interface ReportContext {
  stage: string;
  /** The log group holding the run's lines (AWS_LAMBDA_LOG_GROUP_NAME in Lambda). */
  logGroup: string;
  /** How the run was started: `scheduled` or `manual`. */
  trigger: string;
  /** The Redactor's text(): applied to every value taken from the run, and to the whole text at the end. */
  redact: (text: string) => string;
  /** Bytes the body may take inside the message, as it travels (JSON-escaped). Default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

export interface RenderedReport {
  subject: string;
  /** Plain text: what an e-mail subscription shows. */
  body: string;
  outcome: RunOutcome;
  /** The message attributes, for subscription filter policies. */
  attributes: { stage: string; outcome: RunOutcome };
  failuresListed: number;
  /** Failures of the run not listed in the body (over the cap or the byte budget); the logs have them. */
  failuresOmitted: number;
}

/** SNS takes 256 KiB per message (the Chatbot part and the JSON around it included): the body keeps well below. */
export const MAX_BODY_BYTES = 200 * 1024;
export const MAX_TARGET_ROWS = 100;
export const MAX_ERROR_LINES = 20;
const RESERVE_BYTES = 512; // the "… more failures" line and what redaction may add

/**
 * The Logs Insights query that lists everything one run did to its tasks (docs/operations.md section 9): the outcome
 * lines, and the summary lines of what it deferred untouched (count, byReason, firstIds; docs/behaviour.md "Logs").
 */
export function runQuery(runId: string): string[] {
  return [
    'fields @timestamp, outcome, summary, reason, byReason, count, firstIds, target, kind, taskId, taskGroupId, syncTaskId, name, status, rule, detail, httpStatus, errorCode, errorMsg',
    `| filter function_request_id = ${JSON.stringify(runId)} and (ispresent(outcome) or ispresent(summary))`,
    '| sort @timestamp asc',
    '| limit 10000',
  ];
}

/** `120 deleted, 2 failed`: what the subject says after the stage; only what happened, deleted always. */
export function headline(summary: RunSummary): string {
  // Every kind counts: 118 tasks and 2 task groups deleted are 120 deleted.
  const t = allKindsTotals(summary);
  const refused = summary.targets.filter((target) => kindRows(target).some((r) => r.refused)).length;
  const stopped = summary.targets.filter((target) => kindRows(target).some((r) => r.error !== undefined)).length;
  const parts = [summary.dryRun ? `dry run, ${t.selected} would be deleted` : `${t.deleted} deleted`];
  if (t.failed > 0) parts.push(`${t.failed} failed`);
  if (t.deferred > 0) parts.push(`${t.deferred} deferred`);
  if (refused > 0) parts.push(`${plural(refused, 'target')} refused`);
  if (stopped > 0) parts.push(`${plural(stopped, 'target')} stopped`);
  return parts.join(', ');
}

export function reportSubject(summary: RunSummary, stage: string): string {
  return snsSubject(`OMS Task Janitor ${stage}: ${headline(summary)}`);
}

/** A pure function of the run: the same summary and outcomes always give the same message. */
export function renderReport(summary: RunSummary, collected: CollectedOutcomes, ctx: ReportContext): RenderedReport {
  const redact = ctx.redact;
  const safe = (text: string, maxChars: number) => cell(redact(text), maxChars);
  const outcome = runOutcome(summary);
  const stage = safe(ctx.stage, 64);

  const head = [
    `OMS Task Janitor, stage ${stage}: ${headline(summary)}.`,
    '',
    `Run:       ${safe(summary.runId, 100)} (${safe(ctx.trigger, 20)}, ${summary.dryRun ? 'a dry run: nothing was changed' : 'not a dry run'})`,
    `Started:   ${safe(summary.startedAt, 40)}`,
    `Finished:  ${safe(summary.finishedAt, 40)}`,
    `Outcome:   ${outcome}`,
    '',
    ...targetTable(summary.targets, safe),
  ];
  const tail = [...noticeLines(summary, safe), ...deferredLines(summary, collected), ...targetNotes(summary.targets, safe), '', ...queryLines(summary.runId, ctx.logGroup, safe)];

  const budget = (ctx.maxBodyBytes ?? MAX_BODY_BYTES) - RESERVE_BYTES - bytesOf(head) - bytesOf(tail);
  const listed = failureLines(collected.failures, budget, safe);
  const failed = allKindsTotals(summary).failed;
  const failuresOmitted = Math.max(0, failed - listed.count);
  const failures =
    failed === 0
      ? []
      : [
          '',
          `Failures: ${failed} (kind, target, id, status when listed, HTTP status, code, message)`,
          ...listed.lines,
          ...(failuresOmitted > 0 ? [`… and ${plural(failuresOmitted, 'more failure')} not listed here: every one is in the logs (query below).`] : []),
        ];

  return {
    subject: snsSubject(redact(reportSubject(summary, ctx.stage))),
    body: redact([...head, ...failures, ...tail].join('\n')),
    outcome,
    attributes: { stage, outcome },
    failuresListed: listed.count,
    failuresOmitted,
  };
}

function bytesOf(lines: readonly string[]): number {
  return lines.reduce((sum, line) => sum + travellingBytes(line), 0);
}

function rowState(row: KindRow): string {
  if (row.error !== undefined) return 'stopped';
  if (row.refused) return 'refused';
  return row.truncated ? 'incomplete' : 'ok';
}

/** A row per target and kind; the KIND column only when the run had task groups or sync tasks. */
function targetTable(targets: readonly TargetSummary[], safe: (text: string, maxChars: number) => string): string[] {
  const numbers = (t: { listed: number; selected: number; deleted: number; failed: number; deferred: number }) =>
    [t.listed, t.selected, t.deleted, t.failed, t.deferred].map(String);
  const shown = targets.slice(0, MAX_TARGET_ROWS);
  const kinds = targets.some((t) => kindRows(t).length > 1);
  const total = { listed: 0, selected: 0, deleted: 0, failed: 0, deferred: 0 };
  for (const row of targets.flatMap(kindRows)) for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += row[key];
  const rows = [
    ['TARGET', ...(kinds ? ['KIND'] : []), 'LISTED', 'SELECTED', 'DELETED', 'FAILED', 'DEFERRED', 'STATE'],
    ...shown.flatMap((t) => kindRows(t).map((r) => [safe(t.name, 100), ...(kinds ? [r.kind] : []), ...numbers(r), rowState(r)])),
    ...(targets.length > 1 || kinds ? [['TOTAL', ...(kinds ? [''] : []), ...numbers(total), '']] : []),
  ];
  const lines = alignColumns(rows, [false, ...(kinds ? [false] : []), true, true, true, true, true, false]);
  if (targets.length > shown.length) lines.push(`… and ${plural(targets.length - shown.length, 'more target')} (in the run summary)`);
  return lines;
}

/** The failure table, as many rows as `budgetBytes` holds (widths from every collected failure, so rows align). */
function failureLines(failures: readonly ReportFailure[], budgetBytes: number, safe: (text: string, maxChars: number) => string): { lines: string[]; count: number } {
  if (failures.length === 0) return { lines: [], count: 0 };
  const rows = [
    ['KIND', 'TARGET', 'ID', 'STATUS', 'HTTP', 'CODE', 'MESSAGE'],
    ...failures.map((f) => [
      safe(f.kind, 20),
      safe(f.target, 100),
      safe(f.id, 40),
      safe(f.status, 20),
      f.httpStatus === 0 ? '-' : String(f.httpStatus),
      safe(f.code || f.reason || '-', 40),
      safe(f.message || '-', 400),
    ]),
  ];
  const all = alignColumns(rows, [false, false, false, false, true, false, false]);
  const lines: string[] = [];
  let used = 0;
  for (const line of all) {
    used += travellingBytes(line);
    if (used > budgetBytes) break;
    lines.push(line);
  }
  return { lines, count: Math.max(0, lines.length - 1) };
}

function deferredLines(summary: RunSummary, collected: CollectedOutcomes): string[] {
  const deferred = allKindsTotals(summary).deferred;
  if (deferred === 0) return [];
  const reasons = Object.entries(collected.deferredByReason)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const next = summary.dryRun ? 'a real run would leave them for the next run' : 'the next run picks them up';
  return ['', `Deferred: ${deferred}, ${next}${reasons ? ` (${reasons})` : ''}.`];
}

function targetNotes(targets: readonly TargetSummary[], safe: (text: string, maxChars: number) => string): string[] {
  // One line per stopped target, or per kind that could not be listed when the target itself went on.
  const stopped = targets.flatMap((t) => {
    if (t.error !== undefined) return [{ name: t.name, error: t.error }];
    return kindRows(t).flatMap((r) => (r.error === undefined ? [] : [{ name: `${t.name} (${r.kind})`, error: r.error }]));
  });
  const refused = targets.flatMap((t) => kindRows(t).filter((r) => r.refused).map((r) => (r.kind === 'task' ? t.name : `${t.name} (${r.kind})`)));
  const lines: string[] = [];
  if (stopped.length > 0) {
    lines.push('', 'Stopped (nothing more was done in them):');
    for (const t of stopped.slice(0, MAX_ERROR_LINES)) lines.push(`  ${safe(t.name, 140)}: ${safe(t.error, 400)}`);
    if (stopped.length > MAX_ERROR_LINES) lines.push(`  … and ${plural(stopped.length - MAX_ERROR_LINES, 'more')}`);
  }
  if (refused.length > 0) {
    const names = refused.slice(0, MAX_ERROR_LINES).map((name) => safe(name, 140));
    const more = refused.length > MAX_ERROR_LINES ? ` and ${refused.length - MAX_ERROR_LINES} more` : '';
    lines.push('', `Refused (selection above maxDeletePercent, nothing touched; docs/operations.md section 8): ${names.join(', ')}${more}.`);
  }
  return lines;
}

/**
 * A notice window's announcement: how many items are pending per target and kind, when they may go at the earliest,
 * and the first of them with names, so that whoever still needs one can protect it in time.
 */
function noticeLines(summary: RunSummary, safe: (text: string, maxChars: number) => string): string[] {
  const n = summary.notice;
  if (n === undefined) return [];
  return [
    '',
    `Notice: ${plural(n.pending, 'item')} announced and pending (${n.added} new this run). To keep one, protect it in the policy before its time.`,
    ...(n.written ? [] : ['  The notice could not be written this run (see the log): the next run announces again.']),
    ...n.byTarget.map((g) => `  ${safe(g.target, 140)} ${g.kind}: ${g.count}, the first after ${safe(g.nextDeletion, 40)}`),
    ...(n.first.length ? ['', `The first ${n.first.length} (kind, target, id, name, may go after):`] : []),
    ...n.first.map((f) => `  ${f.kind} ${safe(f.target, 140)} ${safe(f.id, 64)} ${safe(f.name, 80)} ${safe(f.deleteAfter, 40)}`),
  ];
}

function queryLines(runId: string, logGroup: string, safe: (text: string, maxChars: number) => string): string[] {
  return [
    `Everything this run did (every kind): CloudWatch Logs Insights on ${safe(logGroup, 512)},`,
    'over the run\'s start and finish above:',
    '',
    ...runQuery(safe(runId, 100)).map((line) => `  ${line}`),
  ];
}
