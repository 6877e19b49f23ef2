/**
 * Which listed tasks of one target go: shared/spec.md "Selection, exactly", as a pure function of plain data. No
 * I/O, no clock: `nowMs` is passed in. Every listed task lands in exactly one bucket (selected, protected, kept,
 * skipped, or untouched, which is counted nowhere but in `listed`).
 */
import { isInProgress, statusName } from '../oms/status.js';
import type { Task } from '../oms/task.js';
import { keptByWindows } from './keep-latest.js';
import { compileProtection } from './protection.js';
import { compileRule, EXPLICIT_PURGE_RULE } from './rule-match.js';
import type { CompiledRule } from './rule-match.js';
import { compareTaskIds } from './task-id.js';
import type { Candidate, PlannedTask, Policy, SelectionOptions, SkipReason, TargetSelection } from './types.js';

export { applyRunCap } from './run-cap.js';

type SelectionPolicy = Pick<Policy, 'rules' | 'protect' | 'limits'>;
type Buckets = Omit<TargetSelection, 'listed' | 'refused' | 'refusal'>;

export function select(
  tasks: readonly Task[],
  policy: SelectionPolicy,
  nowMs: number,
  options: SelectionOptions = {},
): TargetSelection {
  if (!Number.isFinite(nowMs)) throw new TypeError(`select: nowMs must be a finite number, got ${nowMs}`);
  const listed = firstOccurrences(tasks);
  const isProtected = compileProtection(policy.protect);
  const buckets: Buckets = { selected: [], protected: 0, kept: 0, skipped: [] };
  const rules = policy.rules.map(compileRule);
  const protectedTasks = new Set(listed.filter(isProtected));
  // The keepLatest windows over the whole listing, for rule runs and explicit purges alike: "a task kept by any rule
  // is never deleted" holds for both.
  const kept = keptByWindows(listed.filter((task) => !protectedTasks.has(task)), rules);
  // An explicit purge is recognised by the presence of the list, not by its length: an empty list purges nothing
  // rather than falling back to the rules.
  if (options.planned !== undefined) byPlan(listed, options.planned, protectedTasks, kept, buckets);
  else if (options.taskIds === undefined) byRules(listed, policy, rules, nowMs, protectedTasks, kept, buckets);
  else byTaskIds(listed, new Set(options.taskIds), options.stopFirst === true, protectedTasks, kept, buckets);
  buckets.selected.sort(oldestFirst);
  return { listed: listed.length, ...buckets, ...blastRadius(buckets.selected.length, listed.length, policy, options) };
}

function byRules(
  tasks: readonly Task[],
  policy: SelectionPolicy,
  rules: readonly CompiledRule[],
  nowMs: number,
  protectedTasks: ReadonlySet<Task>,
  kept: ReadonlySet<string>,
  out: Buckets,
): void {
  const watched = new Set(policy.rules.flatMap((rule) => rule.statuses));

  for (const task of tasks) {
    if (protectedTasks.has(task)) {
      out.protected += 1;
      continue;
    }
    const status = statusName(task.status);
    const id = task.id;
    if (id === null) skip(out, task, 'malformed-id');
    else if (status === undefined) skip(out, task, 'unknown-status');
    else if (task.lastActivityMs === null) {
      // Reported only when a rule is about this status; an ageless task no rule is about is simply not our concern.
      if (watched.has(status)) skip(out, task, 'unknown-age');
    } else {
      const rule = firstMatchingRule(rules, task, nowMs);
      if (rule === 'needs-stop-first') skip(out, task, 'in-progress-without-stop-first');
      else if (rule === undefined) continue;
      else if (kept.has(id)) out.kept += 1;
      else out.selected.push({ task: withId(task), rule: rule.name, lastActivityMs: task.lastActivityMs });
    }
  }
}

/**
 * The first rule, in policy order, that matches. An in-progress task is only taken by a rule with stopFirst: the
 * schema already refuses other rules naming such statuses, and this keeps a hand-built policy just as safe.
 */
function firstMatchingRule(rules: readonly CompiledRule[], task: Task, nowMs: number) {
  const matching = rules.filter((compiled) => compiled.matches(task, nowMs));
  if (matching.length === 0) return undefined;
  const usable = isInProgress(task.status) ? matching.filter((compiled) => compiled.rule.stopFirst) : matching;
  return usable[0]?.rule ?? 'needs-stop-first';
}

/**
 * Explicit purge: the named listed tasks, whether or not a rule describes them and whatever their age. Protection
 * and the keepLatest windows still apply (a named task a window keeps counts in `kept`).
 */
function byTaskIds(
  tasks: readonly Task[],
  named: ReadonlySet<string>,
  stopFirst: boolean,
  protectedTasks: ReadonlySet<Task>,
  kept: ReadonlySet<string>,
  out: Buckets,
): void {
  for (const task of tasks) {
    const id = task.id;
    // Ids are compared exactly as typed: `0042` must not purge task 42 (lib/oms/task.ts refuses such ids as
    // malformed for the same reason). A malformed id named by its printed form is reported, never selected.
    if (!named.has(id ?? task.idText)) continue;
    if (protectedTasks.has(task)) out.protected += 1;
    else if (id === null) skip(out, task, 'malformed-id');
    else if (statusName(task.status) === undefined) skip(out, task, 'unknown-status');
    else if (isInProgress(task.status) && !stopFirst) skip(out, task, 'in-progress-without-stop-first');
    else if (kept.has(id)) out.kept += 1;
    // The age does not matter here; an unknown one sorts first, as the oldest.
    else {
      out.selected.push({ task: withId(task), rule: EXPLICIT_PURGE_RULE, lastActivityMs: task.lastActivityMs ?? 0 });
    }
  }
}

/**
 * Applying a manifest: only planned tasks, each only if the listing shows it exactly as planned (name, status, last
 * activity; anything else is `changed-since-plan`) and the policy does not protect or keep it now. A listed task the
 * plan did not name (one created since) is never touched, whatever the rules say. The rules are not asked again:
 * the reviewed manifest is what decides, and the policy can only take tasks out of it.
 */
function byPlan(tasks: readonly Task[], planned: ReadonlyMap<string, PlannedTask>, protectedTasks: ReadonlySet<Task>, kept: ReadonlySet<string>, out: Buckets): void {
  for (const task of tasks) {
    const id = task.id;
    const plan = id === null ? undefined : planned.get(id);
    if (id === null || plan === undefined) continue;
    const status = statusName(task.status);
    if (protectedTasks.has(task)) out.protected += 1;
    else if (status === undefined) skip(out, task, 'unknown-status');
    else if (task.name !== plan.name || status !== plan.status || task.lastActivityMs !== plan.lastActivityMs) skip(out, task, 'changed-since-plan');
    // Unchanged, so in progress only when the plan said so; this keeps a hand-edited manifest from deleting a
    // running migration without its pause.
    else if (isInProgress(task.status) && !plan.pauseFirst) skip(out, task, 'in-progress-without-stop-first');
    else if (kept.has(id)) out.kept += 1;
    else out.selected.push({ task: withId(task), rule: plan.rule, lastActivityMs: plan.lastActivityMs });
  }
}

/**
 * The listed record itself, typed as having an id (the caller checked it is not null): a candidate shares its
 * task's storage instead of copying it (100,000 copies are 8 MB). Task records are never changed after parsing.
 */
function withId(task: Task): Task & { id: string } {
  return task as Task & { id: string };
}

function skip(out: Buckets, task: Task, reason: SkipReason): void {
  out.skipped.push({ idText: task.idText, reason });
}

/**
 * Each valid id once, at its first occurrence. The client de-duplicates already; this guard keeps a repeated id
 * from being selected twice, from filling two window slots, and from inflating `listed` (which would loosen the
 * blast-radius limit). Tasks without a valid id cannot be compared, so each one counts.
 */
function firstOccurrences(tasks: readonly Task[]): Task[] {
  const seen = new Set<string>();
  return tasks.filter((task) => {
    if (task.id === null) return true;
    if (seen.has(task.id)) return false;
    seen.add(task.id);
    return true;
  });
}

/** Oldest last activity first; ties: smaller id first. Also the order in which deletions run. */
export function oldestFirst(a: Candidate, b: Candidate): number {
  return a.lastActivityMs - b.lastActivityMs || compareTaskIds(a.task.id, b.task.id);
}

function blastRadius(
  selected: number,
  listed: number,
  policy: SelectionPolicy,
  options: SelectionOptions,
): Pick<TargetSelection, 'refused' | 'refusal'> {
  const max = policy.limits.maxDeletePercent;
  // Compared as selected * 100 <= max * listed, without a division: on the exact boundary (not "exceeds") the
  // only rounding left can err towards refusing. A NaN limit from a hand-built policy refuses too.
  if (listed === 0 || options.force === true || selected * 100 <= max * listed) return { refused: false };
  const percent = (selected * 100) / listed;
  const rounded = Number(percent.toFixed(2));
  const shown = String(rounded > max ? rounded : percent);
  return {
    refused: true,
    refusal:
      `${selected} of ${listed} listed tasks (${shown}%) were selected, more than limits.maxDeletePercent ` +
      `(${max}%): the target is refused and nothing in it is touched; force the run to override.`,
  };
}
