/** A retention rule prepared for matching: its statuses as a set and its patterns compiled once. */
import { KIND_MODELS, statusName } from '../oms/kinds.js';
import type { Item } from '../oms/item.js';
import { compileGlob } from './glob.js';
import type { NameMatcher } from './glob.js';
import type { Rule } from './types.js';

/** The rule label `select` gives an explicit purge (`--task-id`); a rule may not take it, or reports would lie. */
export const EXPLICIT_PURGE_RULE = 'task-id';

export interface CompiledRule {
  rule: Rule;
  /** Kind, status and patterns match, age ignored: who a rule is about (and whose keepLatest window an item is in). */
  covers(item: Item): boolean;
  /**
   * `covers` and strictly older than `olderThan` at `nowMs`. An item of unknown age never matches. A rule with
   * `noProgressFor` also needs the time since which the item's counters have not moved (`stalledSince`, from the
   * runs recorded in the archive root), strictly more than that long ago; without it the rule matches nothing.
   */
  matches(item: Item, nowMs: number, stalledSince?: (item: Item) => number | undefined): boolean;
}

/** `stalledSince`: the run's record of progress (SelectionOptions.stalledSince), used by `matches` unless it is given one. */
export function compileRule(rule: Rule, stalledSince?: (item: Item) => number | undefined): CompiledRule {
  // A delete already under way (task groups 8, 9) is never selected, even by a hand-built rule that names it.
  const statuses = new Set<string>(rule.statuses.filter((status) => !KIND_MODELS[rule.kind].deleting.includes(status)));
  // Every pattern the rule gives must match (each narrows); a field the item lacks reads as ''.
  const patterns: Array<[NameMatcher, (item: Item) => string]> = [];
  const add = (pattern: string | undefined, field: (item: Item) => string) => {
    if (pattern !== undefined) patterns.push([compileGlob(pattern), field]);
  };
  add(rule.namePattern, (item) => item.name);
  add(rule.descriptionPattern, (item) => item.description ?? '');
  add(rule.sourceBucketPattern, (item) => item.srcBucket ?? '');
  add(rule.destinationBucketPattern, (item) => item.dstBucket ?? '');
  const covers = (item: Item): boolean => {
    if (item.kind !== rule.kind) return false;
    const status = statusName(item.kind, item.status);
    return status !== undefined && statuses.has(status) && patterns.every(([matches, field]) => matches(field(item)));
  };
  return {
    rule,
    covers,
    // Strictly greater: an item exactly `olderThan` old is not yet due. A last activity in the future (clock skew)
    // gives a negative age and never matches.
    matches: (item, nowMs, since = stalledSince) =>
      item.lastActivityMs !== null && covers(item) && nowMs - item.lastActivityMs > rule.olderThanMs && (rule.noProgressForMs === undefined || stalled(item, nowMs, rule.noProgressForMs, since)),
  };
}

/** Its counters have not moved for more than `forMs` (a first sighting, or no counters at all, is never stalled). */
function stalled(item: Item, nowMs: number, forMs: number, stalledSince: ((item: Item) => number | undefined) | undefined): boolean {
  const since = stalledSince?.(item);
  return since !== undefined && nowMs - since > forMs;
}
