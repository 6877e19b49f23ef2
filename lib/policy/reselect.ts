/**
 * Whether an item that a look shows changed since it was selected is still one the run would select. The run judged
 * it on its listed state; when OMS then answers a pause with OMS.0066 or a delete with OMS.0063, the item is looked
 * at again and acted on as it is now, but only if this says it is still selected. Pure, like `select`.
 */
import { isInProgress, statusName } from '../oms/kinds.js';
import type { Item } from '../oms/item.js';
import { compileProtection } from './protection.js';
import { compileRule, EXPLICIT_PURGE_RULE } from './rule-match.js';
import type { Candidate, Policy, SelectionOptions } from './types.js';

/**
 * Judged as selection would judge the item alone:
 * - not protected now (any protection, and the held ids of the selection), and a known status;
 * - rules: the rule that selected it still matches it as it is now (kind, status, patterns, age at `nowMs`) and, if
 *   it is now in progress, has stopFirst; an explicit purge (`task-id`): stopFirst if in progress;
 * - a manifest's item was reviewed as listed: any change takes it out;
 * - keepLatest windows need the whole listing, so a change that could move the item into one (a rule with
 *   keepLatest covers it now, and either did not cover it as listed or its last activity moved) takes it out too.
 * Whatever is taken out is left for the next run, whose listing judges it whole.
 */
export function stillSelected(
  candidate: Candidate,
  now: Item,
  policy: Pick<Policy, 'rules' | 'protect'>,
  nowMs: number,
  options: Pick<SelectionOptions, 'stopFirst' | 'planned' | 'heldIds' | 'stalledSince'> = {},
): boolean {
  const listed = candidate.item;
  if (now.kind !== listed.kind || now.id !== listed.id) return false;
  if (statusName(now.kind, now.status) === undefined) return false;
  if (compileProtection(policy.protect)(now) || options.heldIds?.has(listed.id) === true) return false;
  if (options.planned !== undefined) return false;
  const rules = policy.rules.map((rule) => compileRule(rule, options.stalledSince));
  const windowMoved = rules.some(
    (compiled) => compiled.rule.keepLatest > 0 && compiled.covers(now) && (!compiled.covers(listed) || now.lastActivityMs !== listed.lastActivityMs),
  );
  if (windowMoved) return false;
  const busy = isInProgress(now.kind, now.status);
  if (candidate.rule === EXPLICIT_PURGE_RULE) return !busy || options.stopFirst === true;
  const rule = rules.find((compiled) => compiled.rule.name === candidate.rule && compiled.rule.kind === now.kind);
  return rule !== undefined && rule.matches(now, nowMs) && (!busy || rule.rule.stopFirst);
}
