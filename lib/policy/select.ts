/**
 * Which listed items of one listing go (one kind in one target: tasks, task groups or sync tasks):
 * the README's "Selection, exactly", as a pure function of plain data, the same for every kind (lib/oms/kinds.ts
 * says what differs). No I/O, no clock: `nowMs` is passed in. Every listed item lands in exactly one bucket
 * (selected, protected, kept, skipped, or untouched, which is counted nowhere but in `listed`). A rule only ever
 * covers items of its own kind.
 */
import { KIND_MODELS, isInProgress, statusName, type Kind } from '../oms/kinds.js';
import type { Item } from '../oms/item.js';
import { knownDistinct } from '../oms/listing.js';
import { keptByWindows } from './keep-latest.js';
import { compileProtection } from './protection.js';
import { compileRule, EXPLICIT_PURGE_RULE } from './rule-match.js';
import type { CompiledRule } from './rule-match.js';
import { compareTaskIds } from './task-id.js';
import type { Candidate, PlannedTask, Policy, SelectionOptions, SkipReason, TargetSelection } from './types.js';

export { applyRunCap } from './run-cap.js';

type SelectionPolicy = Pick<Policy, 'rules' | 'protect' | 'limits'>;
type Buckets = Omit<TargetSelection, 'listed' | 'refused' | 'overLimit'>;

export function select(
  items: readonly Item[],
  policy: SelectionPolicy,
  nowMs: number,
  options: SelectionOptions = {},
): TargetSelection {
  if (!Number.isFinite(nowMs)) throw new TypeError(`select: nowMs must be a finite number, got ${nowMs}`);
  const listed = firstOccurrences(items);
  const isProtected = compileProtection(policy.protect);
  const buckets: Buckets = { selected: [], protected: 0, kept: 0, skipped: [] };
  const rules = policy.rules.map((rule) => compileRule(rule, options.stalledSince));
  const held = options.heldIds;
  const protectedItems = new Set(listed.filter((item) => isProtected(item) || (held !== undefined && item.id !== null && held.has(item.id))));
  // The keepLatest windows over the whole listing, for rule runs and explicit purges alike: "a task kept by any rule
  // is never deleted" holds for both.
  const kept = keptByWindows(listed, protectedItems, rules);
  // An explicit purge is recognised by the presence of the list, not by its length: an empty list purges nothing
  // rather than falling back to the rules.
  if (options.planned !== undefined) byPlan(listed, options.planned, rules, nowMs, protectedItems, kept, buckets);
  else if (options.taskIds === undefined) byRules(listed, policy, rules, nowMs, protectedItems, kept, buckets);
  else byTaskIds(listed, new Set(options.taskIds), options.stopFirst === true, protectedItems, kept, buckets);
  buckets.selected.sort(oldestFirst);
  const noun = `${KIND_MODELS[listed[0]?.kind ?? 'task'].noun}s`;
  return { listed: listed.length, ...buckets, ...blastRadius(buckets.selected.length, listed.length, policy, options, noun) };
}

/**
 * A test, item by item, that holds for every item `select` can select from a listing of its kind with these options:
 * a superset, judged without the whole listing (keepLatest windows and groups held by a protected member need it).
 * It lets a run keep something for each possible candidate while the listing streams in (lib/archive/records.ts)
 * instead of for each listed item. Same rules, protection and modes as `select`.
 */
export function mayBeSelected(policy: SelectionPolicy, nowMs: number, options: SelectionOptions = {}): (item: Item) => boolean {
  const isProtected = compileProtection(policy.protect);
  const rules = policy.rules.map((rule) => compileRule(rule, options.stalledSince));
  const ruleTakes = (item: Item) => typeof firstMatchingRule(rules, item, nowMs) === 'object';
  const { planned, taskIds } = options;
  if (planned !== undefined) return (item) => item.id !== null && planned.has(item.id) && !isProtected(item) && ruleTakes(item);
  if (taskIds !== undefined) {
    const named = new Set(taskIds);
    const stopFirst = options.stopFirst === true;
    return (item) =>
      item.kind === 'task' &&
      item.id !== null &&
      named.has(item.id) &&
      !isProtected(item) &&
      statusName(item.kind, item.status) !== undefined &&
      (stopFirst || !isInProgress(item.kind, item.status));
  }
  return (item) => item.id !== null && !isProtected(item) && ruleTakes(item);
}

function byRules(
  items: readonly Item[],
  policy: SelectionPolicy,
  rules: readonly CompiledRule[],
  nowMs: number,
  protectedItems: ReadonlySet<Item>,
  kept: ReadonlySet<Item>,
  out: Buckets,
): void {
  const watched = new Set(policy.rules.flatMap((rule) => rule.statuses.map((status) => `${rule.kind}:${status}`)));

  for (const item of items) {
    if (protectedItems.has(item)) {
      out.protected += 1;
      continue;
    }
    const status = statusName(item.kind, item.status);
    const id = item.id;
    if (id === null) skip(out, item, 'malformed-id');
    else if (status === undefined) skip(out, item, 'unknown-status');
    else if (item.lastActivityMs === null) {
      // Reported only when a rule is about this status; an ageless item no rule is about is simply not our concern.
      if (watched.has(`${item.kind}:${status}`)) skip(out, item, 'unknown-age');
    } else byRule(item as Item & { lastActivityMs: number }, rules, nowMs, kept, out, undefined);
  }
}

/**
 * The rules' verdict on one judgeable item (known status and age, not protected): selected through the first rule
 * that matches it (stopFirst if it is busy), kept by a window, or not taken (`unmatched`: skipped with that reason,
 * or, for a rule run, simply left out). Rule runs and manifests share it: a manifest never selects otherwise.
 */
function byRule(item: Item & { lastActivityMs: number }, rules: readonly CompiledRule[], nowMs: number, kept: ReadonlySet<Item>, out: Buckets, unmatched: SkipReason | undefined): void {
  const rule = firstMatchingRule(rules, item, nowMs);
  if (rule === 'needs-stop-first') skip(out, item, 'in-progress-without-stop-first');
  else if (rule === undefined) {
    if (unmatched !== undefined) skip(out, item, unmatched);
  } else if (kept.has(item)) out.kept += 1;
  else out.selected.push({ item: withId(item), rule: rule.name, lastActivityMs: item.lastActivityMs });
}

/**
 * The first rule, in policy order, that matches. An in-progress item is only taken by a rule with stopFirst: the
 * schema already refuses other rules naming such statuses, and this keeps a hand-built policy just as safe.
 */
function firstMatchingRule(rules: readonly CompiledRule[], item: Item, nowMs: number) {
  const matching = rules.filter((compiled) => compiled.matches(item, nowMs));
  if (matching.length === 0) return undefined;
  const usable = isInProgress(item.kind, item.status) ? matching.filter((compiled) => compiled.rule.stopFirst) : matching;
  return usable[0]?.rule ?? 'needs-stop-first';
}

/**
 * Explicit purge: the named listed items, whether or not a rule describes them and whatever their age. Protection
 * and the keepLatest windows still apply (a named item a window keeps counts in `kept`). Ids name migration tasks
 * only: an item of another kind is never selected by one, even if its id reads the same.
 */
function byTaskIds(
  items: readonly Item[],
  named: ReadonlySet<string>,
  stopFirst: boolean,
  protectedItems: ReadonlySet<Item>,
  kept: ReadonlySet<Item>,
  out: Buckets,
): void {
  for (const item of items) {
    const id = item.id;
    // Ids are compared exactly as typed: `0042` must not purge task 42 (lib/oms/item.ts refuses such ids as
    // malformed for the same reason). A malformed id named by its printed form is reported, never selected.
    if (item.kind !== 'task' || !named.has(id ?? item.idText)) continue;
    if (protectedItems.has(item)) out.protected += 1;
    else if (id === null) skip(out, item, 'malformed-id');
    else if (statusName(item.kind, item.status) === undefined) skip(out, item, 'unknown-status');
    else if (isInProgress(item.kind, item.status) && !stopFirst) skip(out, item, 'in-progress-without-stop-first');
    else if (kept.has(item)) out.kept += 1;
    // The age does not matter here; an unknown one sorts first, as the oldest.
    else {
      out.selected.push({ item: withId(item), rule: EXPLICIT_PURGE_RULE, lastActivityMs: item.lastActivityMs ?? 0 });
    }
  }
}

/**
 * Applying a manifest: only planned items, each only if the listing shows it exactly as planned (what rules match on,
 * status, last activity; anything else is `changed-since-plan`) and the *current* policy selects it as it is now,
 * exactly as a rule run would: a rule of its kind matches it (status, patterns, age at `nowMs`), an in-progress one
 * only through a rule with stopFirst, and no protection or keepLatest window keeps it. The manifest can only take
 * items out of what the policy selects, never add any: its `rule`, `action` and `createdAt` decide nothing. A
 * planned item no current rule matches is left alone (`no-rule-now`); a listed item the plan did not name (one
 * created since) is never touched, whatever the rules say. A selected item carries the rule that matched now.
 */
function byPlan(
  items: readonly Item[],
  planned: ReadonlyMap<string, PlannedTask>,
  rules: readonly CompiledRule[],
  nowMs: number,
  protectedItems: ReadonlySet<Item>,
  kept: ReadonlySet<Item>,
  out: Buckets,
): void {
  for (const item of items) {
    const id = item.id;
    const plan = id === null ? undefined : planned.get(id);
    if (id === null || plan === undefined) continue;
    const status = statusName(item.kind, item.status);
    if (protectedItems.has(item)) out.protected += 1;
    else if (status === undefined) skip(out, item, 'unknown-status');
    else if (!unchanged(item, status, plan) || item.lastActivityMs === null) skip(out, item, 'changed-since-plan');
    else byRule(item as Item & { lastActivityMs: number }, rules, nowMs, kept, out, 'no-rule-now');
  }
}

/** Listed as planned: everything a rule or a protection matches on, the status and the last activity. */
function unchanged(item: Item, status: string, plan: PlannedTask): boolean {
  return (
    item.name === plan.name &&
    (item.description ?? '') === (plan.description ?? '') &&
    (item.srcBucket ?? '') === (plan.srcBucket ?? '') &&
    (item.dstBucket ?? '') === (plan.dstBucket ?? '') &&
    status === plan.status &&
    item.lastActivityMs === plan.lastActivityMs
  );
}

/**
 * The listed record itself, typed as having an id (the caller checked it is not null): a candidate shares its
 * item's storage instead of copying it (100,000 copies are 8 MB). Item records are never changed after parsing.
 */
function withId(item: Item): Item & { id: string } {
  return item as Item & { id: string };
}

function skip(out: Buckets, item: Item, reason: SkipReason): void {
  out.skipped.push({ idText: item.idText, reason });
}

/**
 * Each valid id once, at its first occurrence. The client de-duplicates already; this guard keeps a repeated id
 * from being selected twice, from filling two window slots, and from inflating `listed` (which would loosen the
 * blast-radius limit). Tasks without a valid id cannot be compared, so each one counts.
 */
function firstOccurrences(items: readonly Item[]): readonly Item[] {
  if (knownDistinct(items)) return items; // a listing of the client's, de-duplicated as it was read (lib/oms/listing.ts)
  // By kind and id: a group and a task may carry the same id text and are still two items.
  const seen: Record<Kind, Set<string>> = { task: new Set(), taskGroup: new Set(), syncTask: new Set() };
  return items.filter((item) => {
    if (item.id === null) return true;
    const ids = seen[item.kind];
    if (ids.has(item.id)) return false;
    ids.add(item.id);
    return true;
  });
}

/** Oldest last activity first; ties: smaller id first. Also the order in which deletions run. */
export function oldestFirst(a: Candidate, b: Candidate): number {
  return a.lastActivityMs - b.lastActivityMs || compareTaskIds(a.item.id, b.item.id);
}

function blastRadius(
  selected: number,
  listed: number,
  policy: SelectionPolicy,
  options: SelectionOptions,
  noun: string,
): Pick<TargetSelection, 'refused' | 'overLimit'> {
  if (!overLimit(selected, listed, policy.limits)) return { refused: false };
  const max = policy.limits.maxDeletePercent;
  const percent = (selected * 100) / listed;
  const rounded = Number(percent.toFixed(2));
  const shown = String(rounded > max ? rounded : percent);
  return {
    refused: options.force !== true,
    overLimit: `${selected} of ${listed} listed ${noun} (${shown}%) were selected, more than limits.maxDeletePercent (${max}%, judged above limits.percentFloor: ${policy.limits.percentFloor})`,
  };
}

/**
 * Whether a selection of `selected` items out of `listed` is over the blast-radius limit: more than
 * limits.percentFloor items, and more than limits.maxDeletePercent of the listing. Compared as
 * selected * 100 > max * listed, without a division: on the exact boundary (not "exceeds") the only rounding left can
 * err towards refusing. A NaN limit from a hand-built policy counts as over.
 */
export function overLimit(selected: number, listed: number, limits: Pick<Policy['limits'], 'maxDeletePercent' | 'percentFloor'>): boolean {
  return !(listed === 0 || selected <= limits.percentFloor || selected * 100 <= limits.maxDeletePercent * listed);
}
